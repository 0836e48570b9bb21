//! Building and running the log service: restore state, consume raw logs,
//! tick, serve the HTTP API, and snapshot at shutdown.
//!
//! HTTP API (besides `/healthz`, `/readyz`, `/metrics`):
//! - `POST /v1/incidents/{id}/resolve` (optional JSON body `{"by": "name"}`):
//!   resolves an open incident, publishes its new state, answers
//!   `{"outcome": "resolved" | "already_resolved", "incident": {...}}`;
//!   `404` when no service of this replica knows the incident.
//! - `GET /v1/incidents/{id}`: the incident's current state.
//! - `GET /v1/stats`: lines in, alerts out and the noise reduction.
//! - `POST /v1/admin/flush`: emits every pending suppression summary now (end of a
//!   replay), answers `{"alerts": n}` once they are acknowledged.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opsline_events::TopicNames;
use opsline_kafka::{ConsumerLoop, KafkaMetrics, OutRecord, Producer};
use opsline_runtime::Shutdown;
use opsline_runtime::http::{OpsState, ops_router};
use opsline_runtime::metrics::Metrics;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::config::LogintelConfig;
use crate::engine::{Engine, Outputs, RawPosition};
use crate::error::LogintelError;
use crate::incidents::ResolveOutcome;
use crate::metrics::LogintelMetrics;
use crate::processor::{
    Cadence, LogProcessor, Shared, SharedState, Topics, encode_outputs, final_snapshots, lock, tick,
};
use crate::state::{ServiceSnapshot, restore};

#[derive(Clone)]
struct ApiState {
    shared: SharedState,
    producer: Producer,
    topics: Topics,
    metrics: LogintelMetrics,
}

/// A built log service, bound to its port, state restored, not yet consuming.
pub struct Application {
    listener: TcpListener,
    router: Router,
    ops: OpsState,
    api: ApiState,
    kafka_metrics: KafkaMetrics,
    config: LogintelConfig,
    pending: Vec<OutRecord>,
}

impl Application {
    /// Creates the producer, makes sure the service's topics exist, restores the
    /// state snapshots and binds the listener.
    pub async fn build(config: LogintelConfig, metrics: Metrics) -> Result<Self, LogintelError> {
        let kafka_metrics = KafkaMetrics::register(&metrics);
        let logintel_metrics = LogintelMetrics::register(&metrics);
        let producer =
            Producer::new(&config.kafka, &kafka_metrics).map_err(|e| LogintelError::Startup(e.to_string()))?;
        let names = TopicNames::with_prefix(config.topic_prefix.clone());
        let topics = Topics::new(&names);
        let wanted = names.to_create_among(
            &[
                &topics.raw,
                &topics.templates,
                &topics.alerts,
                &topics.incidents,
                &topics.state,
            ],
            &[&topics.raw],
        );
        opsline_kafka::admin::create_topics(&config.kafka, &wanted)
            .await
            .map_err(|e| LogintelError::Kafka(e.to_string()))?;

        let mut engine = Engine::new(config.engine_config())?;
        let (restored, again) = restore_state(&config, &topics, &mut engine).await?;
        let pending = encode_outputs(&again, &topics)?;
        tracing::info!(services = restored.len(), re_emitted = pending.len(), "state restored");
        let shared = Shared::new(engine, restored);

        let ops = OpsState::new(metrics);
        let api = ApiState {
            shared,
            producer,
            topics,
            metrics: logintel_metrics,
        };
        let router = Router::new()
            .route("/v1/incidents/{id}/resolve", post(resolve_incident))
            .route("/v1/incidents/{id}", get(get_incident))
            .route("/v1/stats", get(stats))
            .route("/v1/admin/flush", post(flush))
            .with_state(api.clone())
            .merge(ops_router(ops.clone()));
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| LogintelError::Startup(format!("cannot listen on {}: {e}", config.listen)))?;
        Ok(Self {
            listener,
            router,
            ops,
            api,
            kafka_metrics,
            config,
            pending,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The shared engine state (tests and the CLI read totals from it).
    pub fn shared(&self) -> SharedState {
        self.api.shared.clone()
    }

    /// Consumes, ticks and serves until `shutdown` is cancelled, then drains, commits,
    /// writes final snapshots and flushes. Dropping the future stops everything abruptly
    /// (no final snapshot, no commit), like a killed process.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> Result<(), LogintelError> {
        let Self {
            listener,
            router,
            ops,
            api,
            kafka_metrics,
            config,
            pending,
        } = self;
        for record in &pending {
            if let Err(error) = api.producer.send(record).await {
                return Err(LogintelError::Kafka(format!("re-emitting restored outputs: {error}")));
            }
        }
        let cadence = Cadence {
            every_lines: config.snapshot_every_lines.max(1),
            interval: Duration::from_millis(config.snapshot_interval_ms.max(10)),
            advance_idle_clock: config.advance_idle_clock,
        };
        let processor = LogProcessor::new(api.shared.clone(), api.topics.clone(), api.metrics.clone(), cadence);
        let consumer = ConsumerLoop::new(
            &config.kafka,
            &config.group_id,
            vec![api.topics.raw.clone()],
            api.producer.clone(),
            &kafka_metrics,
            crate::processor::COMPONENT,
        );
        ops.set_ready(true);
        let signal = shutdown.clone();
        let server = async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { signal.cancelled().await })
                .await
        };
        let ticker = tick_loop(api.clone(), cadence, &config, shutdown.clone());
        let consuming = async {
            let result = consumer.run(processor, shutdown.clone()).await;
            shutdown.cancel();
            result
        };
        let (served, (), consumed) = tokio::join!(server, ticker, consuming);
        ops.set_ready(false);
        for record in final_snapshots(&api.shared, &api.topics, &api.metrics) {
            if let Err(error) = api.producer.send(&record).await {
                tracing::warn!(%error, "final snapshot not written");
            }
        }
        if let Err(error) = api.producer.flush(Duration::from_secs(10)) {
            tracing::warn!(%error, "producer flush at shutdown incomplete");
        }
        report(&api, true);
        tracing::info!("logintel stopped");
        consumed.map_err(|e| LogintelError::Kafka(e.to_string()))?;
        served.map_err(|e| LogintelError::Startup(e.to_string()))?;
        Ok(())
    }
}

