//! Password reset and account unlock of the requester's OWN directory entry.
//!
//! Who is acted on comes only from the verified chat user id, mapped to exactly one
//! entry by the configured attribute; the message text can only make things stricter
//! (a message naming another account is refused). With the second factor on, a
//! one-time code goes to the entry's registered e-mail and the action runs only when
//! the same chat user sends that code back. The temporary password goes only into the
//! private reply, and only after that reply channel was checked ([`crate::delivery`]); the
//! redacted copy, the audit event and every log line carry none.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsline_events::ops::ChatMessage;
use opsline_runtime::Classify;
use regex::Regex;
use secrecy::ExposeSecret;

use crate::config::{OtpConfig, PasswordPolicy, RateLimitConfig};
use crate::delivery::ResetDelivery;
use crate::directory::{Directory, Lookup};
use crate::error::SelfServiceError;
use crate::metrics::ChallengeCounters;
use crate::otp::{Challenge, Challenges, CodeCheck, Notifier, PendingAction};
use crate::password;
use crate::reply::ReplySender;
use crate::turn::{Auditor, Turn};

const INTENT: &str = "password_reset";

/// The reset/unlock flow and its per-user state (open challenges, rate limits).
pub struct ResetFlow {
    directory: Directory,
    sender: ReplySender,
    notifier: Option<Arc<dyn Notifier>>,
    policy: PasswordPolicy,
    otp_required: bool,
    challenges: Challenges,
    limiter: RateLimiter,
    auditor: Auditor,
    names_account: Regex,
}

impl ResetFlow {
    /// A flow on `directory`, sending codes through `notifier` and temporary passwords
    /// through `sender`.
    pub fn new(
        directory: Directory,
        sender: ReplySender,
        notifier: Option<Arc<dyn Notifier>>,
        policy: PasswordPolicy,
        otp: OtpConfig,
        rate_limit: &RateLimitConfig,
        auditor: Auditor,
    ) -> Result<Self, SelfServiceError> {
        // E-mail addresses, DNs and "<name>'s password/account" name an account explicitly.
        let names_account = Regex::new(
            r"(?i)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}|\b(uid|cn|dn)\s*=|\b([a-z]+)'s\s+(password|account|login|pw)",
        )
        .map_err(|e| SelfServiceError::Startup(e.to_string()))?;
        Ok(Self {
            directory,
            sender,
            notifier,
            policy,
            otp_required: otp.required,
            challenges: Challenges::new(otp),
            limiter: RateLimiter::new(rate_limit),
            auditor,
            names_account,
        })
    }

    /// The same flow, counting its one-time-code challenges in `counters`.
    pub(crate) fn with_challenge_counters(mut self, counters: ChallengeCounters) -> Self {
        self.challenges = std::mem::take(&mut self.challenges).with_counters(counters);
        self
    }

    /// Whether `text` from `user_id` is an answer to an open code challenge.
    pub fn is_code_answer(&self, user_id: &str, text: &str) -> bool {
        self.challenges.is_open(user_id) && self.challenges.looks_like_code(text)
    }

    /// Refuses a request that names another account (called for guard verdicts too).
    pub fn refuse_other_account(&self, turn: &mut Turn, user_id: &str, started: Instant) {
        turn.audits.push(
            self.auditor
                .action(user_id, INTENT, "refused", Some("other_account"), None, started),
        );
        turn.say(
            INTENT,
            "I can only reset or unlock your own account. Nothing was changed. \
             The other person can ask me themselves, or the service desk can help.",
        );
    }

