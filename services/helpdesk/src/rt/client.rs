//! The calls Opsline makes to RT's REST 2 API (`/REST/2.0/`): ticket search with TicketSQL,
//! one ticket's queue, priority and custom fields, update (`PUT /ticket/{id}`), comment
//! (`POST /ticket/{id}/comment`), history and the creating message's text. Every call goes
//! through [`Api`] (retries, `Retry-After`); RT's answers are parsed leniently (unknown fields
//! ignored) but a missing `items` list or ticket is an error, never a panic.

use opsline_runtime::outbound::Method;
use serde_json::{Value, json};

use crate::error::HelpdeskError;
use crate::sink::Api;

/// What Opsline reads of an RT ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtTicket {
    /// RT's ticket number.
    pub id: String,
    /// The queue's name.
    pub queue: String,
    /// Subject.
    pub subject: String,
    /// The first requestor's address.
    pub requestor: Option<String>,
    /// Who changed the ticket last (an RT user name).
    pub last_updated_by: Option<String>,
    /// The note custom field's value.
    pub note: Option<String>,
    /// The state custom field's value.
    pub state: Option<String>,
}

/// RT's REST 2 API at one base URL.
#[derive(Debug, Clone)]
pub struct RtClient {
    api: Api,
    base: String,
    note_field: String,
    state_field: String,
}

/// The fields every search asks for (the queue by name).
const FIELDS: [(&str, &str); 2] = [
    ("fields", "Queue,Subject,Requestor,LastUpdatedBy,CustomFields"),
    ("fields[Queue]", "Name"),
];

impl RtClient {
    /// A client of the RT at `url` (without `/REST/2.0`).
    pub fn new(api: Api, url: &str, note_field: &str, state_field: &str) -> Self {
        Self {
            api,
            base: format!("{}/REST/2.0", url.trim_end_matches('/')),
            note_field: note_field.to_owned(),
            state_field: state_field.to_owned(),
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        if query.is_empty() {
            return format!("{}/{path}", self.base);
        }
        let mut encoded = form_urlencoded::Serializer::new(String::new());
        for (key, value) in query {
            encoded.append_pair(key, value);
        }
        format!("{}/{path}?{}", self.base, encoded.finish())
    }

    /// The tickets matching TicketSQL `query`, by ascending id, at most `per_page`.
    pub async fn search(&self, query: &str, per_page: usize) -> Result<Vec<RtTicket>, HelpdeskError> {
        let per_page = per_page.clamp(1, 100).to_string();
        let mut params = vec![
            ("query", query),
            ("orderby", "id"),
            ("order", "ASC"),
            ("per_page", per_page.as_str()),
        ];
        params.extend(FIELDS);
        let url = self.url("tickets", &params);
        let answer = self.api.call("search tickets", Method::GET, &url, None).await?;
        let body: Value = parse(&answer.body_snippet)?;
        let items = body
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| HelpdeskError::BadAnswer("a search answer without items".to_owned()))?;
        Ok(items.iter().map(|item| self.ticket_of(item)).collect())
    }

