//! Configuration of the triage service (file + `OPSLINE_*` environment variables).

use std::path::PathBuf;

use opsline_kafka::KafkaConfig;
use opsline_llm::LlmConfig;
use opsline_privacy::RedactorConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use serde::{Deserialize, Serialize};

/// The queue/category classifier and the human-review rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// The model file written by `opsline train tickets`.
    pub model_path: Option<PathBuf>,
    /// A prediction below this calibrated confidence goes to human review.
    pub human_review_threshold: f64,
    /// The queue of tickets waiting for a human triager.
    pub human_queue: String,
    /// The queue of tickets handed to self-service.
    pub self_service_queue: String,
    /// A self-service intent (password reset, ticket or service status) below this
    /// confidence is not handed to self-service.
    pub self_service_min_confidence: f32,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            model_path: None,
            human_review_threshold: 0.5,
            human_queue: "human-triage".to_owned(),
            self_service_queue: "self-service".to_owned(),
            self_service_min_confidence: 0.6,
        }
    }
}

/// Linking tickets to open incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentLinkConfig {
    /// A ticket may be about an incident opened up to this long after it.
    pub before_secs: u64,
    /// ...or about one updated up to this long before it.
    pub after_secs: u64,
    /// Text similarity (0..1) that links a ticket that does not name the service.
    pub min_similarity_without_service: f64,
    /// Alert templates remembered for similarity.
    pub max_alerts: usize,
}

impl Default for IncidentLinkConfig {
    fn default() -> Self {
        Self {
            before_secs: 900,
            after_secs: 6 * 3600,
            min_similarity_without_service: 0.5,
            max_alerts: 10_000,
        }
    }
}

/// The asynchronous LLM enrichment (summary and suggested reply). How many tickets may wait
/// for the model is the task's budget in the LLM scheduler (`llm.tasks.ticket_enrichment.budget`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichmentConfig {
    /// Runbooks (Markdown with front matter) used as grounding.
    pub runbooks_dir: Option<PathBuf>,
    /// Only runbooks whose front matter `tags` hold this tag are shown to the model
    /// (`helpdesk`: the platform's own runbooks are for SREs); empty: every runbook.
    pub runbook_tag: String,
    /// Runbooks passed to the model per ticket.
    pub max_runbooks: usize,
    /// Similar recent tickets passed to the model per ticket.
    pub max_similar_tickets: usize,
    /// Recently routed tickets remembered for similarity.
    pub recent_tickets: usize,
}

impl EnrichmentConfig {
    /// The runbook tag, `None` when every runbook may be shown.
    pub fn runbook_tag(&self) -> Option<&str> {
        Some(self.runbook_tag.as_str()).filter(|tag| !tag.is_empty())
    }
}

impl Default for EnrichmentConfig {
    fn default() -> Self {
        Self {
            runbooks_dir: Some(PathBuf::from("runbooks")),
            runbook_tag: "helpdesk".to_owned(),
            max_runbooks: 2,
            max_similar_tickets: 2,
            recent_tickets: 1000,
        }
    }
}

/// The optional helpdesk webhook (off when `url` is empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// URL that receives each routed ticket revision as JSON (POST); empty = off.
    pub url: String,
    /// Attempts per revision before it is dead-lettered.
    pub max_attempts: usize,
    /// First retry delay.
    pub min_delay_ms: u64,
    /// Per-request timeout.
    pub timeout_ms: u64,
    /// Revisions waiting for delivery; when full, new ones are dead-lettered.
    pub queue_capacity: usize,
    /// A PEM file of extra CA certificates trusted for an `https` URL, besides the
    /// system roots (a corporate or private CA).
    pub ca_file: Option<PathBuf>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_attempts: 4,
            min_delay_ms: 200,
            timeout_ms: 5_000,
            queue_capacity: 1024,
            ca_file: None,
        }
    }
}

/// Settings of the triage service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriageConfig {
    /// HTTP listen address (health and metrics), `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Consumer group of the raw-ticket consumer.
    pub group_id: String,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// Queue classifier and human-review rule.
    pub classifier: ClassifierConfig,
    /// Linking tickets to open incidents.
    pub incidents: IncidentLinkConfig,
    /// Asynchronous LLM enrichment.
    pub enrichment: EnrichmentConfig,
    /// The LLM gateway (disabled by default). Not serialized: it may hold an API key.
    #[serde(skip_serializing)]
    pub llm: LlmConfig,
    /// Redaction of sensitive data.
    pub privacy: RedactorConfig,
    /// Optional helpdesk webhook.
    pub helpdesk_webhook: WebhookConfig,
}

opsline_kafka::service_config!(TriageConfig);

impl Default for TriageConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8091".to_owned(),
            topic_prefix: String::new(),
            group_id: "opsline-triage".to_owned(),
            kafka: KafkaConfig {
                client_id: "opsline-triage".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
            classifier: ClassifierConfig::default(),
            incidents: IncidentLinkConfig::default(),
            enrichment: EnrichmentConfig::default(),
            llm: LlmConfig::default(),
            privacy: RedactorConfig::default(),
            helpdesk_webhook: WebhookConfig::default(),
        }
    }
}