    /// Handles "reset/unlock my account" from the verified author of `message`.
    pub async fn request(&mut self, turn: &mut Turn, message: &ChatMessage, started: Instant) {
        let identity = message.identity();
        let (user_id, text) = (identity.as_str(), message.text.as_str());
        let action = if text.to_lowercase().contains("unlock") || text.to_lowercase().contains("locked") {
            PendingAction::AccountUnlock
        } else {
            PendingAction::PasswordReset
        };
        let name = action.as_str();
        if !self.limiter.allow(user_id) {
            turn.audits.push(
                self.auditor
                    .action(user_id, name, "refused", Some("rate_limited"), None, started),
            );
            turn.say(INTENT, "Too many attempts; please wait a few minutes and try again.");
            return;
        }
        let entry = match self.directory.lookup(&message.platform, &message.user_id).await {
            Ok(Lookup::One(entry)) => entry,
            Ok(Lookup::Unknown) => {
                turn.audits.push(
                    self.auditor
                        .action(user_id, name, "refused", Some("unknown_user"), None, started),
                );
                turn.say(
                    INTENT,
                    "I could not find a directory account linked to your chat user, so I cannot reset it. \
                     Nothing was changed; please contact the service desk.",
                );
                return;
            }
            Ok(Lookup::Ambiguous(count)) => {
                let reason = format!("ambiguous_identity: {count} entries match");
                turn.audits.push(
                    self.auditor
                        .action(user_id, name, "refused", Some(&reason), None, started),
                );
                turn.say(
                    INTENT,
                    "Your chat user is linked to more than one directory account, so I cannot tell which one \
                     is yours. Nothing was changed; please contact the service desk.",
                );
                return;
            }
            Err(error) => {
                self.directory_failed(turn, user_id, name, &error, started);
                return;
            }
        };
        if self.mentions_other_account(text, entry.mail.as_deref()) {
            self.refuse_other_account(turn, user_id, started);
            return;
        }
        if entry.locked_by_helpdesk {
            turn.audits.push(self.auditor.action(
                user_id,
                name,
                "refused",
                Some("locked_pending_helpdesk"),
                Some(&entry.dn),
                started,
            ));
            turn.say(
                INTENT,
                "Your account is locked until the service desk helps you, so I cannot reset or unlock it. \
                 Nothing was changed; please contact the service desk.",
            );
            return;
        }
        if !self.otp_required {
            let challenge = self.challenges.confirmed_without_code(action, &entry.dn, started);
            self.perform(turn, message, challenge).await;
            return;
        }
        let (Some(notifier), Some(mail)) = (self.notifier.clone(), entry.mail.clone()) else {
            turn.audits.push(self.auditor.action(
                user_id,
                name,
                "refused",
                Some("second_factor_unavailable"),
                Some(&entry.dn),
                started,
            ));
            turn.say(
                INTENT,
                "I cannot confirm it is you (no registered e-mail or no way to send a code). \
                 Nothing was changed; please contact the service desk.",
            );
            return;
        };
        let code = match self.challenges.issue(user_id, action, &entry.dn, started) {
            Ok(code) => code,
            Err(SelfServiceError::Busy(reason)) => {
                // Counted (otp_refused); no log line per refusal: a flood must not flood the logs.
                turn.audits.push(self.auditor.action(
                    user_id,
                    name,
                    "refused",
                    Some(&reason),
                    Some(&entry.dn),
                    started,
                ));
                turn.say(
                    INTENT,
                    "Too many verification codes are outstanding right now, so nothing was changed. \
                     Please try again in a few minutes, or contact the service desk.",
                );
                return;
            }
            Err(error) => {
                self.failed(turn, user_id, name, &error, Some(&entry.dn), started);
                return;
            }
        };
        if let Err(error) = notifier.send_code(user_id, &mail, &code).await {
            self.challenges.withdraw(user_id);
            self.failed(turn, user_id, name, &error, Some(&entry.dn), started);
            return;
        }
        turn.audits.push(self.auditor.action(
            user_id,
            name,
            "challenged",
            Some("one-time code sent to the registered e-mail"),
            Some(&entry.dn),
            started,
        ));
        turn.say(
            INTENT,
            format!(
                "To confirm it is you, I sent a one-time code to {}. Reply here with the code.",
                mask_mail(&mail)
            ),
        );
    }

    /// Handles a code sent back by the author of `message`.
    pub async fn confirm(&mut self, turn: &mut Turn, message: &ChatMessage, started: Instant) {
        let identity = message.identity();
        let (user_id, text) = (identity.as_str(), message.text.as_str());
        if !self.limiter.allow(user_id) {
            turn.audits.push(
                self.auditor
                    .action(user_id, INTENT, "refused", Some("rate_limited"), None, started),
            );
            turn.say(INTENT, "Too many attempts; please wait a few minutes and try again.");
            return;
        }
        match self.challenges.check(user_id, text) {
            CodeCheck::Confirmed(challenge) => self.perform(turn, message, challenge).await,
            CodeCheck::Wrong { attempts_left } => {
                turn.audits.push(
                    self.auditor
                        .action(user_id, INTENT, "refused", Some("wrong_code"), None, started),
                );
                if attempts_left == 0 {
                    turn.say(INTENT, "That code is not right, and there are no tries left. Nothing was changed; ask again to get a new code.");
                } else {
                    turn.say(INTENT, format!("That code is not right ({attempts_left} tries left)."));
                }
            }
            CodeCheck::Expired => {
                turn.audits.push(
                    self.auditor
                        .action(user_id, INTENT, "refused", Some("code_expired"), None, started),
                );
                turn.say(
                    INTENT,
                    "That code has expired. Nothing was changed; ask again to get a new code.",
                );
            }
            CodeCheck::NoChallenge => {
                turn.say("other", "I was not waiting for a code from you.");
            }
        }
    }

