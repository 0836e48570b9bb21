//! What handling one chat message produces: private replies (delivered to the platform,
//! with a redacted copy for Kafka), audit events and tickets for triage.

use std::time::Instant;

use opsline_events::ops::SelfServiceAction;
use opsline_events::tickets::RawTicket;
use opsline_runtime::Classify;
use secrecy::SecretString;

use crate::error::SelfServiceError;

/// One reply: the private text (may hold a temporary password) and its redacted copy.
#[derive(Debug)]
pub struct Reply {
    /// Sent only to the platform, privately.
    pub private_text: SecretString,
    /// What Kafka, logs and LLMs may see.
    pub redacted_text: String,
    /// The intent answered.
    pub intent: &'static str,
    /// Already delivered to the platform by the flow that made it (only the redacted copy
    /// is left to publish).
    pub delivered: bool,
}

impl Reply {
    /// A reply without secrets (the private text equals the redacted one).
    pub fn plain(intent: &'static str, text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            private_text: SecretString::from(text.clone()),
            redacted_text: text,
            intent,
            delivered: false,
        }
    }
}

/// Everything one message produced.
#[derive(Debug, Default)]
pub struct Turn {
    /// Replies, in order.
    pub replies: Vec<Reply>,
    /// Audit events.
    pub audits: Vec<SelfServiceAction>,
    /// Tickets for triage (open_ticket, human_handoff).
    pub tickets: Vec<RawTicket>,
}

impl Turn {
    /// Adds a plain reply.
    pub fn say(&mut self, intent: &'static str, text: impl Into<String>) {
        self.replies.push(Reply::plain(intent, text));
    }
}

/// Builds audit events with the handling time and the deflection credit.
#[derive(Debug, Clone, Copy)]
pub struct Auditor {
    /// Cost credited to every automatic resolution.
    pub cost_per_ticket: f64,
}

impl Auditor {
    /// An audit event of `user_id`'s `action` with `outcome` (`succeeded` earns the credit).
    pub fn action(
        &self,
        user_id: &str,
        action: &str,
        outcome: &str,
        reason: Option<&str>,
        target: Option<&str>,
        started: Instant,
    ) -> SelfServiceAction {
        SelfServiceAction {
            action_id: uuid::Uuid::now_v7(),
            user_id: user_id.to_owned(),
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            reason: reason.map(str::to_owned),
            target: target.map(str::to_owned),
            handling_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            cost_saved: if outcome == "succeeded" {
                self.cost_per_ticket
            } else {
                0.0
            },
        }
    }

    /// The directory failed `user_id`'s `action` (answering `intent`): logged with its code,
    /// audited as `failed` with the reason, and the user told that nothing changed.
    pub(crate) fn directory_failed(
        &self,
        turn: &mut Turn,
        user_id: &str,
        action: &str,
        intent: &'static str,
        error: &SelfServiceError,
        started: Instant,
    ) {
        tracing::warn!(code = error.code(), %error, "directory operation failed");
        turn.audits
            .push(self.action(user_id, action, "failed", Some(&error.to_string()), None, started));
        turn.say(
            intent,
            "The directory is not reachable right now, so nothing was changed. \
             Please try again in a few minutes, or contact the service desk.",
        );
    }
}
