//! The service's one error type and its mapping to the consumer loop's
//! retryable or fatal [`ProcessError`]s.

use opsline_kafka::ProcessError;

/// Everything that can go wrong in the log service.
#[derive(Debug, thiserror::Error)]
pub enum LogintelError {
    /// The input record is not a raw-log envelope (fatal: dead-lettered).
    #[error("invalid raw-log record: {0}")]
    InvalidInput(String),
    /// An output could not be encoded (fatal: dead-lettered).
    #[error("cannot encode output: {0}")]
    Encode(#[from] serde_json::Error),
    /// The miner configuration or a snapshot is invalid.
    #[error("template miner: {0}")]
    Miner(#[from] opsline_logmine::MinerError),
    /// A snapshot could not be read.
    #[error("invalid state snapshot: {0}")]
    Snapshot(String),
    /// Kafka is unreachable or rejected an operation (retryable).
    #[error("event bus: {0}")]
    Kafka(String),
    /// Start-up failed (bind, Kafka client, configuration).
    #[error("startup failed: {0}")]
    Startup(String),
    /// A broken invariant (a bug), reported instead of a panic.
    #[error("internal error: {0}")]
    Internal(String),
}

impl LogintelError {
    /// A stable, bounded code (metrics label and dead-letter field).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Encode(_) => "encode",
            Self::Miner(_) => "miner",
            Self::Snapshot(_) => "snapshot",
            Self::Kafka(_) => "kafka",
            Self::Startup(_) => "startup",
            Self::Internal(_) => "internal",
        }
    }

    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Kafka(_))
    }
}

impl From<LogintelError> for ProcessError {
    fn from(error: LogintelError) -> Self {
        ProcessError::new(error.code(), error.to_string(), error.is_retryable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_retryable_or_fatal() {
        let fatal: ProcessError = LogintelError::InvalidInput("x".into()).into();
        assert!(!fatal.retryable);
        assert_eq!(fatal.code, "invalid_input");
        let retry: ProcessError = LogintelError::Kafka("down".into()).into();
        assert!(retry.retryable);
    }
}
