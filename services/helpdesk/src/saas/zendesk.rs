//! Zendesk Support: `PUT /api/v2/tickets/{id}` (`200` with the ticket) sets `group_id` (the
//! queue's group, when confident) and `priority` (`urgent`, `high`, `normal`, `low`) and adds
//! Opsline's note as a private comment (`"comment": {"body": ..., "public": false}`), in one
//! request. Auth: basic `<agent e-mail>/token:<API token>`.

use opsline_events::tickets::{Priority, RoutedTicket};
use opsline_runtime::outbound::Method;
use serde_json::json;

use crate::error::HelpdeskError;
use crate::saas::SaasConfig;
use crate::sink::{Api, HelpdeskSink, WriteOutcome, render_note};

/// Zendesk as a [`HelpdeskSink`].
#[derive(Debug, Clone)]
pub struct ZendeskSink {
    /// The API with the agent's credentials.
    pub api: Api,
    /// Settings.
    pub config: SaasConfig,
}

/// Zendesk's priority names.
pub fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "urgent",
        Priority::P2 => "high",
        Priority::P3 => "normal",
        Priority::P4 => "low",
    }
}

impl ZendeskSink {
    /// The request body of one revision.
    pub fn body(&self, ticket: &RoutedTicket) -> serde_json::Value {
        let group = self.config.group_of(ticket);
        let placement = group.map_or("group unchanged".to_owned(), |g| format!("group {g}"));
        let mut update = json!({
            "priority": priority(ticket.priority),
            "comment": { "body": render_note(ticket, &placement), "public": false },
        });
        if let Some(group) = group {
            update["group_id"] = group.parse::<u64>().map_or_else(|_| json!(group), |id| json!(id));
        }
        json!({ "ticket": update })
    }
}

impl HelpdeskSink for ZendeskSink {
    const NAME: &'static str = "zendesk";

    fn external_id<'a>(&self, ticket_id: &'a str) -> Option<&'a str> {
        ticket_id.strip_prefix(&self.config.ticket_prefix)?.strip_prefix(':')
    }

    async fn write_back(&self, ticket: &RoutedTicket, external_id: &str) -> Result<WriteOutcome, HelpdeskError> {
        if external_id.is_empty() || !external_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HelpdeskError::InvalidInput(format!(
                "Zendesk ticket ids are numbers, not {external_id:?}"
            )));
        }
        let url = format!("{}/api/v2/tickets/{external_id}", self.config.base());
        self.api
            .call("update Zendesk ticket", Method::PUT, &url, Some(&self.body(ticket)))
            .await?;
        Ok(WriteOutcome::Applied)
    }
}
