//! The routing decision for one ticket: redact, detect a self-service intent,
//! classify the queue, derive the priority, link an open incident. Pure and
//! synchronous; no language model is involved, so nothing in a ticket's text can
//! talk its way into another queue or priority.

use jiff::Timestamp;
use opsline_classify::{Intent, IntentClassifier, Model};
use opsline_events::tickets::{
    Disposition, Priority, RawTicket, RoutedTicket, TicketState, TicketStateChange, TriagedTicket,
};
use opsline_privacy::{RedactionSession, Redactor};

use crate::config::{ClassifierConfig, IncidentLinkConfig};
use crate::incidents::IncidentBook;
use crate::priority::priority;

/// Intents that self-service can answer without a person.
const SELF_SERVICE_INTENTS: [Intent; 3] = [Intent::PasswordReset, Intent::TicketStatus, Intent::ServiceStatus];

/// The three outputs of one triage decision, plus what the enrichment needs later.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The triage record (redacted text, category, confidence, disposition).
    pub triaged: TriagedTicket,
    /// Revision 1 of the routed ticket.
    pub routed: RoutedTicket,
    /// The new ticket state (`routed` or `awaiting_triage`).
    pub state: TicketStateChange,
    /// The redaction session (placeholders and originals), kept for restoring the enrichment.
    pub session: RedactionSession,
}

/// The ticket's subject and description redacted in one session (numbering shared across
/// both fields): what every later step, the model included, sees.
pub fn redact_ticket(redactor: &Redactor, ticket: &RawTicket) -> (RedactionSession, String, String) {
    let mut session = redactor.session();
    let subject = session.redact(&ticket.subject);
    let description = session.redact(&ticket.description);
    (session, subject, description)
}

/// Everything the decision needs, loaded once.
#[derive(Debug, Clone)]
pub struct Router {
    model: Model,
    model_version: String,
    intents: IntentClassifier,
    redactor: Redactor,
    config: ClassifierConfig,
    links: IncidentLinkConfig,
}

impl Router {
    /// A router with a trained queue model and the built-in intent classifier.
    pub fn new(
        model: Model,
        intents: IntentClassifier,
        redactor: Redactor,
        config: ClassifierConfig,
        links: IncidentLinkConfig,
    ) -> Self {
        let model_version = format!("tickets-{}", model.meta().trained_at);
        Self {
            model,
            model_version,
            intents,
            redactor,
            config,
            links,
        }
    }

    /// The classifier model's version string.
    pub fn model_version(&self) -> &str {
        &self.model_version
    }

    /// Decides where `ticket`, received at `at`, goes.
    pub fn decide(&self, ticket: &RawTicket, at: Timestamp, incidents: &IncidentBook) -> Decision {
        let (session, subject, description) = redact_ticket(&self.redactor, ticket);
        let text = format!("{subject} {description}");

        let intent = self.intents.classify(&text);
        let self_service = SELF_SERVICE_INTENTS.contains(&intent.intent)
            && intent.guard.is_none()
            && intent.confidence >= self.config.self_service_min_confidence;
        let prediction = self.model.predict(&text);
        let confidence = f64::from(prediction.confidence);
        let link = incidents.link(&text, ticket.service.as_deref(), at, &self.links);
        let decided = priority(&text, link.as_ref().map(|l| l.severity));
        let threshold = self.config.human_review_threshold;

        let (disposition, queue, route_confidence, why) = if self_service {
            (
                Disposition::SelfService,
                self.config.self_service_queue.clone(),
                f64::from(intent.confidence),
                format!("self-service intent {} ({:.2})", intent.intent, intent.confidence),
            )
        } else if confidence < threshold {
            (
                Disposition::HumanReview,
                self.config.human_queue.clone(),
                confidence,
                format!(
                    "model {} confidence {confidence:.2} below threshold {threshold} (best guess {})",
                    self.model_version, prediction.label
                ),
            )
        } else {
            (
                Disposition::AutoRouted,
                prediction.label.clone(),
                confidence,
                format!(
                    "model {} confidence {confidence:.2} at or above threshold {threshold}",
                    self.model_version
                ),
            )
        };
        let mut reason = format!("{why}; priority {}", decided.rule);
        if let Some(link) = &link {
            reason.push_str(&format!(
                "; linked to open {} incident {} (similarity {:.2})",
                link.service, link.incident_id, link.similarity
            ));
        }
        let incident_id = link.map(|l| l.incident_id);
        let triaged = TriagedTicket {
            ticket_id: ticket.ticket_id.clone(),
            requester: ticket.requester.clone(),
            redacted_subject: subject.clone(),
            redacted_description: description,
            intent: (intent.intent != Intent::Other).then(|| intent.intent.as_str().to_owned()),
            category: prediction.label,
            confidence,
            priority: decided.priority,
            disposition,
            incident_id,
            model_version: self.model_version.clone(),
        };
        let routed = RoutedTicket {
            ticket_id: ticket.ticket_id.clone(),
            revision: 1,
            queue: queue.clone(),
            priority: decided.priority,
            confidence: route_confidence,
            reason,
            incident_id,
            summary: None,
            suggested_reply: None,
            citations: Vec::new(),
            enrichment_model: None,
        };
        let state = TicketStateChange {
            ticket_id: ticket.ticket_id.clone(),
            requester: ticket.requester.clone(),
            subject,
            state: if disposition == Disposition::HumanReview {
                TicketState::AwaitingTriage
            } else {
                TicketState::Routed
            },
            queue: Some(queue),
            updated_at: Timestamp::now(),
        };
        Decision {
            triaged,
            routed,
            state,
            session,
        }
    }
}