    async fn perform(&mut self, turn: &mut Turn, message: &ChatMessage, challenge: Challenge) {
        let identity = message.identity();
        let user_id = identity.as_str();
        let name = challenge.action.as_str();
        let started = challenge.started;
        match challenge.action {
            PendingAction::PasswordReset => {
                let temporary = match password::generate(&self.policy) {
                    Ok(p) if password::meets(&self.policy, p.expose_secret()) => p,
                    Ok(_) | Err(_) => {
                        let error = SelfServiceError::Startup("password generation failed the policy".to_owned());
                        self.failed(turn, user_id, name, &error, Some(&challenge.dn), started);
                        return;
                    }
                };
                let delivery = ResetDelivery {
                    directory: &self.directory,
                    sender: &self.sender,
                    auditor: self.auditor,
                };
                delivery.reset(turn, message, &challenge.dn, &temporary, started).await;
            }
            PendingAction::AccountUnlock => match self.directory.unlock(&challenge.dn).await {
                Ok(was_locked) => {
                    turn.say(
                        INTENT,
                        if was_locked {
                            "Your account is unlocked. You can sign in again."
                        } else {
                            "Your account was not locked; you can sign in. If your password is the problem, ask me to reset it."
                        },
                    );
                    turn.audits.push(self.auditor.action(
                        user_id,
                        name,
                        "succeeded",
                        None,
                        Some(&challenge.dn),
                        started,
                    ));
                }
                Err(error) => self.directory_failed(turn, user_id, name, &error, started),
            },
        }
    }

    fn mentions_other_account(&self, text: &str, own_mail: Option<&str>) -> bool {
        self.names_account.captures_iter(text).any(|captures| {
            let whole = captures.get(0).map_or("", |m| m.as_str());
            if whole.contains('@') {
                return own_mail.is_none_or(|mail| !mail.eq_ignore_ascii_case(whole));
            }
            true
        })
    }

    fn directory_failed(&self, turn: &mut Turn, user_id: &str, name: &str, error: &SelfServiceError, started: Instant) {
        self.auditor
            .directory_failed(turn, user_id, name, INTENT, error, started);
    }

    fn failed(
        &self,
        turn: &mut Turn,
        user_id: &str,
        name: &str,
        error: &SelfServiceError,
        target: Option<&str>,
        started: Instant,
    ) {
        tracing::warn!(code = error.code(), %error, "self-service action failed");
        turn.audits.push(
            self.auditor
                .action(user_id, name, "failed", Some(&error.to_string()), target, started),
        );
        turn.say(
            INTENT,
            "Something went wrong, so nothing was changed. Please try again later or contact the service desk.",
        );
    }
}

/// `alice@example.org` -> `a•••@example.org`.
pub fn mask_mail(mail: &str) -> String {
    match mail.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "your registered address".to_owned(),
    }
}

/// Per-user sliding-window limit of privileged attempts.
struct RateLimiter {
    max: usize,
    window: Duration,
    attempts: HashMap<String, VecDeque<Instant>>,
}

impl RateLimiter {
    fn new(config: &RateLimitConfig) -> Self {
        Self {
            max: config.max_attempts.max(1),
            window: Duration::from_secs(config.window_secs.max(1)),
            attempts: HashMap::new(),
        }
    }

    fn allow(&mut self, user_id: &str) -> bool {
        let now = Instant::now();
        if self.attempts.len() > 10_000 {
            let window = self.window;
            self.attempts
                .retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let times = self.attempts.entry(user_id.to_owned()).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.max {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_mail_and_limits_rate() {
        assert_eq!(mask_mail("alice@example.org"), "a•••@example.org");
        let mut limiter = RateLimiter::new(&RateLimitConfig {
            max_attempts: 2,
            window_secs: 60,
        });
        assert!(limiter.allow("u"));
        assert!(limiter.allow("u"));
        assert!(!limiter.allow("u"));
        assert!(limiter.allow("v"));
    }
}
