//! Postmortem service configuration (file + `OPSLINE_*` environment variables).

use std::path::PathBuf;

use opsline_kafka::KafkaConfig;
use opsline_llm::LlmConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use serde::{Deserialize, Serialize};

use crate::auth::TokenConfig;

/// Settings of the postmortem service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostmortemConfig {
    /// Listen address, `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Consumer group of the drafter (incidents and alerts topics).
    pub group_id: String,
    /// Consumer group of the indexer (postmortems topic). Every replica that keeps its own
    /// index needs its own group.
    pub index_group_id: String,
    /// Index directory; unset keeps the index in memory (rebuilt from Kafka at every start).
    pub index_dir: Option<PathBuf>,
    /// Runbooks (`*.md` with front matter) indexed at start; unset or missing: none.
    pub runbooks_dir: Option<PathBuf>,
    /// How long a resolved incident waits for alerts not yet read before it is drafted without them.
    pub alert_wait_ms: u64,
    /// Alerts kept in memory to resolve incidents' alert ids (oldest forgotten first).
    pub max_cached_alerts: usize,
    /// How long start-up may take to read the compacted topics to the end offsets they had at
    /// start; past this the service does not start (it would run on part of its state).
    pub restore_max_wait_secs: u64,
    /// Base URL of the console, for links on postmortems: each cited raw-log offset opens the
    /// console's record view, the incident and alert ids its incident page. Empty: no links.
    pub console_url: String,
    /// API tokens (`name`, `role`, `teams`, `sha256`); see `hash_token`.
    pub tokens: Vec<TokenConfig>,
    /// The LLM gateway that writes the narratives (disabled by default: deterministic drafts
    /// only). How many drafts may wait for the model is the task's budget in the LLM scheduler
    /// (`llm.tasks.postmortem_narrative.budget`).
    /// Not serialized: it may hold an API key.
    #[serde(skip_serializing)]
    pub llm: LlmConfig,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
}

opsline_kafka::service_config!(PostmortemConfig);

impl Default for PostmortemConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8093".to_owned(),
            topic_prefix: String::new(),
            group_id: "opsline-postmortem".to_owned(),
            index_group_id: "opsline-postmortem-index".to_owned(),
            index_dir: None,
            runbooks_dir: Some(PathBuf::from("runbooks")),
            alert_wait_ms: 30_000,
            max_cached_alerts: 200_000,
            restore_max_wait_secs: 120,
            console_url: "http://127.0.0.1:8094".to_owned(),
            tokens: Vec::new(),
            llm: LlmConfig::default(),
            kafka: KafkaConfig {
                client_id: "opsline-postmortem".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
        }
    }
}
