//! The JSON API (bearer tokens; every list takes the filters of [`crate::query`]):
//! - `GET /v1/incidents`, `GET /v1/incidents/{id}` (with its alerts and linked tickets);
//! - `POST /v1/incidents/{id}/acknowledge | assign | resolve | postmortem` (SREs; `assign`
//!   takes `{"assignee": "name"}`), answering `{"outcome": "done", "incident": {...}}`;
//! - `GET /v1/alerts`, `GET /v1/alerts/{id}`;
//! - `GET /v1/tickets`, `GET /v1/tickets/{id}`, `POST /v1/tickets/{id}/reroute`
//!   (`{"queue": "...", "note": "..."}`; helpdesk and SREs), `GET /v1/queues`;
//! - `GET /v1/insights`: log lines received (`lines`, from the log service; when it does not
//!   answer, `lines_unavailable` says why), incidents, alerts and alerted lines per time bucket and service,
//!   MTTA/MTTR per service, routed tickets per queue and priority, and `automation`: LLM calls,
//!   latency p50/p95, cache hit rate and cost per use case and self-service deflection (the
//!   figures of `opsline report --json`);
//! - `GET /v1/whoami`: the caller's name, role and teams.
//!
//! Errors are `{"error": code, "reason": text}` with 400, 401, 403, 404, 409 or 503.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use opsline_auth::Principal;
use serde::Deserialize;
use uuid::Uuid;

use crate::actions::{IncidentAction, RerouteRequest};
use crate::error::ConsoleError;
use crate::lists;
use crate::query::ListParams;
use crate::state::AppState;

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/incidents", get(list_incidents))
        .route("/v1/incidents/{id}", get(get_incident))
        .route("/v1/incidents/{id}/{action}", post(act_on_incident))
        .route("/v1/alerts", get(list_alerts))
        .route("/v1/alerts/{id}", get(get_alert))
        .route("/v1/tickets", get(list_tickets))
        .route("/v1/tickets/{id}", get(get_ticket))
        .route("/v1/tickets/{id}/reroute", post(reroute))
        .route("/v1/queues", get(queues))
        .route("/v1/whoami", get(whoami))
        .route("/v1/insights", get(insights))
        .route("/v1/records/{partition}/{offset}", get(get_record))
}

type ApiResult = Result<Response, ConsoleError>;

/// The query of a list, or a `400` naming the bad parameter.
pub fn params(query: Result<Query<ListParams>, QueryRejection>) -> Result<ListParams, ConsoleError> {
    query
        .map(|Query(params)| params)
        .map_err(|rejection| ConsoleError::BadRequest(rejection.body_text()))
}

fn parse_id(id: &str, what: &str) -> Result<Uuid, ConsoleError> {
    id.parse()
        .map_err(|_| ConsoleError::BadRequest(format!("{id:?} is not {what} id")))
}

async fn list_incidents(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult {
    let who = state.api_principal(&headers)?;
    let params = params(query)?;
    let page = lists::incidents(&state.views.read(), &who, &params, Timestamp::now())?;
    Ok(Json(page).into_response())
}

async fn get_incident(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = state.api_principal(&headers)?;
    let id = parse_id(&id, "an incident")?;
    let detail =
        lists::incident(&state.views.read(), &who, id).ok_or(ConsoleError::NotFound(format!("incident {id}")))?;
    Ok(Json(detail).into_response())
}

/// Body of an incident action (only `assign` needs one).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    #[serde(default)]
    assignee: Option<String>,
}

async fn act_on_incident(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult {
    let who = state.api_principal(&headers)?;
    let id = parse_id(&id, "an incident")?;
    let body: ActionBody = if body.is_empty() {
        ActionBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ConsoleError::BadRequest(format!("body: {e}")))?
    };
    let action = IncidentAction::parse(&action, body.assignee.as_deref())?;
    let incident = state.actions.on_incident(&who, id, action).await?;
    Ok(Json(serde_json::json!({ "outcome": "done", "incident": incident })).into_response())
}

async fn list_alerts(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult {
    let who = state.api_principal(&headers)?;
    let params = params(query)?;
    let page = lists::alerts(&state.views.read(), &who, &params, Timestamp::now())?;
    Ok(Json(page).into_response())
}

async fn get_alert(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = state.api_principal(&headers)?;
    let id = parse_id(&id, "an alert")?;
    let alert = lists::alert(&state.views.read(), &who, id).ok_or(ConsoleError::NotFound(format!("alert {id}")))?;
    Ok(Json(alert).into_response())
}

async fn list_tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult {
    state.api_principal(&headers)?;
    let params = params(query)?;
    let page = lists::tickets(&state.views.read(), &params, Timestamp::now())?;
    Ok(Json(page).into_response())
}

async fn get_ticket(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    state.api_principal(&headers)?;
    let ticket = state
        .views
        .read()
        .ticket(&id)
        .map(lists::TicketSummary::of)
        .ok_or_else(|| ConsoleError::NotFound(format!("ticket {id}")))?;
    Ok(Json(ticket).into_response())
}

async fn reroute(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let who = state.api_principal(&headers)?;
    let request: RerouteRequest =
        serde_json::from_slice(&body).map_err(|e| ConsoleError::BadRequest(format!("body: {e}")))?;
    let ticket = state.actions.reroute(&who, &id, request).await?;
    Ok(Json(serde_json::json!({ "outcome": "rerouted", "ticket": ticket })).into_response())
}

async fn queues(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    state.api_principal(&headers)?;
    Ok(Json(state.actions.known_queues()).into_response())
}

async fn insights(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let who = state.api_principal(&headers)?;
    Ok(Json(crate::insights::gather(&state, &who).await).into_response())
}

async fn get_record(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((partition, offset)): Path<(i32, i64)>,
) -> ApiResult {
    let who = state.api_principal(&headers)?;
    let cited = crate::records::citers(&state.views.read(), &who, &state.records.raw_topic, partition, offset);
    let record = state.records.cited(cited, partition, offset).await?;
    Ok(Json(record).into_response())
}

async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let who: Principal = state.api_principal(&headers)?;
    let body = serde_json::json!({
        "name": who.name,
        "role": who.role_name(),
        "teams": who.viewer.teams,
    });
    Ok((StatusCode::OK, Json(body)).into_response())
}
