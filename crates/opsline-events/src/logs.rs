//! Log-side events: raw log records, mined templates, alerts and incidents.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::Event;

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

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

/// A pointer to one record of the raw log topic, cited as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogOffset {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
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
}

impl AlertKind {
    /// The wire name (`new_template`, `rate_burst`, `error_surge`, `silence`), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewTemplate => "new_template",
            Self::RateBurst => "rate_burst",
            Self::ErrorSurge => "error_surge",
            Self::Silence => "silence",
        }
    }
}

/// How urgent an alert or incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Needs a look.
    Warning,
    /// Needs action now.
    Critical,
}

impl Severity {
    /// The wire name (`info`, `warning`, `critical`), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
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
            window_start: ts(1_732_345_140),
            window_end: ts(1_732_345_200),
            suppressed: 3,
            evidence: vec![LogOffset {
                topic: "opsline.logs.raw.v1".into(),
                partition: 2,
                offset: 88_412,
            }],
        }
    }
}

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Alerts are still arriving or nobody resolved it.
    Open,
    /// Quiet for the configured period or resolved by an operator.
    Resolved,
}

/// Alerts of one service correlated in time; the state of the incident as of this event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    /// Incident id (UUID v7); the compacted topic's key.
    pub incident_id: Uuid,
    /// The affected service.
    pub service: String,
    /// A short title, built from the first alert.
    pub title: String,
    /// The highest severity of its alerts.
    pub severity: Severity,
    /// Lifecycle state.
    pub status: IncidentStatus,
    /// When it opened.
    pub opened_at: Timestamp,
    /// When an alert was last added.
    pub updated_at: Timestamp,
    /// When it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// Who or what resolved it (`quiet-period` or an operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// Every alert in the incident.
    pub alert_ids: Vec<Uuid>,
    /// The raw-log records its alerts came from.
    #[serde(default)]
    pub evidence: Vec<LogOffset>,
    /// When set, only members of this team may read the incident and its postmortem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_team: Option<String>,
}

impl Event for Incident {
    const TYPE: &'static str = "incident";
    fn sample() -> Self {
        Self {
            incident_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0002),
            service: "hdfs".into(),
            title: "Error surge in hdfs: Exception in receiveBlock".into(),
            severity: Severity::Critical,
            status: IncidentStatus::Resolved,
            opened_at: ts(1_732_345_200),
            updated_at: ts(1_732_345_500),
            resolved_at: Some(ts(1_732_346_100)),
            resolved_by: Some("quiet-period".into()),
            alert_ids: vec![Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0001)],
            evidence: vec![LogOffset {
                topic: "opsline.logs.raw.v1".into(),
                partition: 2,
                offset: 88_412,
            }],
            restricted_team: None,
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
