//! What people do from the console.
//!
//! Incident actions (acknowledge, assign, resolve, declare a postmortem) go to the service
//! that owns the incident state, the log service (`POST /v1/incidents/{id}/<action>` with
//! `{"by": <token holder>}`); it publishes the new state to the incidents topic, which the
//! console follows, and the action then waits (at most `action_wait_ms`) until the view
//! shows the change, so the page shown next has it.
//!
//! A re-route is the console's own record: a [`TicketFeedback`] (training data for the next
//! classifier) and a new [`RoutedTicket`] revision with the person's queue, both acknowledged
//! by the broker before the answer. Revision 2 belongs to the LLM enrichment, so a re-route
//! is at least revision 3: a late enrichment never overrides a person's choice.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use opsline_auth::Principal;
use opsline_events::Envelope;
use opsline_events::logs::{Incident, IncidentStatus, PostmortemChoice};
use opsline_events::tickets::{RoutedTicket, TicketFeedback};
use opsline_kafka::{OutRecord, Producer};
use opsline_runtime::outbound::OutboundClient;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ConsoleError;
use crate::lists::{IncidentSummary, TicketSummary, may_see};
use crate::replicas::LogService;
use crate::views::SharedViews;

/// Source name written in the envelopes the console produces.
pub const COMPONENT: &str = "opsline-console";

/// One action on an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentAction {
    /// "I am on it."
    Acknowledge,
    /// Hand it to this person.
    Assign(String),
    /// It is over.
    Resolve,
    /// It needs a postmortem, whatever the policy decided.
    DeclarePostmortem,
}

impl IncidentAction {
    /// The action named `name` (`acknowledge`, `assign`, `resolve`, `postmortem`); `assign`
    /// needs a non-empty `assignee`.
    pub fn parse(name: &str, assignee: Option<&str>) -> Result<Self, ConsoleError> {
        match name {
            "acknowledge" => Ok(Self::Acknowledge),
            "resolve" => Ok(Self::Resolve),
            "postmortem" => Ok(Self::DeclarePostmortem),
            "assign" => {
                let assignee = assignee
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| ConsoleError::BadRequest("assign needs a non-empty assignee".to_owned()))?;
                if assignee.chars().count() > 128 {
                    return Err(ConsoleError::BadRequest(
                        "assignee is longer than 128 characters".into(),
                    ));
                }
                Ok(Self::Assign(assignee.to_owned()))
            }
            other => Err(ConsoleError::NotFound(format!("no incident action {other:?}"))),
        }
    }

    /// The log service's path segment.
    fn path(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Assign(_) => "assign",
            Self::Resolve => "resolve",
            Self::DeclarePostmortem => "postmortem",
        }
    }

    /// Whether `incident` shows the action done by `by`.
    fn done(&self, incident: &Incident, by: &str) -> bool {
        let response = incident.response.as_ref();
        match self {
            Self::Acknowledge => response.is_some_and(|r| r.acknowledged_by.is_some()),
            Self::Assign(who) => response.is_some_and(|r| r.assignee.as_deref() == Some(who.as_str())),
            Self::Resolve => incident.status == IncidentStatus::Resolved,
            Self::DeclarePostmortem => incident
                .postmortem
                .as_ref()
                .is_some_and(|p| p.decision == PostmortemChoice::Draft && p.decided_by == by),
        }
    }
}

/// Body of a re-route request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RerouteRequest {
    /// The queue to move the ticket to.
    pub queue: String,
    /// Why (optional).
    #[serde(default)]
    pub note: String,
}

/// What the actions need.
#[derive(Clone)]
pub struct Actions {
    /// Calls to the log service.
    pub client: OutboundClient,
    /// The log service: each replica is asked in turn (see [`crate::replicas`]).
    pub log_service: LogService,
    /// The log service's SRE token (`Authorization: Bearer`), if configured.
    pub logintel_token: Option<secrecy::SecretString>,
    /// The console's producer.
    pub producer: Producer,
    /// Full name of the routed tickets topic.
    pub routed_topic: String,
    /// Full name of the ticket feedback topic.
    pub feedback_topic: String,
    /// The views.
    pub views: SharedViews,
    /// How long an action waits for its change to be followed back.
    pub wait: Duration,
    /// Configured queues (besides those seen).
    pub queues: Vec<String>,
    /// Serialises re-routes, so two people cannot produce the same revision.
    pub reroutes: Arc<tokio::sync::Mutex<()>>,
}

