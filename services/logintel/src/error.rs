//! The service's domain errors, classified for the consumer loop through
//! [`Classify`]: every one of them concerns the record being processed
//! (dead-lettered at once); start-up failures are `opsline_runtime::StartupError`s.

use opsline_runtime::{Classify, ErrorKind};

/// What can go wrong while the log service processes a record.
#[derive(Debug, thiserror::Error)]
pub enum LogintelError {
    /// The input record is not a raw-log envelope.
    #[error("invalid raw-log record: {0}")]
    InvalidInput(String),
    /// An output could not be encoded.
    #[error("cannot encode output: {0}")]
    Encode(#[from] serde_json::Error),
    /// The miner configuration or a snapshot is invalid.
    #[error("template miner: {0}")]
    Miner(#[from] opsline_logmine::MinerError),
    /// A snapshot could not be read.
    #[error("invalid state snapshot: {0}")]
    Snapshot(String),
    /// A line of a new service while the engine already holds its maximum of services: the
    /// line is dead-lettered (the bound keeps memory finite under made-up service names).
    #[error("too many services: {0} held (the [logintel] max_services bound); line of new service {1:?} refused")]
    TooManyServices(usize, String),
    /// A broken invariant (a bug), reported instead of a panic.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Classify for LogintelError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadRecord
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Encode(_) => "encode",
            Self::Miner(_) => "miner",
            Self::Snapshot(_) => "snapshot",
            Self::TooManyServices(..) => "too_many_services",
            Self::Internal(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use opsline_kafka::ProcessError;

    use super::*;

    #[test]
    fn every_error_is_a_bad_record_with_its_cause_in_the_message() {
        let fatal: ProcessError = LogintelError::InvalidInput("x".into()).into();
        assert!(!fatal.retryable);
        assert_eq!(fatal.code, "invalid_input");
        let cause = serde_json::from_str::<u8>("\"x\"").unwrap_err();
        let encode: ProcessError = LogintelError::Encode(cause).into();
        assert!(!encode.retryable);
        assert!(
            encode.message.starts_with("cannot encode output: invalid type"),
            "{}",
            encode.message
        );
    }
}
