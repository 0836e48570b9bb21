//! Configuration of the notify service (file + `OPSLINE_*` environment variables): the
//! targets (`[targets.<name>]`, a map so `OPSLINE_TARGETS__<NAME>__SECRET` can carry a secret),
//! the routing rules, quiet hours, maintenance windows and the delivery settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use opsline_events::incidents::SevLevel;
use opsline_kafka::KafkaConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// What kind of tool a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Slack `chat.postMessage` / `chat.update` with a bot token (`secret`), in `channel`.
    Slack,
    /// A Microsoft Teams Workflows webhook; `secret` is the workflow's URL (it carries a signature).
    Teams,
    /// PagerDuty Events API v2; `secret` is the integration's routing key.
    Pagerduty,
    /// Opsgenie Alert API; `secret` is the API integration key (`GenieKey`).
    Opsgenie,
    /// A generic JSON webhook at `url`, signed with HMAC-SHA256 when `secret` is set.
    Webhook,
}

impl TargetKind {
    /// The metrics label and log name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Pagerduty => "pagerduty",
            Self::Opsgenie => "opsgenie",
            Self::Webhook => "webhook",
        }
    }

    /// The vendor's API base when `base_url` is not set.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::Slack => "https://slack.com/api",
            Self::Pagerduty => "https://events.pagerduty.com",
            Self::Opsgenie => "https://api.opsgenie.com",
            Self::Teams | Self::Webhook => "",
        }
    }
}

/// One place notifications go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The tool.
    pub kind: TargetKind,
    /// The API base (tests point it at a local receiver); default: the vendor's.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Slack: the channel id to post in.
    #[serde(default)]
    pub channel: Option<String>,
    /// Webhook: the URL that receives each notification.
    #[serde(default)]
    pub url: Option<String>,
    /// The credential (see [`TargetKind`]); never serialized or logged. Or give `secret_file`.
    #[serde(default, skip_serializing)]
    pub secret: Option<SecretString>,
    /// A file holding the credential (trailing line break ignored), e.g. a mounted secret.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// The link shown in messages to an incident: `{id}` is replaced by the incident id
    /// (e.g. `https://console.example/incidents/{id}`); none when empty.
    #[serde(default)]
    pub incident_url: Option<String>,
    /// Notifications waiting for this target; default `delivery.queue_capacity`.
    #[serde(default)]
    pub queue_capacity: Option<usize>,
}

/// A routing rule: incidents it matches go to its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Services matched: names or globs with `*` (`["hdfs*", "api"]`); empty matches all.
    #[serde(default)]
    pub services: Vec<String>,
    /// The least severe level matched (`sev3` matches sev1, sev2 and sev3); default: all.
    #[serde(default)]
    pub min_severity: Option<SevLevel>,
    /// Only incidents restricted to this team (`restricted_team`); default: any.
    #[serde(default)]
    pub team: Option<String>,
    /// Target names (keys of `[targets]`).
    pub targets: Vec<String>,
}

/// What quiet hours do with the notifications they catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietAction {
    /// Not sent (recorded as suppressed).
    #[default]
    Drop,
    /// Sent when the quiet hours end.
    Hold,
}

/// Quiet hours: on the given weekdays, between `start` and `end` (local time at
/// `utc_offset`; `end` before `start` spans midnight), notifications of incidents less
/// severe than `below` are dropped or held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursConfig {
    /// Weekdays (`mon` .. `sun`) the window starts on; empty: every day.
    #[serde(default)]
    pub days: Vec<String>,
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM`.
    pub end: String,
    /// The local time's offset from UTC, `+HH:MM` or `-HH:MM`; default `+00:00`.
    #[serde(default)]
    pub utc_offset: Option<String>,
    /// Levels less severe than this are caught (`sev2`: sev3 and sev4); default `sev2`.
    #[serde(default)]
    pub below: Option<SevLevel>,
    /// Drop or hold what is caught.
    #[serde(default)]
    pub action: QuietAction,
}

/// A maintenance window: no notifications for `service` (a name or glob) between `start`
/// and `end` (RFC 3339 timestamps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// The service (name or `*` glob).
    pub service: String,
    /// Start, e.g. `2026-12-06T22:00:00Z`.
    pub start: jiff::Timestamp,
    /// End.
    pub end: jiff::Timestamp,
}

/// How notifications are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attempts per notification before it is dead-lettered.
    pub max_attempts: usize,
    /// First retry delay.
    pub min_delay_ms: u64,
    /// Longest retry delay, and the longest `Retry-After` honoured.
    pub max_delay_ms: u64,
    /// Per-request timeout.
    pub timeout_ms: u64,
    /// Notifications waiting per target; when full, new ones are dead-lettered.
    pub queue_capacity: usize,
    /// A PEM file of extra CA certificates trusted for `https` targets, besides the system roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            min_delay_ms: 500,
            max_delay_ms: 60_000,
            timeout_ms: 10_000,
            queue_capacity: 1024,
            ca_file: None,
        }
    }
}

/// Settings of the notify service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// HTTP listen address (health and metrics), `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Consumer group of the incident consumer.
    pub group_id: String,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// The targets by name.
    pub targets: BTreeMap<String, TargetConfig>,
    /// Routing rules (an incident goes to the union of the targets of every rule it matches).
    pub rules: Vec<RuleConfig>,
    /// Quiet hours.
    pub quiet_hours: Vec<QuietHoursConfig>,
    /// Maintenance windows.
    pub maintenance: Vec<MaintenanceConfig>,
    /// Retries, timeouts, queues.
    pub delivery: DeliveryConfig,
    /// (incident, target) states kept in memory; past it, a tenth are forgotten, those of
    /// resolved incidents first (a forgotten incident that changes again is notified as new).
    pub max_tracked: usize,
}

opsline_kafka::service_config!(NotifyConfig);

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8095".to_owned(),
            topic_prefix: String::new(),
            group_id: "opsline-notify".to_owned(),
            kafka: KafkaConfig {
                client_id: "opsline-notify".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
            targets: BTreeMap::new(),
            rules: Vec::new(),
            quiet_hours: Vec::new(),
            maintenance: Vec::new(),
            delivery: DeliveryConfig::default(),
            max_tracked: crate::state::MAX_TRACKED,
        }
    }
}

impl NotifyConfig {
    /// Whether anything is configured to notify (`opsline up` runs the service only then).
    pub fn has_targets(&self) -> bool {
        !self.targets.is_empty()
    }
}
