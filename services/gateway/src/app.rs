//! Building and running the gateway: state, router, listener, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaMetrics, Producer};
use opsline_runtime::Shutdown;
use opsline_runtime::http::{OpsState, ops_router};
use opsline_runtime::metrics::Metrics;
use tokio::net::TcpListener;

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::ingest::{Ingest, Validators};
use crate::metrics::GatewayMetrics;
use crate::routes;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) ingest: Arc<Ingest>,
    pub(crate) raw_logs_topic: String,
    pub(crate) raw_tickets_topic: String,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_record_bytes: usize,
}

/// A built gateway, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    ops: OpsState,
    producer: Producer,
    config: GatewayConfig,
}

impl Application {
    /// Creates the producer, compiles the schemas and binds the listener.
    pub async fn build(config: GatewayConfig, metrics: Metrics) -> Result<Self, GatewayError> {
        let kafka_metrics = KafkaMetrics::register(&metrics);
        let producer =
            Producer::new(&config.kafka, &kafka_metrics).map_err(|e| GatewayError::Startup(e.to_string()))?;
        let validators = Validators::compile().map_err(GatewayError::Startup)?;
        let names = TopicNames::with_prefix(config.topic_prefix.clone());
        let gateway_metrics = GatewayMetrics::register(&metrics);
        let ingest = Arc::new(Ingest {
            producer: producer.clone(),
            validators,
            masker: crate::credentials::CredentialMasker::new(gateway_metrics.masked.clone()),
            metrics: gateway_metrics,
            rejected_topic: names.name(&topics::INGEST_REJECTED),
            queue_wait: Duration::from_millis(config.queue_wait_ms),
        });
        let chat = crate::chat::router(&config.chat, producer.clone(), &names, ingest.metrics.clone());
        let state = AppState {
            ingest,
            raw_logs_topic: names.name(&topics::RAW_LOGS),
            raw_tickets_topic: names.name(&topics::RAW_TICKETS),
            max_body_bytes: config.max_body_bytes,
            max_record_bytes: config.max_record_bytes,
        };
        let ops = OpsState::new(metrics);
        let router = Router::new()
            .route("/v1/logs", post(routes::logs::post_logs))
            .route("/v1/tickets", post(routes::tickets::post_tickets))
            .with_state(state)
            .merge(chat)
            .merge(ops_router(ops.clone()));
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| GatewayError::Startup(format!("cannot listen on {}: {e}", config.listen)))?;
        Ok(Self {
            listener,
            router,
            ops,
            producer,
            config,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until `shutdown` is cancelled, then finishes open requests and flushes the producer.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> std::io::Result<()> {
        let readiness = tokio::spawn(watch_readiness(self.config.clone(), self.ops.clone(), shutdown.clone()));
        let signal = shutdown.clone();
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { signal.cancelled().await })
            .await;
        readiness.abort();
        self.ops.set_ready(false);
        if let Err(error) = self.producer.flush(Duration::from_secs(10)) {
            tracing::warn!(%error, "producer flush at shutdown incomplete");
        }
        tracing::info!("gateway stopped");
        served
    }
}

/// Ready while the broker answers metadata requests.
async fn watch_readiness(config: GatewayConfig, ops: OpsState, shutdown: Shutdown) {
    loop {
        let reachable = opsline_kafka::admin::list_topics(&config.kafka).await.is_ok();
        ops.set_ready(reachable);
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(if reachable { 5 } else { 1 })) => {}
        }
    }
}
