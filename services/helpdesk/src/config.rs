//! Configuration of the helpdesk service (file + `OPSLINE_*` environment variables, e.g.
//! `OPSLINE_RT__PASSWORD`). Secrets are `SecretString`s, given in the environment or as a
//! file (`*_file`, a mounted Kubernetes secret), never serialized and never logged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use opsline_events::tickets::Priority;
use opsline_kafka::KafkaConfig;
use opsline_runtime::StartupError;
use opsline_runtime::telemetry::TelemetryConfig;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::saas::SaasConfig;

/// Retries of one helpdesk call (inside one write-back; the consumer loop's own retries of a
/// failed write-back come on top, then the routed revision is dead-lettered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts per call (network errors, 5xx, 429).
    pub max_attempts: usize,
    /// First retry delay.
    pub min_delay_ms: u64,
    /// Longest retry delay.
    pub max_delay_ms: u64,
    /// A `Retry-After` longer than this is not waited for in place: the call fails (retryable).
    pub max_retry_after_secs: u64,
    /// Timeout of each call.
    pub timeout_ms: u64,
    /// Largest answer read.
    pub max_body_bytes: usize,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            min_delay_ms: 200,
            max_delay_ms: 5_000,
            max_retry_after_secs: 30,
            timeout_ms: 10_000,
            max_body_bytes: 1 << 20,
        }
    }
}

/// RT priority numbers for Opsline's priorities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityMap {
    /// P1 (outage).
    pub p1: u32,
    /// P2.
    pub p2: u32,
    /// P3.
    pub p3: u32,
    /// P4.
    pub p4: u32,
}

impl Default for PriorityMap {
    fn default() -> Self {
        Self {
            p1: 100,
            p2: 75,
            p3: 50,
            p4: 25,
        }
    }
}

impl PriorityMap {
    /// The number for `priority`.
    pub fn of(&self, priority: Priority) -> u32 {
        match priority {
            Priority::P1 => self.p1,
            Priority::P2 => self.p2,
            Priority::P3 => self.p3,
            Priority::P4 => self.p4,
        }
    }
}

/// Taking RT tickets in: new tickets of the triage queue are posted to the gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    /// Whether RT tickets are taken in.
    pub enabled: bool,
    /// The gateway's base URL (`POST <url>/v1/tickets`).
    pub gateway_url: String,
    /// The gateway ingest key (`OPSLINE_RT__INTAKE__INGEST_KEY`); its *name* in the gateway's
    /// `[[gateway.keys]]` must be `rt.ticket_prefix`, so routed ids are `<prefix>:<RT id>`.
    #[serde(skip_serializing)]
    pub ingest_key: Option<SecretString>,
    /// ...or a file holding it.
    pub ingest_key_file: Option<PathBuf>,
    /// Time between two polls.
    pub poll_interval_ms: u64,
    /// Tickets taken per poll.
    pub batch: usize,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            gateway_url: "http://127.0.0.1:8088".to_owned(),
            ingest_key: None,
            ingest_key_file: None,
            poll_interval_ms: 5_000,
            batch: 50,
        }
    }
}

/// Reading re-routes made in RT back as feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedbackConfig {
    /// Whether RT re-routes are published on the feedback topic.
    pub enabled: bool,
    /// Time between two polls.
    pub poll_interval_ms: u64,
    /// At start, tickets updated this long ago are looked at again.
    pub lookback_secs: u64,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_ms: 10_000,
            lookback_secs: 3_600,
        }
    }
}

/// Request Tracker (REST 2). Off while `url` is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RtConfig {
    /// RT's base URL (`https://rt.example.org`; REST 2 is under `/REST/2.0/`); empty = off.
    pub url: String,
    /// The RT user: basic auth with `password`; with a `token`, set it too so a replay finds
    /// Opsline's comment in the ticket's history (without it, a crash between the comment and
    /// the update may post the comment twice).
    pub user: String,
    /// Its password (`OPSLINE_RT__PASSWORD`).
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// ...or a file holding it.
    pub password_file: Option<PathBuf>,
    /// An RT auth token (`Authorization: token ...`, `OPSLINE_RT__TOKEN`), instead of a password.
    #[serde(skip_serializing)]
    pub token: Option<SecretString>,
    /// ...or a file holding it.
    pub token_file: Option<PathBuf>,
    /// A PEM file of extra CA certificates trusted for RT's certificate.
    pub ca_file: Option<PathBuf>,
    /// The queue new tickets arrive in and low-confidence tickets stay in.
    pub triage_queue: String,
    /// Opsline queue -> RT queue; a queue not listed keeps its name.
    pub queues: BTreeMap<String, String>,
    /// A routed ticket moves to its queue only at or above this confidence.
    pub min_confidence: f64,
    /// RT priority numbers.
    pub priorities: PriorityMap,
    /// The ticket-id prefix of RT's tickets in Opsline: the gateway key's name (`rt:<id>`).
    pub ticket_prefix: String,
    /// The custom field (Text, one value) holding Opsline's note, updated in place.
    pub note_field: String,
    /// The custom field (Freeform, one value) holding Opsline's write-back state (JSON).
    pub state_field: String,
    /// Taking RT tickets in.
    pub intake: IntakeConfig,
    /// Reading RT re-routes back.
    pub feedback: FeedbackConfig,
}

