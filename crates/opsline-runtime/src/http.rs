//! `/healthz`, `/readyz` and `/metrics`, merged into every service's router.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::metrics::Metrics;

/// Readiness flag and metrics, shared with the ops routes.
#[derive(Debug, Clone)]
pub struct OpsState {
    /// Set once the service can do useful work (e.g. Kafka reachable).
    pub ready: Arc<AtomicBool>,
    /// The process registry.
    pub metrics: Metrics,
}

impl OpsState {
    /// A not-yet-ready state around `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            ready: Arc::new(AtomicBool::new(false)),
            metrics,
        }
    }

    /// Marks the service ready or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
}

/// The ops routes: liveness, readiness and Prometheus metrics.
pub fn ops_router<S>(state: OpsState) -> Router<S> {
    Router::new()
        .route("/healthz", get(|| async { Json(serde_json_status("ok")) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

fn serde_json_status(status: &'static str) -> std::collections::BTreeMap<&'static str, &'static str> {
    std::collections::BTreeMap::from([("status", status)])
}

async fn readyz(State(state): State<OpsState>) -> impl IntoResponse {
    if state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, Json(serde_json_status("ready")))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json_status("not ready")))
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
