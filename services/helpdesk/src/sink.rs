//! The [`HelpdeskSink`] trait every helpdesk connector implements, the authenticated HTTP
//! calls they share ([`Api`]: the workspace's `OutboundClient`, `backon` retries, `Retry-After`
//! on 429) and the note text ([`render_note`]).
//!
//! Delivery: a sink's `write_back` is called by the routed-ticket consumer for every revision
//! and must be idempotent: a replay repeats revisions, so a sink keeps the highest revision it
//! applied in the helpdesk itself and ignores older ones.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use opsline_events::tickets::{Priority, RoutedTicket};
use opsline_runtime::outbound::{Method, OutboundClient, OutboundResponse};
use secrecy::{ExposeSecret, SecretString};

use crate::config::RetryConfig;
use crate::error::HelpdeskError;

/// What one write-back did (a bounded metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The revision is in the helpdesk.
    Applied,
    /// The helpdesk already has this revision or a later one (a replay).
    Stale,
}

impl WriteOutcome {
    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Stale => "stale",
        }
    }
}

/// A helpdesk that routed tickets are written back to.
pub trait HelpdeskSink: Send + Sync + 'static {
    /// The sink's name (a metrics label): `rt`, `jira`, `servicenow`, `zendesk`.
    const NAME: &'static str;

    /// The helpdesk's own id of Opsline ticket `ticket_id`, when the ticket came from it.
    fn external_id<'a>(&self, ticket_id: &'a str) -> Option<&'a str>;

    /// Writes revision `ticket` back to the helpdesk ticket `external_id`.
    fn write_back(
        &self,
        ticket: &RoutedTicket,
        external_id: &str,
    ) -> impl Future<Output = Result<WriteOutcome, HelpdeskError>> + Send;
}

/// Authenticated JSON calls to one helpdesk API, retried with `backon` (network errors, 5xx,
/// 429 after its `Retry-After`).
#[derive(Debug, Clone)]
pub struct Api {
    client: OutboundClient,
    authorization: SecretString,
    retry: RetryConfig,
}

impl Api {
    /// Calls through `client` with the `Authorization` header value `authorization`.
    pub fn new(client: OutboundClient, authorization: SecretString, retry: RetryConfig) -> Self {
        Self {
            client,
            authorization,
            retry,
        }
    }

    /// `Basic base64(user:password)`.
    pub fn basic(user: &str, password: &SecretString) -> SecretString {
        use base64::Engine;
        let pair = format!("{user}:{}", password.expose_secret());
        SecretString::from(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }

    /// Sends `method` to `url` with `body`; a 2xx answer is `Ok`, any other the error of its
    /// status after the retries (`what` names the call in errors, never the URL).
    pub async fn call(
        &self,
        what: &str,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<OutboundResponse, HelpdeskError> {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.retry.min_delay_ms))
            .with_max_delay(Duration::from_millis(
                self.retry.max_delay_ms.max(self.retry.min_delay_ms),
            ))
            .with_max_times(self.retry.max_attempts.saturating_sub(1))
            .with_jitter()
            .build();
        let headers = [
            ("authorization", self.authorization.expose_secret()),
            ("accept", "application/json"),
        ];
        loop {
            let answer = self
                .client
                .request_json(method.clone(), url, body, &headers, self.retry.max_body_bytes)
                .await;
            let error = match answer {
                Ok(response) if response.is_success() => return Ok(response),
                Ok(response) if response.is_retryable_status() => {
                    if let Some(wait) = response.retry_after
                        && wait > Duration::from_secs(self.retry.max_retry_after_secs)
                    {
                        return Err(HelpdeskError::Unavailable(format!(
                            "{what}: status {}, Retry-After {}s",
                            response.status.as_u16(),
                            wait.as_secs()
                        )));
                    }
                    (HelpdeskError::from_status(what, &response), response.retry_after)
                }
                Ok(response) => return Err(HelpdeskError::from_status(what, &response)),
                Err(error) if error.is_retryable() => (HelpdeskError::from(error), None),
                Err(error) => return Err(error.into()),
            };
            let Some(delay) = delays.next() else {
                return Err(error.0);
            };
            let delay = error.1.map_or(delay, |wait| wait.max(delay));
            tracing::debug!(call = what, error = %error.0, ?delay, "helpdesk call retried");
            tokio::time::sleep(delay).await;
        }
    }
}

/// The priority's name (`P1`..`P4`).
pub fn priority_name(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "P1",
        Priority::P2 => "P2",
        Priority::P3 => "P3",
        Priority::P4 => "P4",
    }
}

/// Opsline's note on a ticket: the routing decision, and the LLM summary, suggested reply,
/// citations and linked incident once known. `placement` says where the ticket went.
pub fn render_note(ticket: &RoutedTicket, placement: &str) -> String {
    let mut note = format!(
        "Opsline routing (revision {})\nQueue: {} ({}; confidence {:.2})\nPriority: {}\nWhy: {}\n",
        ticket.revision,
        ticket.queue,
        placement,
        ticket.confidence,
        priority_name(ticket.priority),
        ticket.reason
    );
    if let Some(incident) = ticket.incident_id {
        note.push_str(&format!("Linked incident: {incident}\n"));
    }
    if let Some(summary) = &ticket.summary {
        note.push_str(&format!("\nSummary: {summary}\n"));
    }
    if let Some(reply) = &ticket.suggested_reply {
        note.push_str(&format!("\nSuggested reply:\n{reply}\n"));
    }
    if !ticket.citations.is_empty() {
        let sources: Vec<String> = ticket
            .citations
            .iter()
            .map(|c| format!("{} {}", c.kind, c.reference))
            .collect();
        note.push_str(&format!("\nSources: {}\n", sources.join("; ")));
    }
    if let Some(model) = &ticket.enrichment_model {
        note.push_str(&format!("(written by {model}; check before sending)\n"));
    }
    note
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opsline_events::Event;

    use super::*;

    #[test]
    fn the_note_carries_summary_reply_citations_and_incident() {
        let mut ticket = RoutedTicket::sample();
        ticket.incident_id = Some(uuid::Uuid::nil());
        let note = render_note(&ticket, "moved");
        for part in [
            "revision 2",
            "Queue: Hardware (moved; confidence 0.91)",
            "Priority: P2",
            "Linked incident: 00000000-0000-0000-0000-000000000000",
            "Summary: User's VPN",
            "Suggested reply:\nPlease update",
            "Sources: runbook runbooks/vpn.md",
        ] {
            assert!(note.contains(part), "{part} in {note}");
        }
    }

    #[test]
    fn basic_auth_is_base64_of_user_and_password() {
        let header = Api::basic("opsline", &SecretString::from("pw"));
        assert_eq!(header.expose_secret(), "Basic b3BzbGluZTpwdw==");
    }
}