/// The priority's wire name (`p1` ... `p4`), for prompts and reports.
pub fn priority_name(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "p1",
        Priority::P2 => "p2",
        Priority::P3 => "p3",
        Priority::P4 => "p4",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opsline_classify::{TrainConfig, train};
    use opsline_events::Event;

    /// A router over a tiny trained model (Network, Printing, Hardware).
    pub(crate) fn router(threshold: f64) -> Router {
        let texts = [
            "vpn drops disconnects tunnel",
            "vpn client cannot connect tunnel",
            "printer jammed paper toner",
            "printer offline toner empty",
            "laptop screen broken keyboard",
            "laptop battery keyboard dead",
        ];
        let labels = ["Network", "Network", "Printing", "Printing", "Hardware", "Hardware"];
        let config = TrainConfig {
            validation_fraction: 0.0,
            features: opsline_classify::FeatureConfig {
                min_df: 1,
                ..Default::default()
            },
            ..TrainConfig::default()
        };
        let model = train(&texts, &labels, &config).unwrap();
        Router::new(
            model,
            IntentClassifier::builtin().unwrap(),
            Redactor::default(),
            ClassifierConfig {
                human_review_threshold: threshold,
                ..ClassifierConfig::default()
            },
            IncidentLinkConfig::default(),
        )
    }

    fn ticket(subject: &str, description: &str) -> RawTicket {
        RawTicket {
            ticket_id: "T-1".into(),
            subject: subject.into(),
            description: description.into(),
            service: None,
            ..RawTicket::sample()
        }
    }

    #[test]
    fn confident_prediction_is_auto_routed() {
        let d = router(0.0).decide(
            &ticket("printer jammed", "toner empty and paper jammed"),
            Timestamp::now(),
            &IncidentBook::default(),
        );
        assert_eq!(d.triaged.disposition, Disposition::AutoRouted);
        assert_eq!(d.routed.queue, "Printing");
        assert_eq!(d.routed.revision, 1);
        assert_eq!(d.state.state, TicketState::Routed);
    }

    #[test]
    fn low_confidence_goes_to_human_review() {
        let d = router(0.99).decide(
            &ticket("something odd", "not sure what this is"),
            Timestamp::now(),
            &IncidentBook::default(),
        );
        assert_eq!(d.triaged.disposition, Disposition::HumanReview);
        assert_eq!(d.routed.queue, "human-triage");
        assert_eq!(d.state.state, TicketState::AwaitingTriage);
    }

    #[test]
    fn password_reset_goes_to_self_service() {
        let d = router(0.0).decide(
            &ticket("I forgot my password", "please reset my password, I am locked out"),
            Timestamp::now(),
            &IncidentBook::default(),
        );
        assert_eq!(d.triaged.disposition, Disposition::SelfService, "{:?}", d.triaged);
        assert_eq!(d.triaged.intent.as_deref(), Some("password_reset"));
        assert_eq!(d.routed.queue, "self-service");
    }
}