impl Actions {
    /// Does `action` on incident `id` for `who`; the incident as the console shows it next.
    pub async fn on_incident(
        &self,
        who: &Principal,
        id: Uuid,
        action: IncidentAction,
    ) -> Result<IncidentSummary, ConsoleError> {
        if !who.may_act_on_incidents() {
            return Err(ConsoleError::Forbidden(format!(
                "role {} may not act on incidents (SREs only)",
                who.role_name()
            )));
        }
        let visible = self.views.read().incident(id).is_some_and(|i| may_see(who, i));
        if !visible {
            return Err(ConsoleError::NotFound(format!("incident {id}")));
        }
        let body = match &action {
            IncidentAction::Assign(assignee) => serde_json::json!({ "by": who.name, "assignee": assignee }),
            _ => serde_json::json!({ "by": who.name }),
        };
        let authorization = self
            .logintel_token
            .as_ref()
            .map(|token| format!("Bearer {}", secrecy::ExposeSecret::expose_secret(token)));
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("authorization", value.as_str()))
            .collect();
        // The replica owning the incident's service knows it; the others answer 404.
        let mut answer = None;
        for replica in self.log_service.urls().await {
            let url = format!("{replica}/v1/incidents/{id}/{}", action.path());
            let answered = self
                .client
                .post_json(&url, &body, &headers)
                .await
                .map_err(|e| ConsoleError::Unavailable(format!("the log service at {replica}: {e}")))?;
            let known = answered.status.as_u16() != 404;
            answer = Some(answered);
            if known {
                break;
            }
        }
        let Some(answer) = answer else {
            return Err(ConsoleError::Unavailable("no log service replica".to_owned()));
        };
        if !answer.is_success() {
            let reason = upstream_reason(&answer.body_snippet);
            return Err(match answer.status.as_u16() {
                404 => ConsoleError::NotFound(format!("the log service does not know incident {id}")),
                409 => ConsoleError::Conflict(reason),
                400..=499 => ConsoleError::BadRequest(reason),
                _ => ConsoleError::Unavailable(format!("the log service answered {}: {reason}", answer.status)),
            });
        }
        let by = who.name.clone();
        let seen = self
            .views
            .wait_until(self.wait, |v| v.incident(id).is_some_and(|i| action.done(i, &by)))
            .await;
        if !seen {
            tracing::warn!(%id, action = action.path(), "the change was not followed back in time");
        }
        self.views
            .read()
            .incident(id)
            .map(IncidentSummary::of)
            .ok_or_else(|| ConsoleError::NotFound(format!("incident {id}")))
    }

    /// Every queue a ticket can be re-routed to: configured and seen.
    pub fn known_queues(&self) -> Vec<String> {
        let mut queues = self.views.read().queues();
        queues.extend(self.queues.iter().cloned());
        queues.sort();
        queues.dedup();
        queues
    }

    /// Moves ticket `id` to another queue for `who`: feedback record, then the new revision.
    pub async fn reroute(
        &self,
        who: &Principal,
        id: &str,
        request: RerouteRequest,
    ) -> Result<TicketSummary, ConsoleError> {
        if !who.may_reroute() {
            return Err(ConsoleError::Forbidden(format!(
                "role {} may not re-route tickets (helpdesk and SREs)",
                who.role_name()
            )));
        }
        let to = request.queue.trim().to_owned();
        let known = self.known_queues();
        if !known.contains(&to) {
            return Err(ConsoleError::BadRequest(format!(
                "unknown queue {to:?}; known queues: {}",
                known.join(", ")
            )));
        }
        let note: String = request.note.trim().chars().take(500).collect();
        let _serial = self.reroutes.lock().await;
        let current = self
            .views
            .read()
            .ticket(id)
            .map(|t| t.ticket.clone())
            .ok_or_else(|| ConsoleError::NotFound(format!("ticket {id}")))?;
        if current.queue == to {
            return Err(ConsoleError::Conflict(format!("ticket {id} is already in queue {to}")));
        }
        let now = Timestamp::now();
        let revision = current.revision.max(2).saturating_add(1);
        let feedback = TicketFeedback {
            ticket_id: current.ticket_id.clone(),
            from_queue: current.queue.clone(),
            to_queue: to.clone(),
            revision,
            confidence: current.confidence,
            by: who.name.clone(),
            note: note.clone(),
            at: now,
        };
        let reason = if note.is_empty() {
            format!("re-routed by {} from {}", who.name, current.queue)
        } else {
            format!("re-routed by {} from {}: {note}", who.name, current.queue)
        };
        let next = RoutedTicket {
            revision,
            queue: to,
            confidence: 1.0,
            reason,
            ..current
        };
        self.send(
            &self.feedback_topic,
            &feedback.ticket_id,
            Envelope::new(COMPONENT, feedback.clone()),
        )
        .await?;
        self.send(
            &self.routed_topic,
            &next.ticket_id,
            Envelope::new(COMPONENT, next.clone()),
        )
        .await?;
        self.views.update(|v, limits| v.apply_ticket(next, now, limits.tickets));
        self.views
            .read()
            .ticket(id)
            .map(TicketSummary::of)
            .ok_or_else(|| ConsoleError::NotFound(format!("ticket {id}")))
    }

    async fn send<T: opsline_events::Event>(
        &self,
        topic: &str,
        key: &str,
        envelope: Envelope<T>,
    ) -> Result<(), ConsoleError> {
        let record = OutRecord::event(topic.to_owned(), key, &envelope)
            .map_err(|e| ConsoleError::Unavailable(format!("encode: {e}")))?;
        self.producer
            .send(&record)
            .await
            .map_err(|e| ConsoleError::Unavailable(e.to_string()))?;
        Ok(())
    }
}

