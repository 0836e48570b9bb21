//! Feedback: a person's re-route in RT becomes a `ticket.feedback` record (training data for
//! the next classifier) on the feedback topic.
//!
//! Every `feedback.poll_interval_ms` the poller asks RT for the tickets carrying Opsline's
//! state that changed since the last poll (`LastUpdated > 'N seconds ago'`: relative, so RT's
//! and its users' time zones do not matter; a margin covers the time a poll takes). A ticket
//! whose queue differs from the last queue known to Opsline (the one Opsline put it in, or
//! the last person's choice already reported) was re-routed by a person: the feedback is
//! produced and acknowledged by the broker, then the state field records that queue as the
//! person's choice, so it is reported once and no later revision moves the ticket again.
//! Delivery: at least once (a crash between the acknowledgement and the field update reports
//! the same re-route again; `at` and `revision` are the same in both, so a reader can drop
//! the repeat). RT re-routes produce no routed revision: RT is the system of record for them.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use opsline_events::Envelope;
use opsline_events::tickets::TicketFeedback;
use opsline_kafka::{OutRecord, Producer};
use opsline_runtime::Shutdown;
use serde_json::json;

use crate::config::RtConfig;
use crate::error::HelpdeskError;
use crate::metrics::HelpdeskMetrics;
use crate::rt::client::{RtClient, RtTicket};
use crate::rt::intake::ticketsql_string;
use crate::rt::state::RtState;

/// Source name of the records the helpdesk service produces.
pub const COMPONENT: &str = "opsline-helpdesk";

/// Seconds added to every look-back (a poll's own duration, clock steps).
const MARGIN_SECS: u64 = 60;

/// The feedback poller.
#[derive(Debug)]
pub struct Feedback {
    /// RT.
    pub client: RtClient,
    /// RT settings.
    pub config: RtConfig,
    /// The producer of feedback records.
    pub producer: Producer,
    /// The feedback topic's name.
    pub topic: String,
    /// Metrics.
    pub metrics: HelpdeskMetrics,
}

impl Feedback {
    /// Polls until `shutdown`.
    pub async fn run(self, shutdown: Shutdown) {
        let interval = Duration::from_millis(self.config.feedback.poll_interval_ms.max(100));
        let mut look_back = self.config.feedback.lookback_secs;
        loop {
            let started = Instant::now();
            match self.poll_once(look_back).await {
                Ok(reported) => {
                    if reported > 0 {
                        tracing::info!(reported, "RT re-routes published as feedback");
                    }
                    look_back = 0;
                }
                Err(error) => {
                    self.metrics.poll("feedback", "error");
                    tracing::warn!(%error, "RT feedback poll failed; the next poll looks back further");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            look_back = look_back.saturating_add(started.elapsed().as_secs() + 1);
        }
    }

    /// One poll over the tickets updated in the last `look_back` seconds (plus a margin);
    /// returns how many re-routes were reported.
    pub async fn poll_once(&self, look_back: u64) -> Result<usize, HelpdeskError> {
        let field = ticketsql_string(&format!("CF.{{{}}}", self.config.state_field));
        let seconds = look_back.saturating_add(MARGIN_SECS);
        let mut after = 0_u64;
        let mut reported = 0;
        loop {
            let query = format!("'{field}' IS NOT NULL AND LastUpdated > '{seconds} seconds ago' AND id > {after}");
            let page = self.client.search(&query, 100).await?;
            let full = page.len() == 100;
            for ticket in page {
                after = after.max(ticket.id.parse().unwrap_or(0));
                if self.report(&ticket).await? {
                    reported += 1;
                }
            }
            if !full {
                break;
            }
        }
        self.metrics.poll("feedback", "ok");
        Ok(reported)
    }

    /// Reports `ticket`'s re-route, when a person moved it; `true` when reported.
    async fn report(&self, ticket: &RtTicket) -> Result<bool, HelpdeskError> {
        let mut state = RtState::parse(ticket.state.as_deref());
        let Some(placed) = state.queue.clone().filter(|_| state.revision > 0) else {
            return Ok(false);
        };
        let known = state.human.clone().unwrap_or(placed);
        if ticket.queue.is_empty() || ticket.queue == known {
            return Ok(false);
        }
        let feedback = TicketFeedback {
            ticket_id: format!("{}:{}", self.config.ticket_prefix, ticket.id),
            from_queue: self.config.opsline_queue(&known).to_owned(),
            to_queue: self.config.opsline_queue(&ticket.queue).to_owned(),
            revision: state.revision.max(2).saturating_add(1),
            confidence: state.confidence,
            by: ticket.last_updated_by.clone().unwrap_or_default(),
            note: format!("re-routed in RT from {known} to {}", ticket.queue),
            at: Timestamp::now(),
        };
        let key = feedback.ticket_id.clone();
        let record = OutRecord::event(self.topic.clone(), &key, &Envelope::new(COMPONENT, feedback))
            .map_err(|e| HelpdeskError::Produce(e.to_string()))?;
        self.producer
            .send(&record)
            .await
            .map_err(|e| HelpdeskError::Produce(e.to_string()))?;
        state.human = Some(ticket.queue.clone());
        let fields = json!({ "CustomFields": self.client.custom_fields(None, &state.to_value()) });
        self.client.update(&ticket.id, &fields).await?;
        self.metrics.feedback();
        Ok(true)
    }
}
