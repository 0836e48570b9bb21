//! One chat message in, one [`Turn`] out: the local intent classifier (with its
//! prompt-injection guard) decides what is asked; deterministic code decides who is
//! acted on. No language model takes part in any decision.

use std::time::Instant;

use opsline_classify::{Intent, IntentClassifier};
use opsline_events::ops::ChatMessage;
use opsline_events::tickets::RawTicket;
use regex::Regex;

use crate::directory::{Directory, Lookup};
use crate::error::SelfServiceError;
use crate::reset::ResetFlow;
use crate::screen::{Screen, Screened};
use crate::status::{SharedStatus, short_time};
use crate::turn::{Auditor, Turn};

/// Answers chat messages.
pub struct Handler {
    classifier: IntentClassifier,
    reset: ResetFlow,
    directory: Directory,
    status: SharedStatus,
    auditor: Auditor,
    screen: Screen,
    ticket_id: Regex,
}

impl Handler {
    /// A handler with its classifier, reset flow and status book.
    pub fn new(
        classifier: IntentClassifier,
        reset: ResetFlow,
        directory: Directory,
        status: SharedStatus,
        auditor: Auditor,
    ) -> Result<Self, SelfServiceError> {
        Ok(Self {
            classifier,
            reset,
            directory,
            status,
            auditor,
            screen: Screen::new()?,
            ticket_id: Regex::new(r"\b([A-Za-z]{1,6}-?\d{2,})\b")
                .map_err(|e| SelfServiceError::Startup(e.to_string()))?,
        })
    }

    /// Handles one verified message; `started` is when it was received.
    pub async fn handle(&mut self, message: &ChatMessage, started: Instant) -> (Intent, Turn) {
        let mut turn = Turn::default();
        let identity = message.identity();
        let user = identity.as_str();
        if self.reset.is_code_answer(user, &message.text) {
            self.reset.confirm(&mut turn, message, started).await;
            return (Intent::PasswordReset, turn);
        }
        let prediction = self.classifier.classify(&message.text);
        match self.screen.check(&prediction, &message.text) {
            Some(Screened::PromptInjection) => {
                turn.audits.push(self.auditor.action(
                    user,
                    "chat_request",
                    "refused",
                    Some(Screened::PromptInjection.reason()),
                    None,
                    started,
                ));
                turn.say(
                    "human_handoff",
                    "I cannot act on instructions like that. Nothing was changed. \
                     If you need help with your own account, ask me in plain words, or ask for a person.",
                );
                return (prediction.intent, turn);
            }
            Some(Screened::OtherAccount) => {
                self.reset.refuse_other_account(&mut turn, user, started);
                return (prediction.intent, turn);
            }
            None => {}
        }
        match prediction.intent {
            Intent::PasswordReset => self.reset.request(&mut turn, message, started).await,
            Intent::TicketStatus => self.ticket_status(&mut turn, message, started).await,
            Intent::ServiceStatus => self.service_status(&mut turn, message, started),
            Intent::OpenTicket => self.open_ticket(&mut turn, message, false).await,
            Intent::HumanHandoff => self.open_ticket(&mut turn, message, true).await,
            Intent::Other => turn.say(
                "other",
                "I can reset or unlock your account, tell you the status of your tickets or of a service, \
                 open a ticket, or get you a person.",
            ),
        }
        (prediction.intent, turn)
    }

    /// The requester's identities: the chat user id and, when the directory knows it, the e-mail.
    /// Who the author is: their `platform:user_id`, then their directory e-mail addresses.
    async fn identities(&self, message: &ChatMessage) -> Vec<String> {
        let mut identities = vec![message.identity()];
        match self.directory.lookup(&message.platform, &message.user_id).await {
            Ok(Lookup::One(entry)) => identities.extend(entry.mail),
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "status request without directory identity"),
        }
        identities
    }

    async fn ticket_status(&self, turn: &mut Turn, message: &ChatMessage, started: Instant) {
        let identities = self.identities(message).await;
        let mine = match self.status.read() {
            Ok(book) => book.tickets_of(&identities),
            Err(_) => Vec::new(),
        };
        let asked: Option<String> = self
            .ticket_id
            .captures(&message.text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_uppercase());
        let shown: Vec<_> = match &asked {
            Some(id) => mine
                .iter()
                .filter(|t| t.ticket_id.eq_ignore_ascii_case(id))
                .take(1)
                .collect(),
            None => mine.iter().take(5).collect(),
        };
        if shown.is_empty() {
            let text = match asked {
                Some(id) => format!("I found no ticket {id} of yours."),
                None => "I found no tickets of yours.".to_owned(),
            };
            turn.say("ticket_status", text);
        } else {
            let lines: Vec<String> = shown
                .iter()
                .map(|t| {
                    let state = serde_json::to_value(t.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    format!(
                        "{}: {}, queue {}, updated {}",
                        t.ticket_id,
                        state.replace('_', " "),
                        t.queue.as_deref().unwrap_or("not assigned yet"),
                        short_time(t.updated_at)
                    )
                })
                .collect();
            turn.say("ticket_status", lines.join("\n"));
        }
        turn.audits.push(
            self.auditor
                .action(&message.identity(), "ticket_status", "succeeded", None, None, started),
        );
    }

    fn service_status(&self, turn: &mut Turn, message: &ChatMessage, started: Instant) {
        let (open, known) = match self.status.read() {
            Ok(book) => (book.open_incidents(), book.known_services()),
            Err(_) => (Vec::new(), Vec::new()),
        };
        let text = message.text.to_lowercase();
        let named: Vec<&String> = known.iter().filter(|s| text.contains(&s.to_lowercase())).collect();
        let relevant: Vec<_> = open
            .iter()
            .filter(|i| named.is_empty() || named.iter().any(|s| s.eq_ignore_ascii_case(&i.service)))
            .take(5)
            .collect();
        let reply = if relevant.is_empty() {
            match named.first() {
                Some(service) => format!("No open incident for {service} right now."),
                None => "No open incidents right now.".to_owned(),
            }
        } else {
            relevant
                .iter()
                .map(|i| {
                    format!(
                        "{}: open incident \"{}\" ({}), since {}, last update {}",
                        i.service,
                        i.title,
                        i.severity.as_str(),
                        short_time(i.opened_at),
                        short_time(i.updated_at)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        turn.say("service_status", reply);
        turn.audits.push(
            self.auditor
                .action(&message.identity(), "service_status", "succeeded", None, None, started),
        );
    }

    async fn open_ticket(&self, turn: &mut Turn, message: &ChatMessage, handoff: bool) {
        let identities = self.identities(message).await;
        let requester = identities.last().cloned().unwrap_or_else(|| message.identity());
        let ticket_id = format!("CHAT-{}", uuid::Uuid::now_v7().simple());
        let subject: String = message.text.chars().take(120).collect();
        let mut attributes = std::collections::BTreeMap::new();
        attributes.insert("chat_user_id".to_owned(), message.identity());
        attributes.insert("chat_platform".to_owned(), message.platform.clone());
        if handoff {
            attributes.insert("handoff".to_owned(), "true".to_owned());
        }
        turn.tickets.push(RawTicket {
            ticket_id: ticket_id.clone(),
            requester,
            subject,
            description: message.text.clone(),
            channel: "chat".to_owned(),
            service: None,
            attributes,
        });
        if handoff {
            turn.say(
                "human_handoff",
                format!("A person from the service desk will get back to you (ticket {ticket_id})."),
            );
        } else {
            turn.say(
                "open_ticket",
                format!("I opened ticket {ticket_id} for you; it is being triaged."),
            );
        }
    }
}
