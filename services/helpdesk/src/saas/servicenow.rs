//! ServiceNow: the Table API's `PATCH /api/now/table/incident/{sys_id}` (`200` with
//! `{"result": {...}}`) sets `assignment_group` (the queue's group, when confident), `priority`
//! (`1`..`4`) and appends Opsline's note to `work_notes` (internal, never shown to the caller),
//! in one request. Auth: basic (user, password) or an OAuth bearer token.

use opsline_events::tickets::{Priority, RoutedTicket};
use opsline_runtime::outbound::Method;
use serde_json::json;

use crate::error::HelpdeskError;
use crate::saas::SaasConfig;
use crate::sink::{Api, HelpdeskSink, WriteOutcome, render_note};

/// ServiceNow as a [`HelpdeskSink`].
#[derive(Debug, Clone)]
pub struct ServiceNowSink {
    /// The API with the integration user's credentials.
    pub api: Api,
    /// Settings.
    pub config: SaasConfig,
}

fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "1",
        Priority::P2 => "2",
        Priority::P3 => "3",
        Priority::P4 => "4",
    }
}

impl ServiceNowSink {
    /// The request body of one revision.
    pub fn body(&self, ticket: &RoutedTicket) -> serde_json::Value {
        let group = self.config.group_of(ticket);
        let placement = group.map_or("assignment group unchanged".to_owned(), |g| {
            format!("assignment group {g}")
        });
        let mut body = json!({
            "priority": priority(ticket.priority),
            "work_notes": render_note(ticket, &placement),
        });
        if let Some(group) = group {
            body["assignment_group"] = json!(group);
        }
        body
    }
}

impl HelpdeskSink for ServiceNowSink {
    const NAME: &'static str = "servicenow";

    fn external_id<'a>(&self, ticket_id: &'a str) -> Option<&'a str> {
        ticket_id.strip_prefix(&self.config.ticket_prefix)?.strip_prefix(':')
    }

    async fn write_back(&self, ticket: &RoutedTicket, external_id: &str) -> Result<WriteOutcome, HelpdeskError> {
        if external_id.len() != 32 || !external_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HelpdeskError::InvalidInput(format!(
                "ServiceNow sys_ids are 32 hex digits, not {external_id:?}"
            )));
        }
        let url = format!(
            "{}/api/now/table/incident/{external_id}?sysparm_fields=sys_id",
            self.config.base()
        );
        self.api
            .call(
                "update ServiceNow incident",
                Method::PATCH,
                &url,
                Some(&self.body(ticket)),
            )
            .await?;
        Ok(WriteOutcome::Applied)
    }
}
