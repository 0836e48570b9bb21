//! The log service's HTTP API (besides `/healthz`, `/readyz`, `/metrics`):
//! - `POST /v1/incidents/{id}/resolve` (optional JSON body `{"by": "name"}`):
//!   resolves an open incident, publishes its new state, answers
//!   `{"outcome": "resolved" | "already_resolved", "incident": {...}}`;
//!   `404` when no service of this replica knows the incident.
//! - `POST /v1/incidents/{id}/postmortem` (optional JSON body `{"by": "name"}`): a person
//!   declares that the incident needs a postmortem, whatever the policy decided; publishes
//!   its new state and answers `{"outcome": "declared", "incident": {...}}`; `404` when unknown.
//! - `GET /v1/incidents/{id}`: the incident's current state.
//! - `GET /v1/stats`: lines in, alerts out and the noise reduction.
//! - `POST /v1/admin/flush`: emits every pending suppression summary now (end of a
//!   replay), answers `{"alerts": n}` once they are acknowledged.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opsline_kafka::Producer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::Outputs;
use crate::incidents::ResolveOutcome;
use crate::metrics::LogintelMetrics;
use crate::processor::{SharedState, Topics, encode_outputs, lock};

/// What the handlers (and the ticker) reach.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub(crate) shared: SharedState,
    pub(crate) producer: Producer,
    pub(crate) topics: Topics,
    pub(crate) metrics: LogintelMetrics,
}

/// The service's routes.
pub(crate) fn router(api: ApiState) -> Router {
    Router::new()
        .route("/v1/incidents/{id}/resolve", post(resolve_incident))
        .route("/v1/incidents/{id}/postmortem", post(declare_postmortem))
        .route("/v1/incidents/{id}", get(get_incident))
        .route("/v1/stats", get(stats))
        .route("/v1/admin/flush", post(flush))
        .with_state(api)
}

#[derive(Debug, Default, Deserialize)]
struct ResolveRequest {
    #[serde(default)]
    by: Option<String>,
}

#[derive(Debug, Serialize)]
struct ResolveResponse {
    outcome: &'static str,
    incident: opsline_events::logs::Incident,
}

fn error(status: StatusCode, code: &'static str, reason: String) -> Response {
    opsline_runtime::http::json_error(status, code, reason)
}

async fn resolve_incident(State(api): State<ApiState>, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let (id, by) = match parse_action(&id, &body) {
        Ok(parsed) => parsed,
        Err(reason) => return error(StatusCode::BAD_REQUEST, "bad_request", reason),
    };
    let outcome = lock(&api.shared).engine.resolve_incident(id, &by);
    let Some((outcome, incident)) = outcome else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("incident {id} is not known here"),
        );
    };
    if outcome == ResolveOutcome::Resolved {
        let outputs = Outputs {
            incidents: vec![incident.clone()],
            ..Outputs::default()
        };
        if let Err(response) = publish_outputs(&api, &outputs).await {
            return response;
        }
    }
    let outcome = match outcome {
        ResolveOutcome::Resolved => "resolved",
        ResolveOutcome::AlreadyResolved => "already_resolved",
    };
    (StatusCode::OK, Json(ResolveResponse { outcome, incident })).into_response()
}

/// The incident id of the path and the `by` of the optional body, or why the request is bad.
fn parse_action(id: &str, body: &[u8]) -> Result<(Uuid, String), String> {
    let Ok(id) = id.parse::<Uuid>() else {
        return Err(format!("{id:?} is not an incident id"));
    };
    let request: ResolveRequest = if body.is_empty() {
        ResolveRequest::default()
    } else {
        serde_json::from_slice(body).map_err(|e| e.to_string())?
    };
    let by = request
        .by
        .unwrap_or_else(|| "operator".to_owned())
        .chars()
        .take(128)
        .collect();
    Ok((id, by))
}

async fn declare_postmortem(State(api): State<ApiState>, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let (id, by) = match parse_action(&id, &body) {
        Ok(parsed) => parsed,
        Err(reason) => return error(StatusCode::BAD_REQUEST, "bad_request", reason),
    };
    let declared = lock(&api.shared).engine.declare_postmortem(id, &by);
    let Some(incident) = declared else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("incident {id} is not known here"),
        );
    };
    let outputs = Outputs {
        incidents: vec![incident.clone()],
        ..Outputs::default()
    };
    if let Err(response) = publish_outputs(&api, &outputs).await {
        return response;
    }
    (
        StatusCode::OK,
        Json(ResolveResponse {
            outcome: "declared",
            incident,
        }),
    )
        .into_response()
}

/// Counts, encodes and sends outputs made by an API call; the error is the answer to give.
async fn publish_outputs(api: &ApiState, outputs: &Outputs) -> Result<(), Response> {
    api.metrics.count_outputs(outputs);
    let records = encode_outputs(outputs, &api.topics)
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, "encode", e.to_string()))?;
    for record in &records {
        api.producer
            .send(record)
            .await
            .map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string()))?;
    }
    Ok(())
}

async fn flush(State(api): State<ApiState>) -> Response {
    let outputs = lock(&api.shared).engine.finish();
    if let Err(response) = publish_outputs(&api, &outputs).await {
        return response;
    }
    (
        StatusCode::OK,
        Json(serde_json::json!({ "alerts": outputs.alerts.len() })),
    )
        .into_response()
}

async fn get_incident(State(api): State<ApiState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{id:?} is not an incident id"),
        );
    };
    match lock(&api.shared).engine.incident(id).cloned() {
        Some(incident) => (StatusCode::OK, Json(incident)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("incident {id} is not known here"),
        ),
    }
}

async fn stats(State(api): State<ApiState>) -> Response {
    let shared = lock(&api.shared);
    let totals = shared.engine.totals();
    let body = serde_json::json!({
        "lines_in": totals.lines_in,
        "alerts_out": totals.alerts_out,
        "replays_skipped": totals.replays_skipped,
        "services": shared.engine.service_names(),
    });
    (StatusCode::OK, Json(body)).into_response()
}
