//! The second factor: one-time codes sent to the entry's registered e-mail through a
//! pluggable [`Notifier`], kept per chat user until they expire, are used, or too many
//! wrong codes were entered. Codes are compared in constant time and never logged.

use std::collections::HashMap;

use crate::metrics::ChallengeCounters;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use opsline_runtime::outbound::OutboundClient;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::config::{NotifierConfig, OtpConfig};
use crate::error::SelfServiceError;
use crate::password::random_below;

/// Sends a one-time code to a user's registered e-mail address.
pub trait Notifier: Send + Sync {
    /// Delivers `code` to `mail` (for the chat user `user_id`).
    fn send_code<'a>(
        &'a self,
        user_id: &'a str,
        mail: &'a str,
        code: &'a SecretString,
    ) -> BoxFuture<'a, Result<(), SelfServiceError>>;
}

/// A code a [`RecordingNotifier`] was asked to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCode {
    /// The chat user.
    pub user_id: String,
    /// The address.
    pub mail: String,
    /// The code.
    pub code: String,
}

/// Keeps every code in memory (tests and demos read them back).
#[derive(Debug, Clone, Default)]
pub struct RecordingNotifier {
    sent: Arc<Mutex<Vec<SentCode>>>,
}

impl RecordingNotifier {
    /// Every code sent so far.
    pub fn sent(&self) -> Vec<SentCode> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The latest code sent to `mail`.
    pub fn last_code_for(&self, mail: &str) -> Option<String> {
        self.sent().into_iter().rev().find(|s| s.mail == mail).map(|s| s.code)
    }
}

impl Notifier for RecordingNotifier {
    fn send_code<'a>(
        &'a self,
        user_id: &'a str,
        mail: &'a str,
        code: &'a SecretString,
    ) -> BoxFuture<'a, Result<(), SelfServiceError>> {
        Box::pin(async move {
            let mut sent = self
                .sent
                .lock()
                .map_err(|_| SelfServiceError::Notify("recording notifier poisoned".to_owned()))?;
            sent.push(SentCode {
                user_id: user_id.to_owned(),
                mail: mail.to_owned(),
                code: code.expose_secret().to_owned(),
            });
            Ok(())
        })
    }
}

/// Appends `{"mail", "code", "at"}` JSON lines to a file only its owner can read
/// (a stand-in for a mail relay in demos; nothing goes to the log).
#[derive(Debug, Clone)]
pub struct FileNotifier {
    path: PathBuf,
}

impl Notifier for FileNotifier {
    fn send_code<'a>(
        &'a self,
        _user_id: &'a str,
        mail: &'a str,
        code: &'a SecretString,
    ) -> BoxFuture<'a, Result<(), SelfServiceError>> {
        Box::pin(async move {
            let line = serde_json::json!({
                "mail": mail,
                "code": code.expose_secret(),
                "at": jiff::Timestamp::now().to_string(),
            });
            let path = self.path.clone();
            tokio::task::spawn_blocking(move || {
                let mut options = std::fs::OpenOptions::new();
                options.create(true).append(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(&path)?;
                writeln!(file, "{line}")
            })
            .await
            .map_err(|e| SelfServiceError::Notify(e.to_string()))?
            .map_err(|e| SelfServiceError::Notify(format!("cannot write the code file: {e}")))
        })
    }
}

/// POSTs `{"user_id", "mail", "code"}` to a mail relay's webhook (`http` or `https`).
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    client: OutboundClient,
    url: String,
}

impl Notifier for WebhookNotifier {
    fn send_code<'a>(
        &'a self,
        user_id: &'a str,
        mail: &'a str,
        code: &'a SecretString,
    ) -> BoxFuture<'a, Result<(), SelfServiceError>> {
        Box::pin(async move {
            let body = serde_json::json!({ "user_id": user_id, "mail": mail, "code": code.expose_secret() });
            let response = self
                .client
                .post_json(&self.url, &body, &[])
                .await
                .map_err(|e| SelfServiceError::Notify(format!("mail relay unreachable: {e}")))?;
            if response.is_success() {
                Ok(())
            } else {
                Err(SelfServiceError::Notify(format!(
                    "mail relay answered {}",
                    response.status
                )))
            }
        })
    }
}

