//! Asynchronous enrichment: a bounded queue and one worker task that asks the
//! LLM gateway for a summary and a suggested reply, grounded on runbooks and
//! similar tickets, and publishes revision 2 of the routed ticket.
//!
//! Never on the routing path: revision 1 is decided and produced without it.
//! When the queue is full, the model is disabled or the call fails, the ticket
//! simply keeps revision 1 (counted in `opsline_triage_enrichments_total{outcome}`).
//! Revision 2 copies queue, priority, confidence and incident from revision 1;
//! the model's answer only fills the text fields, so a ticket that tries to talk
//! the model into another queue changes nothing but its own summary.
//!
//! Order: a job is queued only after revision 1 was acknowledged (see
//! `processor`), and revision 2 has the same key, so it lands after revision 1 in the
//! same partition without any delay. Consumers keep the highest revision per ticket
//! (a replay may repeat revision 1 after revision 2).
//!
//! Delivery: best effort (revision 2 is produced with `acks=all` but not
//! retried after a replay; a replayed ticket is enriched again, usually from the
//! gateway's cache). Only redacted text reaches the model; placeholders are
//! restored in the summary and reply for the helpdesk, except credentials
//! (`<SECRET_n>`), which are never put back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use opsline_events::Envelope;
use opsline_events::tickets::{Citation, RoutedTicket};
use opsline_kafka::{OutRecord, Producer};
use opsline_llm::{LlmGateway, StructuredRequest};
use opsline_privacy::{EntityKind, RedactionSession};
use opsline_runtime::Shutdown;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::config::EnrichmentConfig;
use crate::grounding::{ContextItem, RecentTickets, Runbooks, render};
use crate::metrics::TriageMetrics;
use crate::routing::priority_name;
use crate::webhook::WebhookSender;

/// The LLM task name (selects model, limits and price in the gateway).
pub const TASK: &str = "ticket_enrichment";
/// The prompt id in the prompt library.
pub const PROMPT_ID: &str = "ticket-enrichment";

/// The model's answer (the prompt's JSON Schema).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnrichmentAnswer {
    /// A short summary of the ticket.
    pub summary: String,
    /// A reply the helpdesk may send.
    pub suggested_reply: String,
    /// References from the context the answer relies on.
    #[serde(default)]
    pub citations: Vec<String>,
}

/// One ticket waiting for enrichment.
#[derive(Debug)]
pub struct EnrichmentJob {
    /// Revision 1, as routed.
    pub routed: RoutedTicket,
    /// Redacted subject.
    pub subject: String,
    /// Redacted description.
    pub description: String,
    /// The redaction session of the ticket (to restore the answer).
    pub session: RedactionSession,
}

/// The producer side of the queue, held by the processor.
#[derive(Debug, Clone)]
pub struct EnrichmentQueue {
    sender: Option<mpsc::Sender<EnrichmentJob>>,
    metrics: TriageMetrics,
}

impl EnrichmentQueue {
    /// A queue of `capacity` jobs and its receiving end, without a worker (tests).
    #[cfg(test)]
    pub(crate) fn detached(capacity: usize, metrics: TriageMetrics) -> (Self, mpsc::Receiver<EnrichmentJob>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (
            Self {
                sender: Some(sender),
                metrics,
            },
            receiver,
        )
    }

    /// Whether jobs are taken at all (the model is enabled).
    pub fn is_enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Offers a job; never waits. Skips (and counts) when disabled or full.
    pub fn offer(&self, job: EnrichmentJob) {
        let Some(sender) = &self.sender else {
            self.metrics.enrichment("disabled");
            return;
        };
        match sender.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(job)) => {
                tracing::debug!(ticket = %job.routed.ticket_id, "enrichment queue full; skipped");
                self.metrics.enrichment("queue_full");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.metrics.enrichment("disabled"),
        }
    }
}

/// The worker: grounding, the model call, revision 2.
pub struct EnrichmentWorker {
    llm: LlmGateway,
    runbooks: Runbooks,
    recent: Arc<Mutex<RecentTickets>>,
    producer: Producer,
    routed_topic: String,
    config: EnrichmentConfig,
    metrics: TriageMetrics,
    webhook: Option<WebhookSender>,
}

impl std::fmt::Debug for EnrichmentWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrichmentWorker")
            .field("llm", &self.llm)
            .field("routed_topic", &self.routed_topic)
            .finish_non_exhaustive()
    }
}

/// What [`EnrichmentWorker::new`] needs.
pub struct WorkerParts {
    /// The LLM gateway.
    pub llm: LlmGateway,
    /// The runbook index.
    pub runbooks: Runbooks,
    /// Recently routed tickets (shared with the processor).
    pub recent: Arc<Mutex<RecentTickets>>,
    /// Producer of revision 2.
    pub producer: Producer,
    /// The routed-tickets topic (full name).
    pub routed_topic: String,
    /// Settings.
    pub config: EnrichmentConfig,
    /// The optional helpdesk webhook.
    pub webhook: Option<WebhookSender>,
}

impl EnrichmentWorker {
    /// The queue (for the processor) and the worker (to run); no worker when the model is disabled.
    pub(crate) fn new(
        parts: WorkerParts,
        metrics: TriageMetrics,
    ) -> (EnrichmentQueue, Option<(Self, mpsc::Receiver<EnrichmentJob>)>) {
        if !parts.llm.is_enabled() {
            return (EnrichmentQueue { sender: None, metrics }, None);
        }
        let (sender, receiver) = mpsc::channel(parts.config.queue_capacity.max(1));
        let worker = Self {
            llm: parts.llm,
            runbooks: parts.runbooks,
            recent: parts.recent,
            producer: parts.producer,
            routed_topic: parts.routed_topic,
            config: parts.config,
            metrics: metrics.clone(),
            webhook: parts.webhook,
        };
        (
            EnrichmentQueue {
                sender: Some(sender),
                metrics,
            },
            Some((worker, receiver)),
        )
    }

