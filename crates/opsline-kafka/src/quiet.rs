//! librdkafka's own logs and errors, said once: while a broker is down librdkafka reports the
//! same connection failure every few hundred milliseconds from every client. [`QuietContext`]
//! passes each kind of message through `tracing` at most once a minute (a warning for errors),
//! so the cause is printed once and the log stays readable. It also keeps the first refusal
//! (a rejected password, an untrusted certificate), which retrying cannot fix, so that start-up
//! can stop with it at once ([`QuietContext::refusal`]).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;

/// How long a kind of message stays silent after it was said.
const REPEAT_AFTER: Duration = Duration::from_secs(60);

/// A client context that reports each kind of librdkafka message at most once a minute.
#[derive(Debug, Default)]
pub struct QuietContext {
    said: Mutex<HashMap<String, Instant>>,
    refusal: Mutex<Option<String>>,
}

/// What librdkafka says when a broker refuses the client's credentials or certificate.
const REFUSALS: [&str; 4] = [
    "SASL authentication error",
    "SASL SCRAM authentication failed",
    "certificate verify failed",
    "Authentication failed",
];

/// Whether a librdkafka message reports a refusal that waiting will not fix.
pub(crate) fn is_refusal(message: &str) -> bool {
    REFUSALS.iter().any(|marker| message.contains(marker))
}

impl QuietContext {
    /// Whether a message of `kind` may be said now (and remembers that it was).
    fn first_in_a_while(&self, kind: String) -> bool {
        let now = Instant::now();
        let mut said = self.said.lock().unwrap_or_else(PoisonError::into_inner);
        match said.get(&kind) {
            Some(at) if now.duration_since(*at) < REPEAT_AFTER => false,
            _ => {
                said.insert(kind, now);
                true
            }
        }
    }

    /// The first refusal librdkafka reported (wrong password, untrusted certificate), if any.
    pub(crate) fn refusal(&self) -> Option<String> {
        self.refusal.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn note_refusal(&self, message: &str) {
        if is_refusal(message) {
            let mut refusal = self.refusal.lock().unwrap_or_else(PoisonError::into_inner);
            if refusal.is_none() {
                *refusal = Some(message.to_owned());
            }
        }
    }

    /// librdkafka's log line, once a minute per facility and level.
    pub(crate) fn say_log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if (level as i32) <= (RDKafkaLogLevel::Error as i32) {
            self.note_refusal(message);
        }
        if !self.first_in_a_while(format!("{level:?}/{facility}")) {
            return;
        }
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error
            | RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", facility, "{message} (repeats silenced for a minute)")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, "{message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
        }
    }

    /// librdkafka's client error, once a minute per error code.
    pub(crate) fn say_error(&self, error: &KafkaError, reason: &str) {
        self.note_refusal(reason);
        let kind = error
            .rdkafka_error_code()
            .map_or_else(|| error.to_string(), |code| format!("{code:?}"));
        if self.first_in_a_while(kind) {
            tracing::warn!(target: "librdkafka", %error, "{reason} (repeats silenced for a minute)");
        }
    }
}

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.say_log(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.say_error(&error, reason);
    }
}

impl rdkafka::consumer::ConsumerContext for QuietContext {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_password_is_kept_and_a_dropped_connection_is_not() {
        let quiet = QuietContext::default();
        quiet.say_log(
            RDKafkaLogLevel::Error,
            "FAIL",
            "127.0.0.1:9092/bootstrap: Connection refused",
        );
        assert_eq!(quiet.refusal(), None);
        let refused = "sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: SASL SCRAM authentication failed: broker responded with invalid-proof";
        quiet.say_log(RDKafkaLogLevel::Error, "FAIL", refused);
        assert_eq!(quiet.refusal().as_deref(), Some(refused));
    }

    #[test]
    fn a_kind_of_message_is_said_once_a_minute() {
        let quiet = QuietContext::default();
        assert!(quiet.first_in_a_while("Error/FAIL".to_owned()));
        assert!(
            !quiet.first_in_a_while("Error/FAIL".to_owned()),
            "the repeat is silenced"
        );
        assert!(
            quiet.first_in_a_while("Error/BROKERFAIL".to_owned()),
            "another kind is said"
        );
    }
}
