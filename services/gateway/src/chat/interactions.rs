//! `POST /v1/chat/slack/interactions`: Slack's interactivity requests (a click on a button of
//! a message), form-encoded with one field `payload` (JSON), signed like Slack's events
//! (`X-Slack-Signature` over `v0:{timestamp}:{body}`, `X-Slack-Request-Timestamp`) and checked by
//! the same verifier, replay memory included. A click on the notify service's Acknowledge button
//! (`block_actions`, `action_id` `opsline_acknowledge`, `value` = incident id) becomes an
//! `incident.action` record on `opsline.incidents.actions.v1` by `slack:<user.id>`; the log
//! service applies it. Other interactions are answered `200` and ignored.
//!
//! # Delivery guarantee
//!
//! `200` only after the broker acknowledged the action; otherwise `503`. Slack does not retry
//! interactions: the person clicks again (acknowledging twice keeps the first).

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use opsline_events::Envelope;
use opsline_events::actions::{IncidentAction, IncidentActionKind, SLACK_ACKNOWLEDGE_ACTION};
use opsline_kafka::OutRecord;
use serde::Deserialize;
use serde_json::json;

use super::signature::Refusal;
use super::{ChatState, header, now_secs};
use crate::routes::read_body;

pub(super) const SLACK_INTERACTIONS_ENDPOINT: &str = "/v1/chat/slack/interactions";

#[derive(Deserialize)]
struct Form {
    payload: String,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    user: Option<User>,
    #[serde(default)]
    actions: Vec<Action>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

#[derive(Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    value: Option<String>,
}

pub(super) async fn post_slack_interaction(State(state): State<ChatState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let response = match handle(&state, &headers, body).await {
        Ok(response) => response,
        Err(refusal) => state.refuse("slack", refusal, started),
    };
    state.count(SLACK_INTERACTIONS_ENDPOINT, &response);
    response
}

async fn handle(state: &ChatState, headers: &HeaderMap, body: Body) -> Result<Response, Refusal> {
    let Some(verifier) = &state.slack else {
        return Err(Refusal::new("not_configured", "Slack signing secret not configured"));
    };
    let body = read_body(headers, body, state.max_body_bytes)
        .await
        .map_err(|e| Refusal::new("bad_request", e.to_string()))?;
    verifier.verify(
        header(headers, "x-slack-request-timestamp"),
        header(headers, "x-slack-signature"),
        &body,
        now_secs(),
    )?;
    let form: Form = serde_urlencoded::from_bytes(&body)
        .map_err(|_| Refusal::new("bad_request", "an interaction is a form with a `payload` field"))?;
    let payload: Payload = serde_json::from_str(&form.payload)
        .map_err(|e| Refusal::new("bad_request", format!("the interaction payload is not valid JSON: {e}")))?;
    if payload.kind != "block_actions" {
        return Ok(axum::Json(json!({ "ok": true, "ignored": "not a block action" })).into_response());
    }
    let user = payload
        .user
        .map(|u| u.id)
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or_else(|| Refusal::new("bad_request", "the interaction names no user"))?;
    let mut acknowledged = Vec::new();
    for action in payload
        .actions
        .iter()
        .filter(|a| a.action_id == SLACK_ACKNOWLEDGE_ACTION)
    {
        let incident_id = action
            .value
            .as_deref()
            .and_then(|v| v.parse::<uuid::Uuid>().ok())
            .ok_or_else(|| Refusal::new("bad_request", "the Acknowledge button carries no incident id"))?;
        let action = IncidentAction {
            action_id: uuid::Uuid::now_v7(),
            incident_id,
            action: IncidentActionKind::Acknowledge,
            by: format!("slack:{user}"),
            source: "slack".to_owned(),
            requested_at: jiff::Timestamp::now(),
        };
        let envelope = Envelope::new("gateway", action).with_trace(opsline_kafka::record::current_trace_context());
        let record = OutRecord::event(state.actions_topic.clone(), &incident_id.to_string(), &envelope)
            .map_err(|e| Refusal::new("internal", format!("cannot encode the action: {e}")))?;
        match tokio::time::timeout(state.publish_timeout, state.producer.send(&record)).await {
            Ok(Ok(_)) => acknowledged.push(incident_id),
            Ok(Err(error)) => return Err(Refusal::new("unavailable", format!("event bus unavailable: {error}"))),
            Err(_) => return Err(Refusal::new("unavailable", "event bus did not acknowledge in time")),
        }
    }
    if acknowledged.is_empty() {
        return Ok(axum::Json(json!({ "ok": true, "ignored": "no Opsline action" })).into_response());
    }
    Ok(axum::Json(json!({ "ok": true, "acknowledged": acknowledged })).into_response())
}
