//! Actions people take on incidents from outside Opsline's API (a Slack button), on
//! `opsline.incidents.actions.v1` keyed by incident id: the gateway writes a verified click,
//! the log service replica that holds the incident applies it.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::{Event, sample_time};

/// The `action_id` of the Acknowledge button on the notify service's Slack messages (its
/// `value` is the incident id); the gateway's Slack interaction route acts on it.
pub const SLACK_ACKNOWLEDGE_ACTION: &str = "opsline_acknowledge";

/// What is done to the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentActionKind {
    /// "I am on it": the first acknowledgement is kept.
    Acknowledge,
}

/// One verified action on one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentAction {
    /// The action's id (UUID v7).
    pub action_id: Uuid,
    /// The incident.
    pub incident_id: Uuid,
    /// What is done.
    pub action: IncidentActionKind,
    /// Who did it, `platform:user_id` (e.g. `slack:U0123ABC`), as the platform's signed request says.
    pub by: String,
    /// Where it came from (`slack`).
    pub source: String,
    /// When the gateway received it.
    pub requested_at: Timestamp,
}

impl Event for IncidentAction {
    const TYPE: &'static str = "incident.action";
    fn sample() -> Self {
        Self {
            action_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_00a1),
            incident_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0002),
            action: IncidentActionKind::Acknowledge,
            by: "slack:U0123ABC".into(),
            source: "slack".into(),
            requested_at: sample_time(1_732_345_260),
        }
    }
}