impl Default for RtConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            user: String::new(),
            password: None,
            password_file: None,
            token: None,
            token_file: None,
            ca_file: None,
            triage_queue: "Triage".to_owned(),
            queues: BTreeMap::new(),
            min_confidence: 0.6,
            priorities: PriorityMap::default(),
            ticket_prefix: "rt".to_owned(),
            note_field: "Opsline Note".to_owned(),
            state_field: "Opsline State".to_owned(),
            intake: IntakeConfig::default(),
            feedback: FeedbackConfig::default(),
        }
    }
}

impl RtConfig {
    /// Whether RT is configured.
    pub fn enabled(&self) -> bool {
        !self.url.trim().is_empty()
    }

    /// The RT queue of Opsline queue `queue`.
    pub fn rt_queue<'a>(&'a self, queue: &'a str) -> &'a str {
        self.queues.get(queue).map_or(queue, String::as_str)
    }

    /// The Opsline queue of RT queue `rt_queue` (the reverse of [`Self::rt_queue`]).
    pub fn opsline_queue<'a>(&'a self, rt_queue: &'a str) -> &'a str {
        self.queues
            .iter()
            .find(|(_, rt)| rt.as_str() == rt_queue)
            .map_or(rt_queue, |(opsline, _)| opsline.as_str())
    }
}

/// Settings of the helpdesk service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HelpdeskConfig {
    /// HTTP listen address (health and metrics), `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Consumer group of the routed-ticket consumer.
    pub group_id: String,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// Retries, timeouts and answer size of helpdesk calls.
    pub retry: RetryConfig,
    /// Request Tracker.
    pub rt: RtConfig,
    /// Jira Service Management (Jira Cloud REST v3).
    pub jira: SaasConfig,
    /// ServiceNow (Table API, `incident`).
    pub servicenow: SaasConfig,
    /// Zendesk Support.
    pub zendesk: SaasConfig,
}

opsline_kafka::service_config!(HelpdeskConfig);

impl Default for HelpdeskConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8096".to_owned(),
            topic_prefix: String::new(),
            group_id: "opsline-helpdesk".to_owned(),
            kafka: KafkaConfig {
                client_id: "opsline-helpdesk".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
            retry: RetryConfig::default(),
            rt: RtConfig::default(),
            jira: SaasConfig::with_prefix("jira"),
            servicenow: SaasConfig::with_prefix("servicenow"),
            zendesk: SaasConfig::with_prefix("zendesk"),
        }
    }
}

/// A secret from its value or its file (exactly one, or neither when `optional`).
pub fn resolve_secret(
    value: Option<&SecretString>,
    file: Option<&Path>,
    name: &str,
) -> Result<Option<SecretString>, StartupError> {
    match (value, file) {
        (Some(value), None) => Ok(Some(value.clone())),
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| StartupError::new(format!("cannot read {name}_file {}: {e}", file.display())))?;
            let secret = text.trim_end_matches(['\n', '\r']);
            if secret.is_empty() {
                return Err(StartupError::new(format!("{name}_file {} is empty", file.display())));
            }
            Ok(Some(SecretString::from(secret.to_owned())))
        }
        (Some(_), Some(_)) => Err(StartupError::new(format!("set {name} or {name}_file, not both"))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn queues_map_both_ways_and_unknown_keys_are_refused() {
        let mut rt = RtConfig::default();
        rt.queues.insert("HR Support".into(), "HR".into());
        assert_eq!(rt.rt_queue("HR Support"), "HR");
        assert_eq!(rt.rt_queue("Hardware"), "Hardware");
        assert_eq!(rt.opsline_queue("HR"), "HR Support");
        assert_eq!(rt.opsline_queue("Network"), "Network");
        let typo = toml_like(r#"{"rt": {"urll": "x"}}"#);
        assert!(typo.is_err());
    }

    fn toml_like(json: &str) -> Result<HelpdeskConfig, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_secret_comes_from_its_value_or_its_file() {
        use secrecy::ExposeSecret;
        let dir = std::env::temp_dir().join(format!("opsline-helpdesk-secret-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\n").unwrap();
        let from_file = resolve_secret(None, Some(&dir), "rt.password").unwrap().unwrap();
        assert_eq!(from_file.expose_secret(), "s3cret");
        let both = resolve_secret(Some(&SecretString::from("x")), Some(&dir), "rt.password");
        assert!(both.is_err());
        assert!(resolve_secret(None, None, "rt.password").unwrap().is_none());
        let _ = std::fs::remove_file(dir);
    }
}