async fn restore_state(
    config: &LogintelConfig,
    topics: &Topics,
    engine: &mut Engine,
) -> Result<(HashMap<String, RawPosition>, Outputs), LogintelError> {
    let records = opsline_kafka::reader::read_until_idle(
        &config.kafka,
        &topics.state,
        Duration::from_millis(config.restore_idle_ms.max(100)),
        Duration::from_secs(60),
    )
    .await
    .map_err(|e| LogintelError::Kafka(e.to_string()))?;
    let mut latest: HashMap<String, ServiceSnapshot> = HashMap::new();
    for record in &records {
        match ServiceSnapshot::from_json(record.payload_bytes()) {
            Ok(snapshot) => {
                latest.insert(snapshot.service.clone(), snapshot);
            }
            Err(error) => {
                tracing::warn!(partition = record.partition, offset = record.offset, %error, "skipping bad snapshot")
            }
        }
    }
    let mut positions = HashMap::new();
    let mut again = Outputs::default();
    for (service, snapshot) in latest {
        if let Some(position) = snapshot.position {
            positions.insert(service.clone(), position);
        }
        match restore(engine, snapshot) {
            Ok(outputs) => again.extend(outputs),
            Err(error) => tracing::warn!(%service, %error, "cannot restore service state; starting fresh"),
        }
    }
    Ok((positions, again))
}

async fn tick_loop(api: ApiState, cadence: Cadence, config: &LogintelConfig, shutdown: Shutdown) {
    let mut interval = tokio::time::interval(Duration::from_millis(config.tick_interval_ms.max(10)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let report_every = Duration::from_secs(config.report_interval_secs.max(1));
    let mut last_report = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        for record in tick(&api.shared, cadence, &api.metrics, &api.topics) {
            if let Err(error) = api.producer.send(&record).await {
                tracing::warn!(topic = %record.topic, %error, "tick output not delivered");
            }
        }
        if last_report.elapsed() >= report_every {
            last_report = tokio::time::Instant::now();
            report(&api, false);
        }
    }
}

/// Logs the noise reduction and updates its gauge.
fn report(api: &ApiState, always: bool) {
    let totals = lock(&api.shared).engine.totals();
    let per_alert = if totals.alerts_out == 0 {
        totals.lines_in as f64
    } else {
        totals.lines_in as f64 / totals.alerts_out as f64
    };
    api.metrics.lines_per_alert.set(per_alert);
    if always || totals.lines_in > 0 {
        tracing::info!(
            lines_in = totals.lines_in,
            alerts_out = totals.alerts_out,
            replays_skipped = totals.replays_skipped,
            "noise reduction: {} lines in, {} alerts out ({per_alert:.1} lines per alert)",
            totals.lines_in,
            totals.alerts_out
        );
    }
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
    let Ok(id) = id.parse::<Uuid>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{id:?} is not an incident id"),
        );
    };
    let request: ResolveRequest = if body.is_empty() {
        ResolveRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
        }
    };
    let by: String = request
        .by
        .unwrap_or_else(|| "operator".to_owned())
        .chars()
        .take(128)
        .collect();
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
