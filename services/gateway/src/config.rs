//! Gateway configuration (file + `OPSLINE_*` environment variables).

use opsline_kafka::KafkaConfig;

use crate::chat::ChatConfig;
use crate::keys::IngestKeyConfig;
pub use crate::routes::alertmanager::AlertmanagerConfig;
use crate::syslog::SyslogConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use serde::{Deserialize, Serialize};

/// Settings of the gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Listen address, `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Largest single log line or ticket, in bytes.
    pub max_record_bytes: usize,
    /// How long a request waits for room in a full producer queue before answering 503.
    pub queue_wait_ms: u64,
    /// Request bodies held at once by ingest requests, in bytes (more: 503 with `Retry-After`).
    pub max_in_flight_bytes: usize,
    /// How long any request may take before it is answered 408.
    pub request_timeout_ms: u64,
    /// Ingest keys (`[[gateway.keys]]`): none configured, every ingest request gets 401.
    pub keys: Vec<IngestKeyConfig>,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// The signed chat webhook (`/v1/chat/slack`, `/v1/chat/webhook`).
    pub chat: ChatConfig,
    /// Syslog listeners (off unless an address is given).
    pub syslog: SyslogConfig,
    /// The Alertmanager webhook (`POST /v1/alerts/alertmanager`).
    pub alertmanager: AlertmanagerConfig,
}

opsline_kafka::service_config!(GatewayConfig);

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8088".to_owned(),
            max_body_bytes: 16 * 1024 * 1024,
            max_record_bytes: 256 * 1024,
            queue_wait_ms: 2_000,
            max_in_flight_bytes: 64 * 1024 * 1024,
            request_timeout_ms: 30_000,
            keys: Vec::new(),
            topic_prefix: String::new(),
            kafka: KafkaConfig {
                client_id: "opsline-gateway".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
            chat: ChatConfig::default(),
            syslog: SyslogConfig::default(),
            alertmanager: AlertmanagerConfig::default(),
        }
    }
}
