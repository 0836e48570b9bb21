//! Incidents: the lifecycle, the response (acknowledgement, assignment), the attention score
//! and the postmortem decision, with the severity and evidence offsets alerts share.
//! Re-exported by [`crate::logs`], where they are named (this file imports nothing from it).

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::{Event, sample_time};

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
    /// When it opened, in the log's own time (event time: the timestamps of its lines).
    pub opened_at: Timestamp,
    /// When an alert was last added (event time).
    pub updated_at: Timestamp,
    /// When Opsline opened it (processing time: when the gateway took in the line that
    /// opened it). Differs from `opened_at` for replayed or late logs; absent in records from
    /// before it was kept and where nothing says when lines arrived (offline evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<Timestamp>,
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
    /// Why a person is asked to look at it: the attention score, its parts, the threshold, the
    /// severity level and the reason in words (absent in records from before the score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<Attention>,
    /// The postmortem policy's decision and its reason (absent in records from before the
    /// policy: such incidents are drafted when resolved, as they were then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmortem: Option<PostmortemDecision>,
    /// Who took it: acknowledgement and assignment by people (console, API); absent until
    /// someone acknowledges or assigns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<IncidentResponse>,
}

/// People on an incident: who acknowledged it and when, who it is assigned to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentResponse {
    /// Who acknowledged it (the first acknowledgement is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// When it was acknowledged (the log service's event-time clock, like `resolved_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<Timestamp>,
    /// The person it is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Who assigned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_by: Option<String>,
    /// When it was last assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_at: Option<Timestamp>,
    /// When it was acknowledged by the wall clock (processing time, like
    /// [`Incident::detected_at`]): MTTA counts from `detected_at` to here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_wall_at: Option<Timestamp>,
    /// When a person resolved it, by the wall clock (absent when the quiet period resolved it):
    /// MTTR counts from `detected_at` to here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_wall_at: Option<Timestamp>,
}

/// Documented incident severity levels, derived from the attention score (see logintel's README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SevLevel {
    /// Critical: broad or severe impact, act now (score far above the threshold, several
    /// patterns or services, or raised by user tickets).
    Sev1,
    /// Major: a clear failure that persists or spreads.
    Sev2,
    /// Minor: a real failure signal of limited scope.
    Sev3,
    /// Low: below the opening threshold (kept because a person declared it).
    Sev4,
}

impl SevLevel {
    /// The wire name (`sev1` .. `sev4`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sev1 => "sev1",
            Self::Sev2 => "sev2",
            Self::Sev3 => "sev3",
            Self::Sev4 => "sev4",
        }
    }

    /// The coarse alert severity of this level (`sev1`/`sev2` critical, `sev3` warning, `sev4` info).
    pub fn severity(self) -> Severity {
        match self {
            Self::Sev1 | Self::Sev2 => Severity::Critical,
            Self::Sev3 => Severity::Warning,
            Self::Sev4 => Severity::Info,
        }
    }
}

/// The parts of an attention score (points; their sum is the score).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScoreParts {
    /// Worst log level seen (fatal 3, error 2, warning 1, else 0).
    pub level: f64,
    /// Failure wording in the templates (`failed`, `fatal`, `panic`, ...; caller errors such as
    /// `permission denied` or `not found` do not count).
    pub wording: f64,
    /// A new template, or one that is rare in its service.
    pub rarity: f64,
    /// Size of a burst against its learned baseline.
    pub burst: f64,
    /// How many templates and services are involved.
    pub breadth: f64,
    /// How long the signals have lasted.
    pub persistence: f64,
    /// Linked helpdesk tickets (users noticed).
    pub tickets: f64,
}

