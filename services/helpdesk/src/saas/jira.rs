//! Jira Service Management (Jira Cloud REST v3): `PUT /rest/api/3/issue/{key}` (`204`) sets the
//! `components` (the queue's component, when confident) and the `priority` (`Highest`, `High`,
//! `Medium`, `Low`); then `POST /rest/api/3/issue/{key}/comment` (`201`) adds Opsline's note as
//! an **internal** comment (Atlassian Document Format body, property
//! `sd.public.comment = {"internal": true}`, so the customer never sees it). Auth: basic
//! `<account e-mail>:<API token>`.

use opsline_events::tickets::{Priority, RoutedTicket};
use opsline_runtime::outbound::Method;
use serde_json::{Value, json};

use crate::error::HelpdeskError;
use crate::saas::SaasConfig;
use crate::sink::{Api, HelpdeskSink, WriteOutcome, render_note};

/// Jira Service Management as a [`HelpdeskSink`].
#[derive(Debug, Clone)]
pub struct JiraSink {
    /// The API with the account's e-mail and API token.
    pub api: Api,
    /// Settings.
    pub config: SaasConfig,
}

fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "Highest",
        Priority::P2 => "High",
        Priority::P3 => "Medium",
        Priority::P4 => "Low",
    }
}

/// Plain text as an Atlassian Document Format document: one paragraph per line.
pub fn adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| json!({ "type": "paragraph", "content": [{ "type": "text", "text": line }] }))
        .collect();
    json!({ "type": "doc", "version": 1, "content": paragraphs })
}

impl JiraSink {
    /// The issue update of one revision.
    pub fn fields(&self, ticket: &RoutedTicket) -> Value {
        let mut fields = json!({ "priority": { "name": priority(ticket.priority) } });
        if let Some(component) = self.config.group_of(ticket) {
            fields["components"] = json!([{ "name": component }]);
        }
        json!({ "fields": fields })
    }

    /// The internal comment of one revision.
    pub fn comment(&self, ticket: &RoutedTicket) -> Value {
        let placement = self
            .config
            .group_of(ticket)
            .map_or("component unchanged".to_owned(), |c| format!("component {c}"));
        json!({
            "body": adf(&render_note(ticket, &placement)),
            "properties": [{ "key": "sd.public.comment", "value": { "internal": true } }],
        })
    }
}

impl HelpdeskSink for JiraSink {
    const NAME: &'static str = "jira";

    fn external_id<'a>(&self, ticket_id: &'a str) -> Option<&'a str> {
        ticket_id.strip_prefix(&self.config.ticket_prefix)?.strip_prefix(':')
    }

    async fn write_back(&self, ticket: &RoutedTicket, external_id: &str) -> Result<WriteOutcome, HelpdeskError> {
        let valid = external_id.split_once('-').is_some_and(|(project, number)| {
            !project.is_empty()
                && project.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
        });
        if !valid {
            return Err(HelpdeskError::InvalidInput(format!(
                "Jira issue keys look like SUP-12, not {external_id:?}"
            )));
        }
        let issue = format!("{}/rest/api/3/issue/{external_id}", self.config.base());
        self.api
            .call("update Jira issue", Method::PUT, &issue, Some(&self.fields(ticket)))
            .await?;
        self.api
            .call(
                "comment on Jira issue",
                Method::POST,
                &format!("{issue}/comment"),
                Some(&self.comment(ticket)),
            )
            .await?;
        Ok(WriteOutcome::Applied)
    }
}
