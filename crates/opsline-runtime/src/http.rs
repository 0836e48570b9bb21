//! `/healthz`, `/readyz` and `/metrics`, merged into every service's router.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::metrics::Metrics;
use crate::readiness::{Readiness, ReadyState};

/// Readiness and metrics, shared with the ops routes.
#[derive(Debug, Clone)]
pub struct OpsState {
    /// The service's readiness rule (see [`crate::readiness`]).
    pub readiness: Readiness,
    /// The process registry.
    pub metrics: Metrics,
}

/// The ops routes: liveness, readiness and Prometheus metrics.
pub fn ops_router<S>(state: OpsState) -> Router<S> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// `200 {"status":"ready"}`, or `503` with `"not ready"` and what it waits for, or `"stopping"`.
async fn readyz(State(state): State<OpsState>) -> impl IntoResponse {
    match state.readiness.state() {
        ReadyState::Ready => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
        ReadyState::Waiting(waiting_for) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not ready", "waiting_for": waiting_for })),
        ),
        ReadyState::Stopping => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "stopping" })),
        ),
    }
}

async fn metrics(State(state): State<OpsState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.encode(),
    )
}

/// The JSON body of every error answer: `{"error": code, "reason": text}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ErrorBody {
    /// Stable, machine-readable code.
    pub error: &'static str,
    /// Human-readable reason.
    pub reason: String,
}

/// An error answer with a JSON body; 503 answers also say `Retry-After: 1`.
pub fn json_error(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Response {
    let mut response = (
        status,
        Json(ErrorBody {
            error: code,
            reason: reason.into(),
        }),
    )
        .into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
