//! The log service's HTTP API (besides `/healthz`, `/readyz`, `/metrics`):
//! - `POST /v1/incidents/{id}/resolve` (optional JSON body `{"by": "name"}`):
//!   resolves an open incident, publishes its new state, answers
//!   `{"outcome": "resolved" | "already_resolved", "incident": {...}}`;
//!   `404` when no service of this replica knows the incident.
//! - `POST /v1/incidents/{id}/postmortem` (optional JSON body `{"by": "name"}`): a person
//!   declares that the incident needs a postmortem, whatever the policy decided; publishes
//!   its new state and answers `{"outcome": "declared", "incident": {...}}`; `404` when unknown.
//! - `POST /v1/incidents/{id}/acknowledge` (optional JSON body `{"by": "name"}`): a person
//!   takes an open incident; publishes its new state (`response.acknowledged_by/_at`) and
//!   answers `{"outcome": "acknowledged" | "already_acknowledged", "incident": {...}}` (the
//!   first acknowledgement is kept); `409` when it is resolved, `404` when unknown.
//! - `POST /v1/incidents/{id}/assign` (JSON body `{"by": "name", "assignee": "name"}`): assigns
//!   an open incident to a person (an assignment also acknowledges it); answers
//!   `{"outcome": "assigned", "incident": {...}}`; `409` when resolved, `404` when unknown.
//! - `GET /v1/incidents/{id}`: the incident's current state.
//! - `GET /v1/stats`: lines in, alerts out and the noise reduction.
//! - `GET /v1/stats/lines?bucket=hour|day&limit=N`: log lines received per service over time,
//!   `{"bucket", "bucket_secs", "services": {service: {bucket start (RFC 3339): lines}}}`, the
//!   newest `limit` buckets (default 60) of each service (see [`crate::volume`]).
//! - `POST /v1/admin/flush`: emits every pending suppression summary now (end of a
//!   replay), answers `{"alerts": n}` once they are acknowledged.
//!
//! Every `POST` needs an SRE token (see [`crate::api_auth`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use opsline_auth::TokenStore;
use opsline_events::logs::{Incident, IncidentResponse};
use opsline_kafka::Producer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::Outputs;
use crate::incidents::ResolveOutcome;
use crate::metrics::LogintelMetrics;
use crate::processor::{SharedState, Topics, encode_outputs, lock};
use crate::volume::Bucket;

/// What the handlers (and the ticker) reach.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub(crate) shared: SharedState,
    pub(crate) producer: Producer,
    pub(crate) topics: Topics,
    pub(crate) metrics: LogintelMetrics,
    /// The API tokens that may change incidents.
    pub(crate) tokens: Arc<TokenStore>,
}

/// The service's routes.
pub(crate) fn router(api: ApiState) -> Router {
    let changes = Router::new()
        .route("/v1/incidents/{id}/resolve", post(resolve_incident))
        .route("/v1/incidents/{id}/postmortem", post(declare_postmortem))
        .route("/v1/incidents/{id}/acknowledge", post(acknowledge_incident))
        .route("/v1/incidents/{id}/assign", post(assign_incident))
        .route("/v1/admin/flush", post(flush))
        .route_layer(axum::middleware::from_fn_with_state(
            api.tokens.clone(),
            crate::api_auth::require_sre,
        ));
    Router::new()
        .route("/v1/incidents/{id}", get(get_incident))
        .route("/v1/stats", get(stats))
        .route("/v1/stats/lines", get(line_stats))
        .merge(changes)
        .with_state(api)
}

#[derive(Debug, Default, Deserialize)]
struct ResolveRequest {
    #[serde(default)]
    by: Option<String>,
    /// Only for `assign`.
    #[serde(default)]
    assignee: Option<String>,
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
    let outcome = lock(&api.shared)
        .engine
        .resolve_incident(id, &by, Some(Timestamp::now()));
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
    parse_request(id, body).map(|(id, by, _)| (id, by))
}

