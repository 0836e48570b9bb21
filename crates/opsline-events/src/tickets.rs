//! Ticket-side events: raw tickets, triage, routing and ticket state.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::Event;

/// A ticket as submitted to the gateway (email, portal, chat or API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RawTicket {
    /// The ticket id: the client's own, or assigned by the gateway.
    #[schemars(length(min = 1, max = 128))]
    pub ticket_id: String,
    /// Who asked: the requester's directory id or e-mail; the partition key.
    #[schemars(length(min = 1, max = 256))]
    pub requester: String,
    /// One-line subject.
    pub subject: String,
    /// Free-text description.
    #[serde(default)]
    pub description: String,
    /// Where it came from: `email`, `portal`, `chat`, `api`.
    #[serde(default = "default_channel")]
    pub channel: String,
    /// The service the requester thinks is involved, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Free-form attributes from the source system.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

fn default_channel() -> String {
    "api".to_owned()
}

impl Event for RawTicket {
    const TYPE: &'static str = "ticket.raw";
    fn sample() -> Self {
        Self {
            ticket_id: "T-1001".into(),
            requester: "alice@example.com".into(),
            subject: "VPN keeps disconnecting".into(),
            description: "Since this morning the VPN drops every 5 minutes on my laptop.".into(),
            channel: "portal".into(),
            service: Some("vpn".into()),
            attributes: BTreeMap::new(),
        }
    }
}

/// Ticket priority, P1 most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Outage or many users blocked.
    P1,
    /// One user blocked or a degraded service.
    P2,
    /// Normal request.
    P3,
    /// Low urgency.
    P4,
}

/// How a ticket is handled after triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Routed automatically to a queue.
    AutoRouted,
    /// Confidence too low: sent to the human triage queue.
    HumanReview,
    /// Handed to self-service (password reset, status request).
    SelfService,
}

/// The triage decision for one ticket, on redacted text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriagedTicket {
    /// The ticket id.
    pub ticket_id: String,
    /// The requester.
    pub requester: String,
    /// Subject with sensitive data replaced by typed placeholders.
    pub redacted_subject: String,
    /// Description with sensitive data replaced by typed placeholders.
    pub redacted_description: String,
    /// Detected chat/self-service intent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// Predicted queue/category.
    pub category: String,
    /// Calibrated confidence of the category, 0..1.
    pub confidence: f64,
    /// Priority.
    pub priority: Priority,
    /// What happens next.
    pub disposition: Disposition,
    /// An open incident the ticket is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<Uuid>,
    /// Classifier model version.
    pub model_version: String,
}

impl Event for TriagedTicket {
    const TYPE: &'static str = "ticket.triaged";
    fn sample() -> Self {
        Self {
            ticket_id: "T-1001".into(),
            requester: "alice@example.com".into(),
            redacted_subject: "VPN keeps disconnecting".into(),
            redacted_description: "Since this morning the VPN drops every 5 minutes, call me at <PHONE_1>.".into(),
            intent: None,
            category: "Hardware".into(),
            confidence: 0.91,
            priority: Priority::P2,
            disposition: Disposition::AutoRouted,
            incident_id: None,
            model_version: "tickets-2026-11-23".into(),
        }
    }
}

/// A source the LLM enrichment was grounded on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Citation {
    /// `runbook` or `ticket`.
    pub kind: String,
    /// Runbook path or ticket id.
    pub reference: String,
}

/// A ticket delivered to a helpdesk queue; later revisions add the LLM enrichment.
/// Consumers keep the highest revision per ticket: a later revision is produced only
/// after the earlier one was acknowledged (same key, same partition, so it follows it),
/// but a replay after a crash can repeat revision 1 after revision 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoutedTicket {
    /// The ticket id; the partition key.
    pub ticket_id: String,
    /// Revision: 1 when routed, higher when enriched. Consumers keep the highest revision per ticket.
    pub revision: u32,
    /// The queue the ticket is assigned to.
    pub queue: String,
    /// Priority.
    pub priority: Priority,
    /// Calibrated confidence of the routing decision.
    pub confidence: f64,
    /// Why it went there (rule, model, human-review threshold).
    pub reason: String,
    /// A linked open incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<Uuid>,
    /// LLM summary, once available (restored for the helpdesk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// LLM suggested reply, once available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_reply: Option<String>,
    /// What the suggestion was grounded on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
    /// Model and prompt version that produced the enrichment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment_model: Option<String>,
}

impl Event for RoutedTicket {
    const TYPE: &'static str = "ticket.routed";
    fn sample() -> Self {
        Self {
            ticket_id: "T-1001".into(),
            revision: 2,
            queue: "Hardware".into(),
            priority: Priority::P2,
            confidence: 0.91,
            reason: "model tickets-2026-11-23 above threshold 0.6".into(),
            incident_id: None,
            summary: Some("User's VPN disconnects every five minutes since this morning.".into()),
            suggested_reply: Some("Please update the VPN client (runbooks/vpn.md).".into()),
            citations: vec![Citation {
                kind: "runbook".into(),
                reference: "runbooks/vpn.md".into(),
            }],
            enrichment_model: Some("qwen2.5-coder-1.5b/ticket-summary@1".into()),
        }
    }
}

/// Lifecycle state of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// Received, not yet triaged.
    New,
    /// Routed to a queue.
    Routed,
    /// Waiting for a human triager.
    AwaitingTriage,
    /// Someone works on it.
    InProgress,
    /// Resolved (by a person or self-service).
    Resolved,
    /// Closed.
    Closed,
}

/// The latest state of a ticket; the compacted ticket-state topic keeps one per ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TicketStateChange {
    /// The ticket id; the compacted topic's key.
    pub ticket_id: String,
    /// The requester (status requests only show a user their own tickets).
    pub requester: String,
    /// The subject, redacted.
    pub subject: String,
    /// New state.
    pub state: TicketState,
    /// Queue the ticket sits in, if routed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// When the state changed.
    pub updated_at: Timestamp,
}

impl Event for TicketStateChange {
    const TYPE: &'static str = "ticket.state";
    fn sample() -> Self {
        Self {
            ticket_id: "T-1001".into(),
            requester: "alice@example.com".into(),
            subject: "VPN keeps disconnecting".into(),
            state: TicketState::Routed,
            queue: Some("Hardware".into()),
            updated_at: Timestamp::from_second(1_732_345_260).unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }
}

/// A person's correction of a routing decision (the helpdesk re-routed a ticket): training
/// data for the next classifier, kept beside the new routed revision it caused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TicketFeedback {
    /// The ticket id; the partition key.
    pub ticket_id: String,
    /// The queue the ticket was in (the model's or an earlier person's decision).
    pub from_queue: String,
    /// The queue a person chose.
    pub to_queue: String,
    /// The routed revision the correction produced.
    pub revision: u32,
    /// The classifier's confidence in the replaced decision.
    pub confidence: f64,
    /// Who re-routed it (the token holder's name).
    pub by: String,
    /// Why, in the person's words (may be empty).
    #[serde(default)]
    pub note: String,
    /// When it was re-routed.
    pub at: Timestamp,
}

impl Event for TicketFeedback {
    const TYPE: &'static str = "ticket.feedback";
    fn sample() -> Self {
        Self {
            ticket_id: "T-1001".into(),
            from_queue: "Hardware".into(),
            to_queue: "Network".into(),
            revision: 3,
            confidence: 0.91,
            by: "dana".into(),
            note: "VPN problems belong to Network".into(),
            at: Timestamp::from_second(1_732_345_320).unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }
}
