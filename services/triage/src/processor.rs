//! The Kafka processor: raw tickets in, triage outputs out (the open-incident book
//! it reads is kept current by `incidents::IncidentFollower`).
//!
//! Delivery: at least once. The raw-ticket offset is committed by the
//! `ConsumerLoop` only after the triaged ticket, routed revision 1 and the ticket
//! state (or the dead letter of a bad record) are acknowledged. A replayed ticket
//! produces the same decision again (the model and rules are deterministic;
//! only a newly opened incident may add a link), with new envelope ids.
//!
//! Order of revisions: a ticket's enrichment job is handed to the worker only once
//! the loop reports revision 1 acknowledged ([`Processor::outputs_acknowledged`]), so
//! revision 2 (same key, so same partition) is always produced after revision 1 is in
//! the log, and lands after it. A replay can still repeat revision 1 after an earlier
//! revision 2: consumers keep the highest revision per ticket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opsline_events::tickets::RawTicket;
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};

use crate::enricher::EnrichmentJob;
use crate::enrichment::EnrichmentQueue;
use crate::error::TriageError;
use crate::grounding::RecentTickets;
pub use crate::incidents::SharedBook;
use crate::metrics::TriageMetrics;
use crate::routing::Router;
use crate::webhook::WebhookSender;

/// The component name in envelopes and dead letters.
pub const COMPONENT: &str = "triage";

/// Full topic names the service uses.
#[derive(Debug, Clone)]
pub struct Topics {
    /// Raw tickets (input).
    pub raw: String,
    /// Incidents (followed).
    pub incidents: String,
    /// Alerts (followed, for templates).
    pub alerts: String,
    /// Triaged tickets.
    pub triaged: String,
    /// Routed tickets.
    pub routed: String,
    /// Ticket state (compacted).
    pub state: String,
}

impl Topics {
    /// The names under `names`' prefix.
    pub fn new(names: &TopicNames) -> Self {
        Self {
            raw: names.name(&topics::RAW_TICKETS),
            incidents: names.name(&topics::INCIDENTS),
            alerts: names.name(&topics::ALERTS),
            triaged: names.name(&topics::TICKETS_TRIAGED),
            routed: names.name(&topics::TICKETS_ROUTED),
            state: names.name(&topics::TICKET_STATE),
        }
    }
}

/// Triages raw tickets.
pub struct TicketProcessor {
    pub(crate) router: Router,
    pub(crate) book: SharedBook,
    pub(crate) recent: Arc<Mutex<RecentTickets>>,
    pub(crate) enrichment: EnrichmentQueue,
    pub(crate) webhook: Option<WebhookSender>,
    pub(crate) topics: Topics,
    pub(crate) metrics: TriageMetrics,
    /// Enrichment jobs waiting for their revision 1 to be acknowledged, by raw-ticket partition and offset.
    pub(crate) awaiting_ack: HashMap<(i32, i64), EnrichmentJob>,
}

impl TicketProcessor {
    fn triage(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, TriageError> {
        let envelope = record
            .envelope::<RawTicket>()
            .map_err(|e| TriageError::InvalidInput(e.to_string()))?;
        let ticket = envelope.data;
        if ticket.ticket_id.trim().is_empty() {
            return Err(TriageError::InvalidInput("empty ticket_id".to_owned()));
        }
        let decision = {
            // A panic elsewhere cannot make the book inconsistent (single-statement updates): keep reading it.
            let book = self.book.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.router.decide(&ticket, envelope.occurred_at, &book)
        };
        let key = ticket.ticket_id.as_str();
        let trace = envelope.trace;
        let mut outputs = vec![
            OutRecord::event(
                self.topics.triaged.clone(),
                key,
                &Envelope::new(COMPONENT, decision.triaged.clone()).with_trace(trace.clone()),
            )?,
            OutRecord::event(
                self.topics.routed.clone(),
                key,
                &Envelope::new(COMPONENT, decision.routed.clone()).with_trace(trace.clone()),
            )?,
            OutRecord::event(
                self.topics.state.clone(),
                key,
                &Envelope::new(COMPONENT, decision.state.clone()).with_trace(trace),
            )?,
        ];
        self.metrics.ticket(decision.triaged.disposition);
        if decision.routed.incident_id.is_some() {
            self.metrics.incident_link();
        }
        if let Ok(mut recent) = self.recent.lock() {
            recent.remember(
                key,
                &decision.routed.queue,
                &decision.triaged.redacted_subject,
                &decision.triaged.redacted_description,
            );
        }
        if let Some(webhook) = &self.webhook
            && let Some(dead_letter) = webhook.try_offer(decision.routed.clone())
        {
            outputs.push(dead_letter);
        }
        let job = EnrichmentJob {
            subject: decision.triaged.redacted_subject,
            description: decision.triaged.redacted_description,
            routed: decision.routed,
            session: decision.session,
        };
        if self.enrichment.is_enabled() {
            self.awaiting_ack.insert((record.partition, record.offset), job);
        } else {
            self.enrichment.offer(job);
        }
        Ok(outputs)
    }
}

impl Processor for TicketProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        self.triage(record).map_err(ProcessError::from)
    }

    /// Revision 1 of the ticket at `partition`/`offset` is in the log: its enrichment may start.
    fn outputs_acknowledged(&mut self, topic: &str, partition: i32, offset: i64) {
        if topic != self.topics.raw {
            return;
        }
        if let Some(job) = self.awaiting_ack.remove(&(partition, offset)) {
            self.enrichment.offer(job);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opsline_events::Event;
    use opsline_runtime::metrics::Metrics;

    use super::*;

    #[tokio::test]
    async fn enrichment_waits_until_revision_one_is_acknowledged() {
        let metrics = TriageMetrics::register(&Metrics::new());
        let (enrichment, mut jobs) = EnrichmentQueue::detached(metrics.clone());
        let topics = Topics::new(&TopicNames::with_prefix("t."));
        let mut processor = TicketProcessor {
            router: crate::routing::tests::router(0.0),
            book: SharedBook::default(),
            recent: Arc::new(Mutex::new(RecentTickets::new(10))),
            enrichment,
            webhook: None,
            topics: topics.clone(),
            metrics,
            awaiting_ack: HashMap::new(),
        };
        let ticket = RawTicket {
            ticket_id: "T-9".into(),
            subject: "printer jammed".into(),
            description: "toner empty and paper jammed".into(),
            ..RawTicket::sample()
        };
        let record = InRecord {
            topic: topics.raw.clone(),
            partition: 2,
            offset: 41,
            key: Some(b"T-9".to_vec()),
            payload: Envelope::new("test", ticket).to_json().ok(),
            headers: Vec::new(),
            timestamp_ms: None,
        };

        let outputs = processor.process(&record).await.unwrap();
        assert!(
            outputs.iter().any(|o| o.topic == topics.routed),
            "revision 1 is an output"
        );
        assert!(
            jobs.try_recv().is_err(),
            "no enrichment before revision 1 is in the log"
        );
        processor.outputs_acknowledged(&topics.raw, 2, 40);
        processor.outputs_acknowledged(&topics.alerts, 2, 41);
        assert!(
            jobs.try_recv().is_err(),
            "another input's acknowledgement releases nothing"
        );

        processor.outputs_acknowledged(&topics.raw, 2, 41);
        let job = jobs.try_recv().unwrap().job;
        assert_eq!((job.routed.ticket_id.as_str(), job.routed.revision), ("T-9", 1));
        assert!(processor.awaiting_ack.is_empty());
    }
}