/// Why an incident was opened, as measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attention {
    /// The attention score (sum of the parts).
    pub score: f64,
    /// The parts of the score.
    pub parts: ScoreParts,
    /// The score at which signals become an incident.
    pub threshold: f64,
    /// Severity level derived from the score, raised by breadth and linked tickets.
    pub sev: SevLevel,
    /// Why it was opened, in words ("opened because: ...").
    pub why: String,
    /// Event time of its first signal.
    pub started_at: Timestamp,
    /// Alerts in the incident (`alert_ids` keeps only the first ones).
    pub alert_count: u64,
    /// Raw-log lines cited (`evidence` keeps only the first ones).
    pub evidence_count: u64,
    /// Log lines its alerts counted.
    pub lines: u64,
    /// Distinct templates involved.
    pub templates: u64,
    /// Services involved (the incident's own service first).
    pub services: Vec<String>,
    /// Hosts involved (the first ones, as the log headers name them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Distinct hosts in all.
    #[serde(default)]
    pub host_count: u64,
    /// Components involved (the first ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Distinct components in all.
    #[serde(default)]
    pub component_count: u64,
    /// Linked helpdesk tickets (the first ones).
    #[serde(default)]
    pub tickets: Vec<String>,
    /// Linked tickets in all.
    #[serde(default)]
    pub ticket_count: u64,
    /// Times a recurrence of the same fingerprint reopened it.
    #[serde(default)]
    pub reopened: u32,
}

/// What the postmortem policy decided for an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostmortemChoice {
    /// A postmortem is drafted when the incident resolves.
    Draft,
    /// No postmortem: the incident is closed with its resolution record.
    Skip,
}

/// The postmortem policy's decision for an incident, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PostmortemDecision {
    /// Draft or skip.
    pub decision: PostmortemChoice,
    /// The reason in words ("sev2 for 42 min", "declared by alice", "below policy: ...").
    pub reason: String,
    /// `policy`, or the person who declared it.
    pub decided_by: String,
    /// For a skipped incident, its short resolution record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

impl Incident {
    /// Whether the postmortem service should draft this incident once it is resolved
    /// (records without a decision predate the policy and are drafted).
    pub fn wants_postmortem(&self) -> bool {
        self.postmortem
            .as_ref()
            .is_none_or(|p| p.decision == PostmortemChoice::Draft)
    }
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
            opened_at: sample_time(1_732_345_200),
            updated_at: sample_time(1_732_345_500),
            detected_at: Some(sample_time(1_732_345_201)),
            resolved_at: Some(sample_time(1_732_346_100)),
            resolved_by: Some("quiet-period".into()),
            alert_ids: vec![Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0001)],
            evidence: vec![LogOffset {
                topic: "opsline.logs.raw.v1".into(),
                partition: 2,
                offset: 88_412,
            }],
            restricted_team: None,
            attention: Some(Attention {
                score: 9.0,
                parts: ScoreParts {
                    level: 2.0,
                    wording: 2.0,
                    rarity: 1.0,
                    burst: 2.0,
                    breadth: 1.0,
                    persistence: 1.0,
                    tickets: 0.0,
                },
                threshold: 5.0,
                sev: SevLevel::Sev2,
                why: "opened because: error-level lines with failure wording (Exception), a burst of 57 lines \
                      against a baseline of 1.5, 2 templates, for 17 min"
                    .into(),
                started_at: sample_time(1_732_344_480),
                alert_count: 1,
                evidence_count: 1,
                lines: 57,
                templates: 2,
                services: vec!["hdfs".into()],
                hosts: vec!["dn-17".into(), "dn-4".into()],
                host_count: 2,
                components: vec!["dfs.DataNode".into()],
                component_count: 1,
                tickets: Vec::new(),
                ticket_count: 0,
                reopened: 0,
            }),
            postmortem: Some(PostmortemDecision {
                decision: PostmortemChoice::Draft,
                reason: "sev2 for 17 min".into(),
                decided_by: "policy".into(),
                resolution: None,
            }),
            response: Some(IncidentResponse {
                acknowledged_by: Some("alice".into()),
                acknowledged_at: Some(sample_time(1_732_345_260)),
                assignee: Some("bob".into()),
                assigned_by: Some("alice".into()),
                assigned_at: Some(sample_time(1_732_345_290)),
                acknowledged_wall_at: Some(sample_time(1_732_345_261)),
                resolved_wall_at: None,
            }),
        }
    }
}