/// The notifier named by `config`, or `None` for `kind = "none"`.
pub fn notifier_from_config(config: &NotifierConfig) -> Result<Option<Arc<dyn Notifier>>, SelfServiceError> {
    match config.kind.as_str() {
        "none" | "" => Ok(None),
        "file" if !config.path.is_empty() => Ok(Some(Arc::new(FileNotifier {
            path: PathBuf::from(&config.path),
        }))),
        "webhook" if !config.url.is_empty() => Ok(Some(Arc::new(WebhookNotifier {
            url: {
                crate::transport::require_https("notifier.url", &config.url)?;
                config.url.clone()
            },
            client: OutboundClient::with_ca_file(Duration::from_secs(5), config.ca_file.as_deref())
                .map_err(|e| SelfServiceError::Startup(format!("HTTP client: {e}")))?,
        }))),
        other => Err(SelfServiceError::Startup(format!(
            "notifier kind {other:?} needs its path/url (kinds: file, webhook, none)"
        ))),
    }
}

/// What a confirmed code allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingAction {
    /// Set a temporary password.
    PasswordReset,
    /// Clear the lockout.
    AccountUnlock,
}

impl PendingAction {
    /// The audit name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::AccountUnlock => "account_unlock",
        }
    }
}

/// An open challenge of one chat user.
#[derive(Debug)]
pub struct Challenge {
    /// What the code unlocks.
    pub action: PendingAction,
    /// The entry acted on (fixed when the challenge was issued).
    pub dn: String,
    /// When the request started (handling time).
    pub started: Instant,
    code: SecretString,
    expires: Instant,
    attempts_left: u32,
}

/// The result of entering a code.
#[derive(Debug)]
pub enum CodeCheck {
    /// No open challenge for this user.
    NoChallenge,
    /// Right code: the challenge, now consumed.
    Confirmed(Challenge),
    /// Wrong code; `attempts_left` more tries.
    Wrong {
        /// Tries left (0: the challenge was dropped).
        attempts_left: u32,
    },
    /// The code expired; the challenge was dropped.
    Expired,
}

/// Open challenges by chat user id, at most `otp.max_open` at once.
#[derive(Debug, Default)]
pub struct Challenges {
    config: OtpConfig,
    open: HashMap<String, Challenge>,
    counters: ChallengeCounters,
}

impl Challenges {
    /// An empty set with `config`.
    pub fn new(config: OtpConfig) -> Self {
        Self {
            config,
            open: HashMap::new(),
            counters: ChallengeCounters::default(),
        }
    }

    /// The same set, counting open and refused challenges in `counters`.
    pub(crate) fn with_counters(mut self, counters: ChallengeCounters) -> Self {
        self.counters = counters;
        self
    }

    /// Number of challenges held (expired ones go at the next issue).
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether no challenge is held.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Whether `text` looks like a code (only digits, the configured count).
    pub fn looks_like_code(&self, text: &str) -> bool {
        let text = text.trim();
        text.len() == self.config.digits as usize && text.bytes().all(|b| b.is_ascii_digit())
    }

    /// Whether `user_id` has an open challenge.
    pub fn is_open(&self, user_id: &str) -> bool {
        self.open.get(user_id).is_some_and(|c| c.expires > Instant::now())
    }

    /// Opens (or replaces) the challenge of `user_id` and returns the new code.
    pub fn issue(
        &mut self,
        user_id: &str,
        action: PendingAction,
        dn: &str,
        started: Instant,
    ) -> Result<SecretString, SelfServiceError> {
        let digits = self.config.digits.clamp(4, 9);
        let code = format!("{:0width$}", random_below(10u32.pow(digits))?, width = digits as usize);
        let code = SecretString::from(code);
        let now = Instant::now();
        self.open.retain(|_, c| c.expires > now);
        if !self.open.contains_key(user_id) && self.open.len() >= self.config.max_open.max(1) {
            self.counters.refused.inc();
            return Err(SelfServiceError::Busy(format!(
                "{} one-time codes are outstanding (otp.max_open)",
                self.open.len()
            )));
        }
        self.open.insert(
            user_id.to_owned(),
            Challenge {
                action,
                dn: dn.to_owned(),
                started,
                code: code.clone(),
                expires: now + Duration::from_secs(self.config.ttl_secs),
                attempts_left: self.config.max_attempts.max(1),
            },
        );
        self.counters.set_open(self.open.len());
        Ok(code)
    }