/// The incident id, `by` and `assignee` of an action request, or why it is bad.
fn parse_request(id: &str, body: &[u8]) -> Result<(Uuid, String, Option<String>), String> {
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
    let assignee = request
        .assignee
        .map(|a| a.trim().chars().take(128).collect::<String>())
        .filter(|a| !a.is_empty());
    Ok((id, by, assignee))
}

async fn acknowledge_incident(
    State(api): State<ApiState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    match parse_request(&id, &body) {
        Ok((id, by, _)) => take_incident(&api, id, &by, Take::Acknowledge).await,
        Err(reason) => error(StatusCode::BAD_REQUEST, "bad_request", reason),
    }
}

async fn assign_incident(State(api): State<ApiState>, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    match parse_request(&id, &body) {
        Ok((id, by, Some(assignee))) => take_incident(&api, id, &by, Take::Assign(assignee)).await,
        Ok(_) => error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "assign needs a non-empty \"assignee\"".to_owned(),
        ),
        Err(reason) => error(StatusCode::BAD_REQUEST, "bad_request", reason),
    }
}

/// Applies an acknowledgement or assignment to the incident's book, publishes the new state
/// when it changed, and answers with it.
pub(crate) async fn take_incident(api: &ApiState, id: Uuid, by: &str, take: Take) -> Response {
    let outcome = {
        let mut shared = lock(&api.shared);
        let engine = &mut shared.engine;
        engine.service_names().into_iter().find_map(|name| {
            let state = engine.service_mut(&name)?;
            let at = crate::detector::suppress::ms_to_ts(state.detector.clock_ms);
            let book = &mut state.incidents;
            let outcome = if let Some(incident) = book.open.iter_mut().find(|i| i.incident_id == id) {
                let at = at.max(incident.updated_at);
                let changed = apply_take(incident, by, (at, Timestamp::now()), &take);
                Some((
                    if changed { Taken::Changed } else { Taken::Unchanged },
                    incident.clone(),
                ))
            } else {
                book.recently_resolved
                    .iter()
                    .find(|i| i.incident_id == id)
                    .map(|i| (Taken::Resolved, i.clone()))
            };
            if matches!(outcome, Some((Taken::Changed, _))) {
                state.dirty = true;
            }
            outcome
        })
    };
    let Some((taken, incident)) = outcome else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("incident {id} is not known here"),
        );
    };
    match taken {
        Taken::Resolved => {
            return error(
                StatusCode::CONFLICT,
                "resolved",
                format!("incident {id} is resolved; only an open incident can be acknowledged or assigned"),
            );
        }
        Taken::Changed => {
            let outputs = Outputs {
                incidents: vec![incident.clone()],
                ..Outputs::default()
            };
            if let Err(response) = publish_outputs(api, &outputs).await {
                return response;
            }
        }
        Taken::Unchanged => {}
    }
    let outcome = match (&take, taken) {
        (Take::Acknowledge, Taken::Changed) => "acknowledged",
        (Take::Acknowledge, _) => "already_acknowledged",
        (Take::Assign(_), _) => "assigned",
    };
    (StatusCode::OK, Json(ResolveResponse { outcome, incident })).into_response()
}

/// What a person does to an open incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Take {
    /// "I am on it."
    Acknowledge,
    /// Hands it to this person.
    Assign(String),
}

/// What a take did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    Changed,
    Unchanged,
    Resolved,
}

