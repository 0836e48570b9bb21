//! `POST /v1/tickets`: one JSON ticket or a JSON array of tickets.

use std::collections::BTreeMap;

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

const ENDPOINT: &str = "/v1/tickets";

/// One submitted ticket.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketInput {
    /// Client-chosen event id (UUID) for idempotent retries.
    #[serde(default)]
    id: Option<Uuid>,
    /// The source system's ticket id; assigned when absent.
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

pub(crate) async fn post_tickets(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match handle(state, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(state: AppState, headers: HeaderMap, body: Body) -> Result<Response, GatewayError> {
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
    let ticket_id = input
        .ticket_id
        .unwrap_or_else(|| format!("T-{}", Uuid::now_v7().simple()));
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
