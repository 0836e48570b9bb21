//! Incident actions from chat: the gateway writes a verified Slack Acknowledge click to
//! `opsline.incidents.actions.v1`; every replica follows the topic (group-less, from the
//! beginning) and the one that holds the incident acknowledges it exactly as the API does
//! (`POST /v1/incidents/{id}/acknowledge`, by `slack:<user>`), publishing its new state, which
//! the notify service turns into "acknowledged by ..." notifications.
//!
//! # Delivery guarantee
//!
//! Every replica reads the whole topic at each start, and acknowledging is idempotent (the
//! first acknowledgement is kept), so an action is applied at least once by the replica that
//! holds its incident; replicas that do not hold it ignore it. The new state is published like
//! an API acknowledgement (waiting for the broker); if that fails, the next start applies it again.

use axum::http::StatusCode;
use opsline_events::actions::{IncidentAction, IncidentActionKind};
use opsline_kafka::InRecord;

use crate::api::{ApiState, Take, take_incident};

/// Applies followed incident actions to the incidents this replica holds.
pub(crate) struct ActionFollower {
    pub(crate) api: ApiState,
}

impl ActionFollower {
    /// One followed record.
    pub(crate) fn apply(&self, record: &InRecord) {
        let Ok(envelope) = record.envelope::<IncidentAction>() else {
            tracing::debug!(
                offset = record.offset,
                "skipping a record that is not an incident action"
            );
            return;
        };
        let action = envelope.data;
        let api = self.api.clone();
        tokio::spawn(async move {
            let take = match action.action {
                IncidentActionKind::Acknowledge => Take::Acknowledge,
            };
            let status = take_incident(&api, action.incident_id, &action.by, take).await.status();
            match status {
                StatusCode::OK => {
                    tracing::info!(incident = %action.incident_id, by = %action.by, source = %action.source, "incident action applied");
                }
                StatusCode::NOT_FOUND => {} // another replica holds it
                status => {
                    tracing::info!(incident = %action.incident_id, %status, "incident action not applied");
                }
            }
        });
    }
}
