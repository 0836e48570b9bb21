//! `POST /v1/tickets`: one JSON ticket or a JSON array of tickets.
//!
//! Ticket ids are scoped to the sending key, so no source can overwrite another's ticket: a
//! ticket sent with its own `ticket_id` (the helpdesk system's number) becomes
//! `<key name>:<ticket_id>` (the same request twice: the same ticket); one without gets an
//! assigned `T-<uuid>`, derived from the client's event `id` when given (so a retry of it is
//! the same ticket), else new.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use opsline_events::tickets::RawTicket;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{json_error_code, media_type, read_body};
use crate::app::AppState;
use crate::error::GatewayError;
use crate::ingest::{Prepared, Rejection};
use crate::keys::Caller;

const ENDPOINT: &str = "/v1/tickets";

/// One submitted ticket.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketInput {
    /// Client-chosen event id (UUID) for idempotent retries.
    #[serde(default)]
    id: Option<Uuid>,
    /// The source system's ticket id (scoped to the key: `<key>:<ticket_id>`); assigned when absent.
    #[serde(default)]
    ticket_id: Option<String>,
    requester: String,
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

pub(crate) async fn post_tickets(
    State(mut state): State<AppState>,
    caller: Option<Extension<Arc<Caller>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    state.caller = caller.map(|Extension(caller)| caller);
    match handle(state, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(state: AppState, headers: HeaderMap, body: Body) -> Result<Response, GatewayError> {
    if state.caller.is_none() {
        return Err(GatewayError::Unauthorized);
    }
    let media = media_type(&headers);
    if media != "application/json" {
        return Err(GatewayError::UnsupportedMediaType {
            found: media,
            expected: "application/json",
        });
    }
    let body = read_body(&headers, body, state.max_body_bytes).await?;
    if std::str::from_utf8(&body).is_err() {
        return Err(GatewayError::BadRequest("body is not valid UTF-8".to_owned()));
    }
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| GatewayError::BadRequest(format!("invalid JSON: {e}")))?;
    let values = match value {
        Value::Array(values) => values,
        other => vec![other],
    };
    let items = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| prepare(&state, i + 1, value))
        .collect();
    Ok(state.ingest.clone().publish(ENDPOINT, items).await)
}

fn prepare(state: &AppState, number: usize, value: Value) -> Result<Prepared, Rejection> {
    let raw = serde_json::to_vec(&value).unwrap_or_default();
    if raw.len() > state.max_record_bytes {
        return Err(Rejection::new(
            number,
            "record_too_large",
            format!("ticket is {} bytes; the limit is {}", raw.len(), state.max_record_bytes),
            &raw,
        ));
    }
    let input: TicketInput =
        serde_json::from_value(value).map_err(|e| Rejection::new(number, json_error_code(&e), e.to_string(), &raw))?;
    if input.requester.trim().is_empty() || input.subject.trim().is_empty() {
        return Err(Rejection::new(
            number,
            "invalid_record",
            "requester and subject must not be empty",
            &raw,
        ));
    }
    if let Some(service) = &input.service {
        super::check_service(state, number, service, &raw)?;
    }
    let ticket_id = scoped_ticket_id(state, input.ticket_id.as_deref(), input.id)
        .map_err(|reason| Rejection::new(number, "invalid_record", reason, &raw))?;
    let mut data = RawTicket {
        ticket_id,
        requester: input.requester,
        subject: input.subject,
        description: input.description,
        channel: input.channel.unwrap_or_else(|| "api".to_owned()),
        service: input.service,
        attributes: input.attributes,
    };
    let masker = &state.ingest.masker;
    masker.mask(ENDPOINT, &mut data.subject);
    masker.mask(ENDPOINT, &mut data.description);
    data.attributes
        .values_mut()
        .for_each(|value| masker.mask(ENDPOINT, value));
    let span = tracing::info_span!("ingest_ticket", item = number);
    let _entered = span.enter();
    let key = data.requester.clone();
    state
        .ingest
        .prepare(number, input.id, &state.raw_tickets_topic, &key, data, &raw)
}

/// Longest client `ticket_id`.
const MAX_TICKET_ID: usize = 128;

/// The ticket id of a submitted ticket: the client's, scoped to the key, or an assigned one.
fn scoped_ticket_id(state: &AppState, client: Option<&str>, event_id: Option<Uuid>) -> Result<String, String> {
    let key = state
        .caller
        .as_ref()
        .map_or("unauthenticated", |caller| caller.name.as_str());
    match client.map(str::trim) {
        Some("") => Err("ticket_id must not be empty (leave it out to have one assigned)".to_owned()),
        Some(id) if id.len() > MAX_TICKET_ID || id.chars().any(char::is_control) => Err(format!(
            "ticket_id must be at most {MAX_TICKET_ID} bytes without control characters"
        )),
        Some(id) => Ok(format!("{key}:{id}")),
        None => Ok(format!("T-{}", event_id.unwrap_or_else(Uuid::now_v7).simple())),
    }
}