/// Records `take` on `incident` by `by` at `at` (the service's event clock) and `wall` (the
/// wall clock); whether the incident changed. The first acknowledgement is kept; an assignment
/// acknowledges an unacknowledged incident too.
fn apply_take(incident: &mut Incident, by: &str, (at, wall): (Timestamp, Timestamp), take: &Take) -> bool {
    let response = incident.response.get_or_insert_with(IncidentResponse::default);
    let before = response.clone();
    if response.acknowledged_by.is_none() {
        response.acknowledged_by = Some(by.to_owned());
        response.acknowledged_at = Some(at);
        response.acknowledged_wall_at = Some(wall);
    }
    if let Take::Assign(assignee) = take {
        if response.assignee.as_deref() != Some(assignee.as_str()) {
            response.assignee = Some(assignee.clone());
            response.assigned_by = Some(by.to_owned());
            response.assigned_at = Some(at);
        }
    }
    *response != before
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

/// Query of `GET /v1/stats/lines`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinesQuery {
    #[serde(default = "default_bucket")]
    bucket: Bucket,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_bucket() -> Bucket {
    Bucket::Hour
}

fn default_limit() -> usize {
    60
}

async fn line_stats(State(api): State<ApiState>, query: Result<Query<LinesQuery>, QueryRejection>) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, "bad_request", rejection.body_text()),
    };
    let limit = query.limit.min(query.bucket.kept());
    let services: BTreeMap<String, BTreeMap<String, u64>> = {
        let shared = lock(&api.shared);
        shared
            .engine
            .volumes()
            .map(|(service, volume)| {
                let buckets = volume
                    .newest(query.bucket, limit)
                    .filter_map(|(start, lines)| Some((Timestamp::from_second(start).ok()?.to_string(), lines)))
                    .collect();
                (service.to_owned(), buckets)
            })
            .collect()
    };
    let body = serde_json::json!({
        "bucket": match query.bucket { Bucket::Hour => "hour", Bucket::Day => "day" },
        "bucket_secs": query.bucket.seconds(),
        "services": services,
    });
    (StatusCode::OK, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use opsline_events::Event;

    use super::*;

    fn open_incident() -> Incident {
        let mut incident = Incident::sample();
        incident.response = None;
        incident
    }

    #[test]
    fn the_first_acknowledgement_is_kept() {
        let mut incident = open_incident();
        let t1 = Timestamp::from_second(1_000).unwrap();
        let t2 = Timestamp::from_second(2_000).unwrap();
        let wall = Timestamp::from_second(1_796_515_200).unwrap();
        assert!(apply_take(&mut incident, "alice", (t1, wall), &Take::Acknowledge));
        assert!(!apply_take(&mut incident, "bob", (t2, t2), &Take::Acknowledge));
        let response = incident.response.unwrap();
        assert_eq!(response.acknowledged_by.as_deref(), Some("alice"));
        assert_eq!(response.acknowledged_at, Some(t1), "the log's clock");
        assert_eq!(response.acknowledged_wall_at, Some(wall), "the wall clock");
        assert_eq!(response.assignee, None);
    }

    #[test]
    fn assigning_acknowledges_and_reassigning_changes_the_assignee() {
        let mut incident = open_incident();
        let t1 = Timestamp::from_second(1_000).unwrap();
        let t2 = Timestamp::from_second(2_000).unwrap();
        assert!(apply_take(
            &mut incident,
            "alice",
            (t1, t1),
            &Take::Assign("bob".into())
        ));
        assert!(!apply_take(
            &mut incident,
            "alice",
            (t2, t2),
            &Take::Assign("bob".into())
        ));
        assert!(apply_take(
            &mut incident,
            "carol",
            (t2, t2),
            &Take::Assign("dan".into())
        ));
        let response = incident.response.unwrap();
        assert_eq!(response.acknowledged_by.as_deref(), Some("alice"));
        assert_eq!(response.assignee.as_deref(), Some("dan"));
        assert_eq!(response.assigned_by.as_deref(), Some("carol"));
        assert_eq!(response.assigned_at, Some(t2));
    }

    #[test]
    fn requests_are_checked() {
        let id = Uuid::now_v7().to_string();
        assert!(parse_request("nope", b"").is_err());
        assert!(parse_request(&id, b"{").is_err());
        let (_, by, assignee) = parse_request(&id, br#"{"by":"al","assignee":"  "}"#).unwrap();
        assert_eq!((by.as_str(), assignee), ("al", None));
        let (_, by, assignee) = parse_request(&id, b"").unwrap();
        assert_eq!((by.as_str(), assignee), ("operator", None));
    }
}
