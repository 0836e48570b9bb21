//! A password reset happens only when the user can receive it.
//!
//! 1. The private reply channel is checked first: a short private message ("setting a temporary
//!    password now") must be accepted by the platform or relay. If it is not, the directory is
//!    not touched.
//! 2. The temporary password is set, then delivered privately.
//! 3. If that delivery still fails, nobody knows the new password. It cannot be rolled back
//!    (the old password is not known to self-service, and Active Directory never reveals it),
//!    so the account is **locked pending the helpdesk** (OpenLDAP: an administrative ppolicy
//!    lock, `pwdAccountLockedTime: 000001010000Z`; Active Directory: the account disabled), and
//!    a helpdesk ticket and a `failed` audit event say why. If even the lock fails, the ticket
//!    says that too. Until the helpdesk clears the lock, the reset flow refuses to reset or
//!    unlock the account (`locked_pending_helpdesk`).

use opsline_events::ops::ChatMessage;
use opsline_events::tickets::RawTicket;
use opsline_runtime::Classify;
use secrecy::{ExposeSecret, SecretString};

use crate::directory::Directory;
use crate::error::SelfServiceError;
use crate::reply::ReplySender;
use crate::turn::{Auditor, Reply, Turn};

const INTENT: &str = "password_reset";
const ACTION: &str = "password_reset";

/// What a reset needs besides the request: the directory, the reply channel, the auditor.
pub struct ResetDelivery<'a> {
    /// The directory.
    pub directory: &'a Directory,
    /// The private reply channel.
    pub sender: &'a ReplySender,
    /// Builds audit events.
    pub auditor: Auditor,
}

impl ResetDelivery<'_> {
    /// Sets `temporary` on `dn` for the author of `message` and delivers it privately, only
    /// after the reply channel accepted a message; locks the account pending the helpdesk
    /// when the password itself cannot be delivered.
    pub async fn reset(
        &self,
        turn: &mut Turn,
        message: &ChatMessage,
        dn: &str,
        temporary: &SecretString,
        started: std::time::Instant,
    ) {
        let identity = message.identity();
        let user_id = identity.as_str();
        let notice = "Confirmed. I am setting a temporary password now; it follows in a private message.";
        if let Err(error) = self.sender.deliver(message, &SecretString::from(notice)).await {
            tracing::warn!(code = error.code(), %error, "reply channel unavailable: password not reset");
            let reason = format!("reply channel unavailable before the change, directory unchanged: {error}");
            turn.audits.push(
                self.auditor
                    .action(user_id, ACTION, "failed", Some(&reason), Some(dn), started),
            );
            turn.say(
                INTENT,
                "I could not reach you privately, so I did not reset your password; nothing was changed. \
                 Please try again later or contact the service desk.",
            );
            return;
        }
        turn.replies.push(delivered(notice.to_owned(), notice.to_owned()));
        if let Err(error) = self.directory.set_password(dn, temporary).await {
            self.auditor
                .directory_failed(turn, user_id, ACTION, INTENT, &error, started);
            return;
        }
        let template = |password: &str| {
            format!(
                "Your password was reset. Temporary password: {password}\n\
                 You must choose a new one at your next sign-in."
            )
        };
        let private = SecretString::from(template(temporary.expose_secret()));
        match self.sender.deliver(message, &private).await {
            Ok(()) => {
                turn.replies.push(Reply {
                    private_text: private,
                    redacted_text: template("[sent privately]"),
                    intent: INTENT,
                    delivered: true,
                });
                turn.audits.push(
                    self.auditor
                        .action(user_id, ACTION, "succeeded", None, Some(dn), started),
                );
            }
            Err(error) => self.lock_pending_helpdesk(turn, message, dn, &error, started).await,
        }
    }

    async fn lock_pending_helpdesk(
        &self,
        turn: &mut Turn,
        message: &ChatMessage,
        dn: &str,
        reply_error: &SelfServiceError,
        started: std::time::Instant,
    ) {
        let identity = message.identity();
        let user_id = identity.as_str();
        let ticket_id = format!("CHAT-{}", uuid::Uuid::now_v7().simple());
        let locked = self.directory.lock(dn).await;
        let (lock_state, lock_text) = match &locked {
            Ok(()) => ("locked", "account locked pending the helpdesk".to_owned()),
            Err(error) => ("lock_failed", format!("locking the account FAILED ({error})")),
        };
        tracing::warn!(
            code = reply_error.code(),
            %reply_error,
            lock = lock_state,
            ticket = %ticket_id,
            "temporary password undeliverable after the reset"
        );
        let reason = format!("reply undeliverable after the change ({reply_error}); {lock_text}; ticket {ticket_id}");
        turn.audits.push(
            self.auditor
                .action(user_id, ACTION, "failed", Some(&reason), Some(dn), started),
        );
        let mut attributes = std::collections::BTreeMap::new();
        attributes.insert("chat_user_id".to_owned(), user_id.to_owned());
        attributes.insert("chat_platform".to_owned(), message.platform.clone());
        attributes.insert("handoff".to_owned(), "true".to_owned());
        attributes.insert("selfservice_reason".to_owned(), "reset_reply_undeliverable".to_owned());
        attributes.insert("account_lock".to_owned(), lock_state.to_owned());
        attributes.insert("directory_dn".to_owned(), dn.to_owned());
        turn.tickets.push(RawTicket {
            ticket_id: ticket_id.clone(),
            requester: user_id.to_owned(),
            subject: "Self-service password reset not delivered: account locked pending the helpdesk".to_owned(),
            description: format!(
                "Self-service set a temporary password on {dn} for chat user {user_id} ({}) but could not \
                 deliver it privately: {reply_error}. Nobody knows that password: {lock_text}. Verify the \
                 user, set a new password and clear the lock.",
                message.platform
            ),
            channel: "chat".to_owned(),
            service: None,
            attributes,
        });
        turn.say(
            INTENT,
            format!(
                "I set a temporary password but could not send it to you privately, so for your safety the \
                 account is locked until the service desk helps you (ticket {ticket_id})."
            ),
        );
    }
}

fn delivered(private: String, redacted: String) -> Reply {
    Reply {
        private_text: SecretString::from(private),
        redacted_text: redacted,
        intent: INTENT,
        delivered: true,
    }
}
