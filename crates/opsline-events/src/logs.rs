//! Log-side events: raw log records, mined templates, alerts and incidents.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::{Event, sample_time};
pub use crate::incidents::{
    Attention, Incident, IncidentResponse, IncidentStatus, LogOffset, PostmortemChoice, PostmortemDecision, ScoreParts,
    SevLevel, Severity,
};

/// One raw log line as received by the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RawLog {
    /// The service (application) that wrote the line; the partition key.
    #[schemars(length(min = 1, max = 256))]
    pub service: String,
    /// Where the line came from: host, file or shipper name.
    #[serde(default)]
    pub source: String,
    /// The whole line, header included, as written by the service.
    pub line: String,
    /// The client's timestamp for the line, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Free-form attributes (environment, region, pod, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// Attributes that name the host a line came from, in order of preference (OpenTelemetry's
/// `host.name`, then the usual shipper names).
pub const HOST_ATTRIBUTES: [&str; 3] = ["host.name", "hostname", "host"];

impl RawLog {
    /// The host the line came from, when an attribute names it (see [`HOST_ATTRIBUTES`]).
    pub fn host(&self) -> Option<&str> {
        HOST_ATTRIBUTES
            .iter()
            .find_map(|key| self.attributes.get(*key))
            .map(String::as_str)
            .filter(|host| !host.is_empty())
    }
}

impl Event for RawLog {
    const TYPE: &'static str = "log.raw";
    fn sample() -> Self {
        Self {
            service: "hdfs".into(),
            source: "datanode-7".into(),
            line: "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating".into(),
            timestamp: None,
            attributes: BTreeMap::from([("env".into(), "prod".into())]),
        }
    }
}

/// Whether a template is new or was rewritten (merge or split).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateChangeKind {
    /// First time this template was seen.
    Created,
    /// The template text changed (it generalised or was split).
    Updated,
    /// The template was retired because it was split into several (listed in `split_into`);
    /// lines labelled with it belong to whichever of those matches them.
    Split,
}

/// One of the templates that replace a split template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplatePart {
    /// The part's template id (new, or an identical template that already existed).
    pub template_id: u64,
    /// The part's template text.
    pub template: String,
}

/// A log template created or changed by the miner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateEvent {
    /// The service whose stream the template belongs to.
    pub service: String,
    /// The template id, stable for the life of the service's miner state.
    pub template_id: u64,
    /// The template text with `<*>` wildcards.
    pub template: String,
    /// What happened to the template.
    pub change: TemplateChangeKind,
    /// The previous text when `change` is `updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Lines matched by the template so far.
    pub count: u64,
    /// When `change` is `split`: the templates replacing this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split_into: Vec<TemplatePart>,
    /// When this template is one part of a split: the retired template's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_from: Option<u64>,
}

impl Event for TemplateEvent {
    const TYPE: &'static str = "log.template";
    fn sample() -> Self {
        Self {
            service: "hdfs".into(),
            template_id: 17,
            template: "PacketResponder <*> for block <*> terminating".into(),
            change: TemplateChangeKind::Updated,
            previous: Some("PacketResponder 1 for block <*> terminating".into()),
            count: 311,
            split_into: Vec::new(),
            split_from: None,
        }
    }
}

/// What made the log service raise an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A template never seen before, after warm-up.
    NewTemplate,
    /// A template's rate burst above its learned baseline.
    RateBurst,
    /// Error-level lines surged above their baseline.
    ErrorSurge,
    /// A normally steady template went silent.
    Silence,
    /// Raised by another monitoring system (Prometheus Alertmanager, Grafana): see
    /// [`Alert::external`].
    External,
}

impl AlertKind {
    /// The wire name (`new_template`, `rate_burst`, `error_surge`, `silence`, `external`), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewTemplate => "new_template",
            Self::RateBurst => "rate_burst",
            Self::ErrorSurge => "error_surge",
            Self::Silence => "silence",
            Self::External => "external",
        }
    }
}

/// An event in the logs that needs attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alert {
    /// Alert id (UUID v7).
    pub alert_id: Uuid,
    /// The service the alert is about.
    pub service: String,
    /// What triggered it.
    pub kind: AlertKind,
    /// How urgent it is.
    pub severity: Severity,
    /// The template involved.
    pub template_id: u64,
    /// The template text.
    pub template: String,
    /// A few sample lines, redacted of secrets.
    pub sample_lines: Vec<String>,
    /// Lines seen in the window.
    pub count: u64,
    /// The learned baseline for the window, when the kind has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Start of the observation window.
    pub window_start: Timestamp,
    /// End of the observation window.
    pub window_end: Timestamp,
    /// Repeats of this alert suppressed since the last one was emitted.
    #[serde(default)]
    pub suppressed: u64,
    /// Raw-log records that are the evidence.
    #[serde(default)]
    pub evidence: Vec<LogOffset>,
    /// Hosts and components that wrote the alert's lines, as their headers name them.
    #[serde(default, skip_serializing_if = "Origins::is_empty")]
    pub origins: Origins,
    /// The system that raised it, when another monitoring system did (kind `external`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalSource>,
}

/// The monitoring system behind an external alert, and the link back to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExternalSource {
    /// `alertmanager`, `grafana`, ...
    pub source: String,
    /// The alert's name there (`alertname`).
    pub name: String,
    /// Its identity there (Alertmanager's fingerprint).
    pub fingerprint: String,
    /// Where to see it there (Prometheus' graph of the rule, Grafana's alert page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Where lines came from: the hosts and components their headers name (the first few, sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Origins {
    /// Hosts (nodes, machines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Components (programs, loggers, subsystems).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
}

impl Origins {
    /// Whether no host and no component is known.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.components.is_empty()
    }
}

impl Event for Alert {
    const TYPE: &'static str = "log.alert";
    fn sample() -> Self {
        Self {
            alert_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0001),
            service: "hdfs".into(),
            kind: AlertKind::ErrorSurge,
            severity: Severity::Critical,
            template_id: 42,
            template: "Exception in receiveBlock for block <*> <*>".into(),
            sample_lines: vec![
                "081109 214043 2561 WARN dfs.DataNode: Exception in receiveBlock for block blk_-1 java.io.IOException"
                    .into(),
            ],
            count: 57,
            baseline: Some(1.5),
            window_start: sample_time(1_732_345_140),
            window_end: sample_time(1_732_345_200),
            suppressed: 3,
            evidence: vec![LogOffset {
                topic: "opsline.logs.raw.v1".into(),
                partition: 2,
                offset: 88_412,
            }],
            origins: Origins {
                hosts: vec!["dn-17".into(), "dn-4".into()],
                components: vec!["dfs.DataNode".into()],
            },
            external: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for kind in [
            AlertKind::NewTemplate,
            AlertKind::RateBurst,
            AlertKind::ErrorSurge,
            AlertKind::Silence,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
            assert_eq!(serde_json::to_value(severity).unwrap(), severity.as_str());
        }
    }
}
