//! The configuration file of `opsline up`, and the settings it shares with every service.

use opsline_console::ConsoleConfig;
use opsline_gateway::GatewayConfig;
use opsline_helpdesk::HelpdeskConfig;
use opsline_kafka::{KafkaConfig, KafkaServiceConfig};
use opsline_logintel::LogintelConfig;
use opsline_notify::NotifyConfig;
use opsline_postmortem::PostmortemConfig;
use opsline_runtime::ServiceConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use opsline_selfservice::SelfServiceConfig;
use opsline_triage::TriageConfig;
use serde::{Deserialize, Serialize};

/// The configuration file of `opsline up`: shared sections plus one per service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpConfig {
    /// Kafka settings shared by every service (the embedded broker overrides the address).
    pub kafka: KafkaConfig,
    /// Prefix of every topic.
    pub topic_prefix: String,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// The ingest gateway (its own `kafka`/`topic_prefix` are replaced by the shared ones).
    pub gateway: GatewayConfig,
    /// The log service.
    pub logintel: LogintelConfig,
    /// The postmortem service (drafts, search API and page); without `runbooks_dir` it
    /// indexes `runbooks/` of the working directory.
    pub postmortem: PostmortemConfig,
    /// The ticket triage service (without `classifier.model_path`, a model is trained at
    /// start-up from `<--data>/tickets/topic-train.csv`).
    pub triage: TriageConfig,
    /// The self-service service (directory, second factor, private replies); without a
    /// directory URL it uses the seeded slapd that `opsline up` starts.
    pub selfservice: SelfServiceConfig,
    /// The operations console (its `logintel_url` and `postmortem_url` are set to the
    /// services started here; when it listens on loopback only, a local SRE token is added
    /// to it and to the postmortem pages and written to `<data-dir>/run.json`).
    pub console: ConsoleConfig,
    /// Incident notifications (Slack, Teams, PagerDuty, Opsgenie, webhooks): the service runs
    /// only when `[notify.targets]` names at least one target.
    pub notify: NotifyConfig,
    /// The helpdesk connector (Request Tracker); runs only when a `[helpdesk]` section is
    /// given. With `rt.intake.enabled` and no ingest key, a key named `rt.ticket_prefix` is made
    /// for this run and RT tickets are posted to the gateway started here.
    pub helpdesk: Option<HelpdeskConfig>,
}

impl UpConfig {
    /// The configuration of service `name` with the shared Kafka settings (its client id
    /// `opsline-<name>`) and topic prefix; bound to a free port when `any_port`.
    pub fn shared<C: ServiceConfig + KafkaServiceConfig>(&self, mut config: C, name: &str, any_port: bool) -> C {
        *config.kafka_mut() = KafkaConfig {
            client_id: format!("opsline-{name}"),
            ..self.kafka.clone()
        };
        config.set_topic_prefix(self.topic_prefix.clone());
        if any_port {
            config.set_listen("127.0.0.1:0".to_owned());
        }
        config
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_helpdesk_runs_only_with_a_helpdesk_section() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("opsline.toml");
        std::fs::write(&file, "topic_prefix = \"\"\n").unwrap();
        let config: UpConfig = opsline_runtime::config::load(Some(&file)).unwrap();
        assert!(config.helpdesk.is_none());
        let toml = "[helpdesk.rt]\nurl = \"https://rt.example.org\"\nuser = \"opsline\"\n\
[helpdesk.rt.intake]\nenabled = true\n[helpdesk.zendesk]\nurl = \"https://example.zendesk.com\"\n";
        std::fs::write(&file, toml).unwrap();
        let config: UpConfig = opsline_runtime::config::load(Some(&file)).unwrap();
        let helpdesk = config.helpdesk.unwrap();
        assert!(helpdesk.rt.enabled() && helpdesk.rt.intake.enabled);
        assert_eq!(helpdesk.rt.triage_queue, "Triage");
        assert!(helpdesk.zendesk.enabled());
        assert_eq!(helpdesk.zendesk.named("zendesk").ticket_prefix, "zendesk");
    }
}
