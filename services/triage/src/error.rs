//! The service's one error type and its mapping to the consumer loop's
//! retryable or fatal [`ProcessError`]s.

use opsline_kafka::ProcessError;

/// Everything that can go wrong in the triage service.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The input record is not a raw-ticket envelope (fatal: dead-lettered).
    #[error("invalid raw-ticket record: {0}")]
    InvalidInput(String),
    /// An output could not be encoded (fatal: dead-lettered).
    #[error("cannot encode output: {0}")]
    Encode(#[from] serde_json::Error),
    /// The classifier model is missing or unreadable.
    #[error("classifier: {0}")]
    Classifier(String),
    /// Kafka is unreachable or rejected an operation (retryable).
    #[error("event bus: {0}")]
    Kafka(String),
    /// Start-up failed (bind, Kafka client, configuration).
    #[error("startup failed: {0}")]
    Startup(String),
}

impl TriageError {
    /// A stable, bounded code (metrics label and dead-letter field).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Encode(_) => "encode",
            Self::Classifier(_) => "classifier",
            Self::Kafka(_) => "kafka",
            Self::Startup(_) => "startup",
        }
    }

    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Kafka(_))
    }
}

impl From<TriageError> for ProcessError {
    fn from(error: TriageError) -> Self {
        ProcessError::new(error.code(), error.to_string(), error.is_retryable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_retryable_or_fatal() {
        let fatal: ProcessError = TriageError::InvalidInput("x".into()).into();
        assert!(!fatal.retryable);
        assert_eq!(fatal.code, "invalid_input");
        let retry: ProcessError = TriageError::Kafka("down".into()).into();
        assert!(retry.retryable);
    }
}
