//! Console configuration (file + `OPSLINE_*` environment variables).

use opsline_auth::TokenConfig;
use opsline_kafka::KafkaConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use serde::{Deserialize, Serialize};

/// Settings of the console.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Listen address, `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Base URL of the log service, which owns the incident state (acknowledge, assign,
    /// resolve and declare are forwarded there).
    pub logintel_url: String,
    /// Base URLs of every log-service replica, when their addresses cannot be found from
    /// `logintel_url`'s host (which may be a Kubernetes headless Service naming every pod).
    /// Each replica knows the incidents of its own services, so the console asks each.
    pub logintel_replicas: Vec<String>,
    /// SRE token of the log service (`[logintel] tokens`), sent with every incident action the
    /// console forwards there (`OPSLINE_CONSOLE__LOGINTEL_TOKEN`); without it the log service
    /// refuses them.
    #[serde(skip_serializing)]
    pub logintel_token: Option<secrecy::SecretString>,
    /// Base URL of the postmortem pages, for links (empty: no links).
    pub postmortem_url: String,
    /// API tokens (`name`, `role`, `teams`, `sha256`), the same as the postmortem service's.
    pub tokens: Vec<TokenConfig>,
    /// Helpdesk queues a ticket can be re-routed to, besides those seen on routed tickets.
    pub queues: Vec<String>,
    /// Incidents kept in memory (resolved ones, oldest first, are forgotten beyond it).
    pub max_incidents: usize,
    /// Alerts kept in memory (oldest first forgotten).
    pub max_alerts: usize,
    /// Routed tickets kept in memory (oldest first forgotten).
    pub max_tickets: usize,
    /// LLM usage records kept in memory for the insights (oldest first forgotten).
    pub max_llm_calls: usize,
    /// Self-service audit events kept in memory for the insights (oldest first forgotten).
    pub max_audit_events: usize,
    /// Estimated helpdesk cost of one ticket handled by a person, for the insights' savings
    /// (the default of `opsline report --cost-per-ticket`).
    pub cost_per_ticket: f64,
    /// How long an action waits for the change to come back on the incidents topic, so the
    /// page shown next has it (milliseconds).
    pub action_wait_ms: u64,
    /// Timeout of a call to the log service (milliseconds).
    pub upstream_timeout_ms: u64,
    /// Longest read of a cited raw-log record for the record view (milliseconds).
    pub record_wait_ms: u64,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
}

opsline_kafka::service_config!(ConsoleConfig);

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8094".to_owned(),
            topic_prefix: String::new(),
            logintel_url: "http://127.0.0.1:8090".to_owned(),
            logintel_replicas: Vec::new(),
            logintel_token: None,
            postmortem_url: "http://127.0.0.1:8093".to_owned(),
            tokens: Vec::new(),
            queues: Vec::new(),
            max_incidents: 10_000,
            max_alerts: 50_000,
            max_tickets: 50_000,
            max_llm_calls: 50_000,
            max_audit_events: 50_000,
            cost_per_ticket: 15.0,
            action_wait_ms: 5_000,
            upstream_timeout_ms: 10_000,
            record_wait_ms: 5_000,
            kafka: KafkaConfig {
                client_id: "opsline-console".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
        }
    }
}