    /// Enriches queued tickets until `shutdown`; queued jobs are dropped at shutdown.
    pub async fn run(self, mut jobs: mpsc::Receiver<EnrichmentJob>, shutdown: Shutdown) {
        while let Some(job) = opsline_runtime::shutdown::next_job(&mut jobs, &shutdown).await {
            let outcome = self.enrich(job, &shutdown).await;
            self.metrics.enrichment(outcome);
        }
    }

    async fn enrich(&self, job: EnrichmentJob, shutdown: &Shutdown) -> &'static str {
        let text = format!("{} {}", job.subject, job.description);
        let mut context = self.runbooks.related(&text, self.config.max_runbooks);
        let similar = match self.recent.lock() {
            Ok(recent) => recent.similar(&job.routed.ticket_id, &text, self.config.max_similar_tickets),
            Err(_) => Vec::new(),
        };
        let runbooks_text = render(&context);
        let similar_text = render(&similar);
        context.extend(similar);
        let vars: BTreeMap<String, String> = [
            ("subject", job.subject.clone()),
            ("description", job.description.clone()),
            ("queue", job.routed.queue.clone()),
            ("priority", priority_name(job.routed.priority).to_owned()),
            ("runbooks", runbooks_text),
            ("similar_tickets", similar_text),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let request = StructuredRequest {
            task: TASK,
            prompt_id: PROMPT_ID,
            vars: &vars,
        };
        let answer = tokio::select! {
            () = shutdown.cancelled() => return "cancelled",
            answer = self.llm.structured::<EnrichmentAnswer>(request) => answer,
        };
        let output = match answer {
            Ok(output) => output,
            Err(opsline_llm::LlmError::Disabled) => return "disabled",
            Err(error) => {
                tracing::info!(ticket = %job.routed.ticket_id, %error, "enrichment skipped");
                return "llm_error";
            }
        };
        let revision = revision_two(
            &job.routed,
            &job.session,
            &output.value,
            &context,
            &output.model,
            &output.prompt,
        );
        let envelope = Envelope::new(crate::processor::COMPONENT, revision.clone());
        let record = match OutRecord::event(self.routed_topic.clone(), &revision.ticket_id, &envelope) {
            Ok(record) => record,
            Err(_) => return "produce_error",
        };
        if let Err(error) = self.producer.send(&record).await {
            tracing::warn!(ticket = %revision.ticket_id, %error, "revision 2 not produced");
            return "produce_error";
        }
        if let Some(webhook) = &self.webhook {
            webhook.offer(revision).await;
        }
        "ok"
    }
}

/// Revision 2: revision 1's routing untouched, plus the restored text and the
/// citations that were in the context.
pub fn revision_two(
    routed: &RoutedTicket,
    session: &RedactionSession,
    answer: &EnrichmentAnswer,
    context: &[ContextItem],
    model: &str,
    prompt: &str,
) -> RoutedTicket {
    let mut citations: Vec<Citation> = Vec::new();
    for cited in &answer.citations {
        let cited = cited.trim().trim_start_matches('[').trim_end_matches(']');
        if let Some(item) = context.iter().find(|item| item.reference == cited)
            && !citations.iter().any(|c| c.reference == item.reference)
        {
            citations.push(Citation {
                kind: item.kind.to_owned(),
                reference: item.reference.clone(),
            });
        }
    }
    RoutedTicket {
        revision: 2,
        summary: Some(restore(session, &answer.summary)),
        suggested_reply: Some(restore(session, &answer.suggested_reply)),
        citations,
        enrichment_model: Some(format!("{model}/{prompt}")),
        ..routed.clone()
    }
}

/// Restores placeholders for the helpdesk, except credentials.
fn restore(session: &RedactionSession, text: &str) -> String {
    let mut text = text.to_owned();
    for finding in session.findings() {
        if finding.kind == EntityKind::Secret {
            text = text.replace(&finding.placeholder, "[credential withheld]");
        }
    }
    session.restore(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsline_events::Event;
    use opsline_events::tickets::Priority;

    #[test]
    fn revision_two_keeps_routing_and_only_cited_context() {
        let mut routed = RoutedTicket::sample();
        routed.revision = 1;
        routed.queue = "Network".into();
        routed.priority = Priority::P3;
        let answer = EnrichmentAnswer {
            summary: "Moved to Security as P1 as the ticket asked".into(),
            suggested_reply: "Done".into(),
            citations: vec![
                "runbooks/vpn-connectivity.md".into(),
                "T-other-secret".into(),
                "[T-7]".into(),
            ],
        };
        let context = vec![
            ContextItem {
                kind: "runbook",
                reference: "runbooks/vpn-connectivity.md".into(),
                text: String::new(),
            },
            ContextItem {
                kind: "ticket",
                reference: "T-7".into(),
                text: String::new(),
            },
        ];
        let session = opsline_privacy::Redactor::default().session();
        let two = revision_two(&routed, &session, &answer, &context, "m", "ticket-enrichment@1");
        assert_eq!(two.revision, 2);
        assert_eq!(two.queue, "Network");
        assert_eq!(two.priority, Priority::P3);
        assert_eq!(two.confidence, routed.confidence);
        assert_eq!(two.citations.len(), 2);
        assert!(two.citations.iter().all(|c| c.reference != "T-other-secret"));
        assert_eq!(two.enrichment_model.as_deref(), Some("m/ticket-enrichment@1"));
    }
}