/// The `reason` of an upstream JSON error body, else the body itself.
fn upstream_reason(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use opsline_events::Event;
    use opsline_events::logs::{IncidentResponse, PostmortemDecision};

    use super::*;

    #[test]
    fn actions_parse_and_know_when_they_are_done() {
        assert_eq!(
            IncidentAction::parse("acknowledge", None).unwrap(),
            IncidentAction::Acknowledge
        );
        assert!(IncidentAction::parse("assign", Some("  ")).is_err());
        assert!(IncidentAction::parse("explode", None).is_err());
        let mut incident = Incident::sample();
        incident.response = None;
        incident.status = IncidentStatus::Open;
        assert!(!IncidentAction::Acknowledge.done(&incident, "al"));
        assert!(!IncidentAction::Resolve.done(&incident, "al"));
        incident.response = Some(IncidentResponse {
            acknowledged_by: Some("al".into()),
            assignee: Some("bo".into()),
            ..IncidentResponse::default()
        });
        assert!(IncidentAction::Acknowledge.done(&incident, "al"));
        assert!(IncidentAction::Assign("bo".into()).done(&incident, "al"));
        assert!(!IncidentAction::Assign("cy".into()).done(&incident, "al"));
        incident.postmortem = Some(PostmortemDecision {
            decision: PostmortemChoice::Draft,
            reason: "declared".into(),
            decided_by: "al".into(),
            resolution: None,
        });
        assert!(IncidentAction::DeclarePostmortem.done(&incident, "al"));
        assert!(!IncidentAction::DeclarePostmortem.done(&incident, "policy"));
    }

    #[test]
    fn upstream_reasons() {
        assert_eq!(
            upstream_reason(r#"{"error":"x","reason":"it is resolved"}"#),
            "it is resolved"
        );
        assert_eq!(upstream_reason("plain"), "plain");
    }
}
