//! [`RtSink`]: routed revisions written back to Request Tracker through REST 2.
//!
//! Per revision: read the ticket (queue, state), decide ([`crate::rt::state::decide`]), post
//! Opsline's one private comment when it is not there yet (the history is checked first, so a
//! crash between the comment and the update never causes a second one), then one update sets
//! the queue (unless a person moved the ticket, or the confidence is below
//! `rt.min_confidence`), the priority, the note and the state custom fields; a move RT did not
//! make (unknown queue, missing right: RT still answers 200) is read back, recorded as
//! Opsline's placement and dead-lettered with the reason. Idempotent: a
//! replayed revision finds a state at least as new and changes nothing.

use opsline_events::tickets::RoutedTicket;
use serde_json::json;

use crate::config::RtConfig;
use crate::error::HelpdeskError;
use crate::rt::client::RtClient;
use crate::rt::state::{Decision, RtState, decide};
use crate::sink::{HelpdeskSink, WriteOutcome, render_note};

/// Request Tracker as a [`HelpdeskSink`].
#[derive(Debug, Clone)]
pub struct RtSink {
    client: RtClient,
    config: RtConfig,
    prefix: String,
}

impl RtSink {
    /// A sink writing through `client` with the rules of `config`.
    pub fn new(client: RtClient, config: RtConfig) -> Self {
        let prefix = format!("{}:", config.ticket_prefix);
        Self { client, config, prefix }
    }
}

impl RtSink {
    /// The REST 2 client (shared with the intake and feedback pollers).
    pub fn client(&self) -> &RtClient {
        &self.client
    }
}

impl HelpdeskSink for RtSink {
    const NAME: &'static str = "rt";

    fn external_id<'a>(&self, ticket_id: &'a str) -> Option<&'a str> {
        ticket_id.strip_prefix(self.prefix.as_str())
    }

    async fn write_back(&self, ticket: &RoutedTicket, external_id: &str) -> Result<WriteOutcome, HelpdeskError> {
        if external_id.is_empty() || !external_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HelpdeskError::InvalidInput(format!(
                "RT ticket ids are numbers, not {external_id:?}"
            )));
        }
        let current = self.client.ticket(external_id).await?;
        let state = RtState::parse(current.state.as_deref());
        let plan = match decide(&self.config, ticket, &current, &state) {
            Decision::Stale => return Ok(WriteOutcome::Stale),
            Decision::Apply(plan) => plan,
        };
        let note = render_note(ticket, &plan.placement);
        if plan.comment {
            let user = self.config.user.as_str();
            let already = !user.is_empty() && self.client.has_comment_by(external_id, user).await?;
            if !already {
                self.client.comment(external_id, &note).await?;
            }
        }
        let mut fields = json!({
            "Priority": self.config.priorities.of(ticket.priority),
            "CustomFields": self.client.custom_fields(Some(&note), &plan.state.to_value()),
        });
        if let Some(queue) = &plan.move_to {
            fields["Queue"] = json!(queue);
        }
        self.client.update(external_id, &fields).await?;
        if let Some(queue) = &plan.move_to {
            // RT answers 200 with a message when it cannot move a ticket (no such queue, no
            // right there): read the queue back, so a failed move is never taken for a person's.
            let now = self.client.ticket(external_id).await?;
            if &now.queue != queue {
                let state = RtState {
                    queue: Some(now.queue.clone()),
                    ..plan.state
                };
                let fields = json!({ "CustomFields": self.client.custom_fields(None, &state.to_value()) });
                self.client.update(external_id, &fields).await?;
                return Err(HelpdeskError::Refused {
                    status: 200,
                    detail: format!("RT did not move the ticket to queue {queue:?} (no such queue, or no right to it)"),
                });
            }
        }
        Ok(WriteOutcome::Applied)
    }
}