    /// Ticket `id` (a number).
    pub async fn ticket(&self, id: &str) -> Result<RtTicket, HelpdeskError> {
        let query = format!("id = {id}");
        self.search(&query, 1)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| HelpdeskError::NotFound(format!("RT ticket {id}")))
    }

    /// Sets `fields` (`Queue`, `Priority`, `CustomFields`, ...) of ticket `id` in one update.
    pub async fn update(&self, id: &str, fields: &Value) -> Result<(), HelpdeskError> {
        let url = self.url(&format!("ticket/{id}"), &[]);
        self.api.call("update ticket", Method::PUT, &url, Some(fields)).await?;
        Ok(())
    }

    /// The custom fields of an update: the note and the state.
    pub fn custom_fields(&self, note: Option<&str>, state: &str) -> Value {
        let mut fields = serde_json::Map::new();
        if let Some(note) = note {
            fields.insert(self.note_field.clone(), json!(note));
        }
        fields.insert(self.state_field.clone(), json!(state));
        Value::Object(fields)
    }

    /// Adds a private comment (never sent to the requestor) to ticket `id`.
    pub async fn comment(&self, id: &str, text: &str) -> Result<(), HelpdeskError> {
        let url = self.url(&format!("ticket/{id}/comment"), &[]);
        let body = json!({ "Subject": "Opsline routing", "Content": text, "ContentType": "text/plain" });
        self.api.call("comment", Method::POST, &url, Some(&body)).await?;
        Ok(())
    }

    /// Whether `user` already commented on ticket `id` (its first 100 transactions).
    pub async fn has_comment_by(&self, id: &str, user: &str) -> Result<bool, HelpdeskError> {
        let url = self.url(
            &format!("ticket/{id}/history"),
            &[("fields", "Type,Creator"), ("per_page", "100")],
        );
        let answer = self.api.call("ticket history", Method::GET, &url, None).await?;
        let body: Value = parse(&answer.body_snippet)?;
        let items = body.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(items.iter().any(|t| {
            t.get("Type").and_then(Value::as_str) == Some("Comment")
                && t.pointer("/Creator/id").and_then(Value::as_str) == Some(user)
        }))
    }

    /// The text of the message that created ticket `id` (its first `text/plain` part).
    pub async fn first_text(&self, id: &str) -> Result<String, HelpdeskError> {
        let url = self.url(
            &format!("ticket/{id}/attachments"),
            &[("fields", "Content,ContentType"), ("per_page", "5")],
        );
        let answer = self.api.call("ticket attachments", Method::GET, &url, None).await?;
        let body: Value = parse(&answer.body_snippet)?;
        let items = body.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(items
            .iter()
            .find(|a| a.get("ContentType").and_then(Value::as_str) == Some("text/plain"))
            .and_then(|a| a.get("Content").and_then(Value::as_str))
            .unwrap_or_default()
            .chars()
            .take(8_000)
            .collect())
    }

    fn ticket_of(&self, item: &Value) -> RtTicket {
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let field = |name: &str| {
            item.get("CustomFields")
                .and_then(Value::as_array)
                .and_then(|fields| {
                    fields
                        .iter()
                        .find(|f| f.get("name").and_then(Value::as_str) == Some(name))
                })
                .and_then(|f| f.get("values").and_then(Value::as_array))
                .and_then(|values| values.first())
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        RtTicket {
            id: text(item.get("id")).unwrap_or_default(),
            queue: text(item.pointer("/Queue/Name")).unwrap_or_default(),
            subject: text(item.get("Subject")).unwrap_or_default(),
            requestor: text(item.pointer("/Requestor/0/id")),
            last_updated_by: text(item.pointer("/LastUpdatedBy/id")),
            note: field(&self.note_field),
            state: field(&self.state_field),
        }
    }
}

fn parse(body: &str) -> Result<Value, HelpdeskError> {
    serde_json::from_str(body).map_err(|e| HelpdeskError::BadAnswer(format!("not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use opsline_runtime::outbound::OutboundClient;
    use secrecy::SecretString;

    use super::*;
    use crate::config::RetryConfig;

    fn client() -> RtClient {
        let http = OutboundClient::new(Duration::from_secs(1)).unwrap();
        let api = Api::new(http, SecretString::from("token t"), RetryConfig::default());
        RtClient::new(api, "http://rt.example/", "Opsline Note", "Opsline State")
    }

    #[test]
    fn a_search_item_is_read_with_queue_name_and_custom_fields() {
        // The shape RT 5.0.3 answers `GET /REST/2.0/tickets?fields=...&fields[Queue]=Name`.
        let item = json!({
            "id": "7", "Subject": "Printer", "type": "ticket",
            "Queue": {"id": "4", "type": "queue", "Name": "Hardware"},
            "Requestor": [{"id": "alice@example.com", "type": "user"}],
            "LastUpdatedBy": {"id": "dana", "type": "user"},
            "CustomFields": [
                {"id": "2", "name": "Opsline Note", "values": ["line1\nline2"]},
                {"id": "3", "name": "Opsline State", "values": []}
            ]
        });
        let ticket = client().ticket_of(&item);
        assert_eq!(ticket.id, "7");
        assert_eq!(ticket.queue, "Hardware");
        assert_eq!(ticket.requestor.as_deref(), Some("alice@example.com"));
        assert_eq!(ticket.last_updated_by.as_deref(), Some("dana"));
        assert_eq!(ticket.note.as_deref(), Some("line1\nline2"));
        assert_eq!(ticket.state, None);
    }

    #[test]
    fn query_parameters_are_encoded() {
        let url = client().url("tickets", &[("query", "Queue = 'Triage' AND id > 3")]);
        assert_eq!(
            url,
            "http://rt.example/REST/2.0/tickets?query=Queue+%3D+%27Triage%27+AND+id+%3E+3"
        );
    }
}
