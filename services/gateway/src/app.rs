//! The gateway as a [`Service`]: its topic plan, state and routes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaWiring, TopicPlan};
use opsline_runtime::{Runner, Service, StartupError};

use crate::config::GatewayConfig;
use crate::guard::Guard;
use crate::ingest::{Ingest, Validators};
use crate::keys::{IngestEndpoint, IngestKeyConfig};
use crate::metrics::GatewayMetrics;
use crate::routes;

/// The name of the gateway in dead letters and usage records.
pub(crate) const COMPONENT: &str = "gateway";

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) ingest: Arc<Ingest>,
    pub(crate) raw_logs_topic: String,
    pub(crate) raw_tickets_topic: String,
    pub(crate) external_alerts_topic: String,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_record_bytes: usize,
    /// The source of the request being handled (set by each handler from the guard's extension).
    pub(crate) caller: Option<Arc<crate::keys::Caller>>,
}

/// The ingest gateway: validates, masks and produces logs, tickets and chat messages.
pub struct Gateway;

/// What a built gateway shows: where its syslog listeners are bound.
#[derive(Debug, Clone, Copy, Default)]
pub struct GatewayHandle {
    /// The syslog listeners (none unless configured).
    pub syslog: crate::syslog::SyslogAddrs,
}

impl Service for Gateway {
    const NAME: &'static str = "gateway";
    const ABOUT: &'static str = "The ingest gateway: POST /v1/logs, POST /v1/tickets and the signed chat webhooks \
(/v1/chat/slack, /v1/chat/webhook); Alertmanager's webhook on /v1/alerts/alertmanager; OpenTelemetry logs (OTLP/HTTP) on /v1/logs; syslog over TCP, TLS and UDP \
when [gateway.syslog] names listeners. Records are validated, credentials masked, and each is answered 202 only \
once the broker acknowledged it.";
    type Config = GatewayConfig;
    type Extras = ();
    type Handle = GatewayHandle;

    async fn build(config: GatewayConfig, (): (), runner: &mut Runner) -> Result<GatewayHandle, StartupError> {
        let names = TopicNames::with_prefix(config.topic_prefix.clone());
        let mut plan = TopicPlan::new(names.clone());
        plan.produce(&[
            &topics::RAW_LOGS,
            &topics::RAW_TICKETS,
            &topics::EXTERNAL_ALERTS,
            &topics::CHAT_MESSAGES,
            &topics::SELFSERVICE_AUDIT,
            &topics::INCIDENT_ACTIONS,
            &topics::INGEST_REJECTED,
        ]);
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let producer = kafka.producer().clone();
        let validators = Validators::compile().map_err(StartupError::new)?;
        let gateway_metrics = GatewayMetrics::register(runner.metrics());
        let ingest = Arc::new(Ingest {
            producer: producer.clone(),
            validators,
            masker: crate::credentials::CredentialMasker::new(gateway_metrics.masked.clone()),
            metrics: gateway_metrics,
            rejected_topic: names.name(&topics::INGEST_REJECTED),
            queue_wait: Duration::from_millis(config.queue_wait_ms),
        });
        let chat = crate::chat::router(&config.chat, producer, &names, ingest.metrics.clone());
        let syslog = crate::syslog::start(
            &config.syslog,
            ingest.clone(),
            names.name(&topics::RAW_LOGS),
            config.max_record_bytes,
            runner,
        )
        .await?;
        let state = AppState {
            ingest,
            raw_logs_topic: names.name(&topics::RAW_LOGS),
            raw_tickets_topic: names.name(&topics::RAW_TICKETS),
            external_alerts_topic: names.name(&topics::EXTERNAL_ALERTS),
            max_body_bytes: config.max_body_bytes,
            max_record_bytes: config.max_record_bytes,
            caller: None,
        };
        let keys = crate::keys::KeyStore::new(&all_keys(&config)).map_err(|e| StartupError::new(e.to_string()))?;
        if keys.is_empty() {
            tracing::warn!(
                "no ingest key configured ([[gateway.keys]]): /v1/logs, /v1/tickets and /v1/alerts/alertmanager \
                 refuse every request with 401"
            );
        } else {
            tracing::info!(keys = keys.len(), "ingest keys configured");
        }
        let guard = Guard::new(
            keys,
            config.max_body_bytes,
            config.max_in_flight_bytes,
            runner.metrics(),
        );
        runner.request_timeout(Duration::from_millis(config.request_timeout_ms));
        runner.serve(
            Router::new()
                .route("/v1/logs", post(routes::logs::post_logs))
                .route("/v1/tickets", post(routes::tickets::post_tickets))
                .route("/v1/alerts/alertmanager", post(routes::alertmanager::post_alertmanager))
                .route(
                    "/v1/alerts/alertmanager/api/v2/alerts",
                    post(routes::alertmanager::post_alertmanager_api),
                )
                .route_layer(axum::middleware::from_fn_with_state(guard, crate::guard::guard))
                .with_state(state)
                .merge(chat),
        );
        Ok(GatewayHandle { syslog })
    }
}

/// The configured keys, with each `[gateway.alertmanager] bearer_sha256` as a key
/// (`alertmanager`, `alertmanager-2`, ...) allowed only the Alertmanager endpoint: one mechanism.
fn all_keys(config: &GatewayConfig) -> Vec<IngestKeyConfig> {
    let mut keys = config.keys.clone();
    for (index, hash) in config.alertmanager.bearer_sha256.iter().enumerate() {
        let name = if index == 0 {
            "alertmanager".to_owned()
        } else {
            format!("alertmanager-{}", index + 1)
        };
        let mut key = IngestKeyConfig::new(name, hash.clone());
        key.endpoints = vec![IngestEndpoint::Alerts];
        key.requests_per_sec = 0.0;
        keys.push(key);
    }
    keys
}
