//! The service's domain errors, classified for the consumer loop through
//! [`Classify`]: both concern the record being processed (dead-lettered at
//! once); start-up failures are `opsline_runtime::StartupError`s.

use opsline_runtime::{Classify, ErrorKind};

/// What can go wrong while the triage service processes a ticket.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The input record is not a raw-ticket envelope.
    #[error("invalid raw-ticket record: {0}")]
    InvalidInput(String),
    /// An output could not be encoded.
    #[error("cannot encode output: {0}")]
    Encode(#[from] serde_json::Error),
}

impl Classify for TriageError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadRecord
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Encode(_) => "encode",
        }
    }
}

#[cfg(test)]
mod tests {
    use opsline_kafka::ProcessError;

    use super::*;

    #[test]
    fn a_bad_ticket_is_dead_lettered_at_once() {
        let fatal: ProcessError = TriageError::InvalidInput("x".into()).into();
        assert!(!fatal.retryable);
        assert_eq!(fatal.code, "invalid_input");
        assert_eq!(fatal.message, "invalid raw-ticket record: x");
    }
}
