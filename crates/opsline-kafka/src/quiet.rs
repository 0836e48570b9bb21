//! librdkafka's own logs and errors, said once: while a broker is down librdkafka reports the
//! same connection failure every few hundred milliseconds from every client. [`QuietContext`]
//! passes each kind of message through `tracing` at most once a minute (a warning for errors),
//! so the cause is printed once and the log stays readable.

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

    /// librdkafka's log line, once a minute per facility and level.
    pub(crate) fn say_log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
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
