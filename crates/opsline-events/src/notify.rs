//! Incident notifications: what the notify service last told each target about each incident
//! (the compacted `opsline.notify.state.v1`, keyed `incident_id/target`), so a restart or a
//! replica taking partitions over never tells a target the same thing twice.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::{Event, sample_time};
use crate::incidents::SevLevel;

/// A change of an incident that people are told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The incident opened (or reopened after it was resolved).
    Opened,
    /// Its severity level changed.
    SeverityChanged,
    /// Someone acknowledged it.
    Acknowledged,
    /// It was resolved.
    Resolved,
}

impl Transition {
    /// The wire name (`opened`, `severity_changed`, `acknowledged`, `resolved`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::SeverityChanged => "severity_changed",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }
}

/// How the last transition ended for the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationOutcome {
    /// The target accepted it.
    Sent,
    /// It was written as a dead letter (with the reason) after the target refused it or
    /// retries ran out; it is not sent again.
    DeadLettered,
    /// Routing, quiet hours or a maintenance window said not to send it.
    Suppressed,
}

/// What one target was last told about one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationState {
    /// The incident.
    pub incident_id: Uuid,
    /// The configured target's name (`[targets.<name>]`).
    pub target: String,
    /// Whether the target was told it opened.
    pub opened: bool,
    /// The severity level the target was last told.
    pub sev: SevLevel,
    /// Whether the target was told it was acknowledged.
    pub acknowledged: bool,
    /// Whether the target was told it was resolved.
    pub resolved: bool,
    /// The last transition handled.
    pub last: Transition,
    /// How it ended.
    pub outcome: NotificationOutcome,
    /// Slack: the channel of the thread's parent message (as Slack answered it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Slack: the `ts` of the thread's parent message (later transitions reply in its thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<String>,
    /// The offset on the incidents topic of the revision this state reflects (every revision
    /// of an incident is in one partition, in order): a revision at or before it that is read
    /// again (a restart, a new consumer group) is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_offset: Option<i64>,
    /// When it was handled (wall clock).
    pub updated_at: Timestamp,
}

impl NotificationState {
    /// The compacted topic's key: `incident_id/target`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.incident_id, self.target)
    }
}

impl Event for NotificationState {
    const TYPE: &'static str = "notification.state";
    fn sample() -> Self {
        Self {
            incident_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0002),
            target: "oncall-slack".into(),
            opened: true,
            sev: SevLevel::Sev2,
            acknowledged: true,
            resolved: false,
            last: Transition::Acknowledged,
            outcome: NotificationOutcome::Sent,
            channel: Some("C0123456789".into()),
            thread_ts: Some("1732345201.000200".into()),
            input_offset: Some(4_711),
            updated_at: sample_time(1_732_345_262),
        }
    }
}
