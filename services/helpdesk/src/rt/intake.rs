//! Intake: new RT tickets of the triage queue become Opsline raw tickets.
//!
//! **Polling** REST 2 rather than an RT scrip calling the gateway: it needs no code installed
//! inside RT, works with any RT that Opsline can reach (a scrip needs RT to reach Opsline and
//! has no retry), and catches up by itself after an outage of either side. Every
//! `intake.poll_interval_ms` the poller asks for the triage queue's tickets **without
//! Opsline's state custom field**, oldest first, posts each to the gateway's `/v1/tickets`
//! with the RT number as `ticket_id` (the gateway scopes it to the key: `rt:<number>`, so
//! write-back finds the RT ticket), and, once the gateway answered 202 (durable in Kafka),
//! writes the state field. That field is the durable high-water mark, kept in RT itself: a
//! restart asks again for exactly the tickets not taken in. Delivery: at least once (a crash
//! between the 202 and the field update posts the ticket again; triage then routes it again
//! and the write-back keeps the highest revision). The highest id seen is kept in memory to
//! narrow the next query.

use std::collections::BTreeMap;
use std::time::Duration;

use opsline_runtime::Shutdown;
use opsline_runtime::outbound::Method;
use serde_json::json;

use crate::config::RtConfig;
use crate::error::HelpdeskError;
use crate::metrics::HelpdeskMetrics;
use crate::rt::client::RtClient;
use crate::rt::state::RtState;
use crate::sink::Api;

/// The intake poller.
#[derive(Debug)]
pub struct Intake {
    /// RT.
    pub client: RtClient,
    /// The gateway, with the ingest key as bearer token.
    pub gateway: Api,
    /// RT settings.
    pub config: RtConfig,
    /// Metrics.
    pub metrics: HelpdeskMetrics,
}

/// `'` and `\` escaped for a TicketSQL string.
pub fn ticketsql_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

impl Intake {
    /// Polls until `shutdown`.
    pub async fn run(self, shutdown: Shutdown) {
        let interval = Duration::from_millis(self.config.intake.poll_interval_ms.max(100));
        let mut after = 0_u64;
        loop {
            match self.poll_once(&mut after).await {
                Ok(taken) if taken > 0 => tracing::info!(taken, "RT tickets taken in"),
                Ok(_) => {}
                Err(error) => {
                    self.metrics.poll("intake", "error");
                    tracing::warn!(%error, "RT intake poll failed; next poll retries");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One poll: takes in up to `intake.batch` new tickets with ids above `after`.
    pub async fn poll_once(&self, after: &mut u64) -> Result<usize, HelpdeskError> {
        let query = format!(
            "Queue = '{}' AND '{}' IS NULL AND id > {after}",
            ticketsql_string(&self.config.triage_queue),
            ticketsql_string(&format!("CF.{{{}}}", self.config.state_field)),
        );
        let tickets = self.client.search(&query, self.config.intake.batch).await?;
        let mut taken = 0;
        for ticket in tickets {
            let description = self.client.first_text(&ticket.id).await?;
            let body = json!({
                "ticket_id": ticket.id,
                "requester": ticket.requestor.clone().unwrap_or_else(|| "unknown@rt".to_owned()),
                "subject": if ticket.subject.trim().is_empty() { "(no subject)" } else { ticket.subject.as_str() },
                "description": description,
                "channel": "rt",
                "attributes": BTreeMap::from([("rt_queue", ticket.queue.as_str())]),
            });
            let url = format!("{}/v1/tickets", self.config.intake.gateway_url.trim_end_matches('/'));
            match self
                .gateway
                .call("post ticket to the gateway", Method::POST, &url, Some(&body))
                .await
            {
                Ok(_) => self.metrics.intake("posted"),
                Err(error @ HelpdeskError::Refused { .. }) => {
                    // The gateway refused this ticket for good: it is marked so it is not
                    // posted forever, and the refusal is in the log and the gateway's dead letters.
                    self.metrics.intake("refused");
                    tracing::warn!(rt_ticket = %ticket.id, %error, "gateway refused an RT ticket");
                }
                Err(error) => return Err(error),
            }
            let fields = json!({ "CustomFields": self.client.custom_fields(None, &RtState::default().to_value()) });
            self.client.update(&ticket.id, &fields).await?;
            *after = (*after).max(ticket.id.parse().unwrap_or(0));
            taken += 1;
        }
        self.metrics.poll("intake", "ok");
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticketsql_strings_are_escaped() {
        assert_eq!(ticketsql_string("O'Brien \\ q"), "O\\'Brien \\\\ q");
    }
}