    /// A challenge confirmed at once (second factor switched off).
    pub fn confirmed_without_code(&self, action: PendingAction, dn: &str, started: Instant) -> Challenge {
        Challenge {
            action,
            dn: dn.to_owned(),
            started,
            code: SecretString::from(String::new()),
            expires: Instant::now(),
            attempts_left: 0,
        }
    }

    /// Drops the open challenge of `user_id` (the code could not be sent).
    pub fn withdraw(&mut self, user_id: &str) {
        self.open.remove(user_id);
        self.counters.set_open(self.open.len());
    }

    /// Checks `text` against the open challenge of `user_id`.
    pub fn check(&mut self, user_id: &str, text: &str) -> CodeCheck {
        let Some(challenge) = self.open.get_mut(user_id) else {
            return CodeCheck::NoChallenge;
        };
        if challenge.expires <= Instant::now() {
            self.open.remove(user_id);
            return CodeCheck::Expired;
        }
        let right = bool::from(challenge.code.expose_secret().as_bytes().ct_eq(text.trim().as_bytes()));
        if right {
            return self
                .open
                .remove(user_id)
                .map_or(CodeCheck::NoChallenge, CodeCheck::Confirmed);
        }
        challenge.attempts_left = challenge.attempts_left.saturating_sub(1);
        let attempts_left = challenge.attempts_left;
        if attempts_left == 0 {
            self.open.remove(user_id);
        }
        CodeCheck::Wrong { attempts_left }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_confirm_once_and_wrong_codes_run_out() {
        let mut challenges = Challenges::new(OtpConfig::default());
        let code = challenges
            .issue("U1", PendingAction::PasswordReset, "uid=a", Instant::now())
            .unwrap();
        assert!(challenges.looks_like_code(code.expose_secret()));
        assert!(matches!(
            challenges.check("U1", "000000x"),
            CodeCheck::Wrong { attempts_left: 2 }
        ));
        assert!(matches!(
            challenges.check("U1", code.expose_secret()),
            CodeCheck::Confirmed(_)
        ));
        assert!(matches!(
            challenges.check("U1", code.expose_secret()),
            CodeCheck::NoChallenge
        ));
        let _ = challenges
            .issue("U2", PendingAction::AccountUnlock, "uid=b", Instant::now())
            .unwrap();
        for left in [2, 1, 0] {
            assert!(
                matches!(challenges.check("U2", "nope"), CodeCheck::Wrong { attempts_left } if attempts_left == left)
            );
        }
        assert!(!challenges.is_open("U2"));
    }

    /// #16 item 9: at most `max_open` challenges at once; a flood of users is refused
    /// (counted), and no one's open challenge is cancelled by it.
    #[test]
    fn bounded_memory_otp_challenges_are_capped_without_cancelling_others() {
        let config = OtpConfig {
            max_open: 3,
            ..OtpConfig::default()
        };
        let mut challenges = Challenges::new(config);
        let started = Instant::now();
        let first = challenges
            .issue("U0", PendingAction::PasswordReset, "uid=u0", started)
            .unwrap();
        let refused = (1..30)
            .filter(|n| {
                matches!(
                    challenges.issue(&format!("U{n}"), PendingAction::PasswordReset, "uid=x", started),
                    Err(SelfServiceError::Busy(_))
                )
            })
            .count();
        assert_eq!(refused, 27);
        assert_eq!(challenges.len(), 3);
        assert_eq!(challenges.counters.refused.get(), 27);
        assert!(
            challenges
                .issue("U1", PendingAction::AccountUnlock, "uid=u1", started)
                .is_ok(),
            "a user holding a challenge may get a new code while the table is full"
        );
        assert!(
            matches!(challenges.check("U0", first.expose_secret()), CodeCheck::Confirmed(_)),
            "the first user's challenge survived the flood"
        );
    }
}
