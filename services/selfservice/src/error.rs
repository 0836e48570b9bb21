//! The service's one error type and its mapping to the consumer loop's retryable or
//! fatal [`ProcessError`]s. Messages never carry a secret.

use opsline_runtime::{Classify, ErrorKind};

/// Everything that can go wrong in the self-service service.
#[derive(Debug, thiserror::Error)]
pub enum SelfServiceError {
    /// The input record is not a chat-message envelope (fatal: dead-lettered).
    #[error("invalid chat message: {0}")]
    InvalidInput(String),
    /// An output could not be encoded (fatal).
    #[error("cannot encode output: {0}")]
    Encode(#[from] serde_json::Error),
    /// The directory is unreachable or failed (retryable by the user; answered, not re-consumed).
    #[error("directory unavailable: {0}")]
    Directory(String),
    /// The directory refused an operation (e.g. missing rights).
    #[error("directory refused: {0}")]
    DirectoryRefused(String),
    /// A one-time code could not be sent.
    #[error("one-time code not sent: {0}")]
    Notify(String),
    /// A bounded table is full (e.g. `otp.max_open` challenges outstanding); try later.
    #[error("busy: {0}")]
    Busy(String),
    /// A reply could not be delivered to the platform after retries.
    #[error("reply not delivered: {0}")]
    Reply(String),
    /// The configuration or the environment is wrong (a setting, the OS random source).
    #[error("invalid setup: {0}")]
    Startup(String),
}

impl Classify for SelfServiceError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Directory(_) | Self::Notify(_) | Self::Reply(_) | Self::Busy(_) => ErrorKind::Unavailable,
            Self::InvalidInput(_) | Self::Encode(_) | Self::DirectoryRefused(_) => ErrorKind::BadRecord,
            Self::Startup(_) => ErrorKind::Startup,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Encode(_) => "encode",
            Self::Directory(_) => "directory_unavailable",
            Self::DirectoryRefused(_) => "directory_refused",
            Self::Notify(_) => "notify_failed",
            Self::Busy(_) => "busy",
            Self::Reply(_) => "reply_undeliverable",
            Self::Startup(_) => "startup",
        }
    }
}

#[cfg(test)]
mod tests {
    use opsline_kafka::ProcessError;

    use super::*;

    #[test]
    fn maps_to_retryable_or_fatal() {
        let fatal: ProcessError = SelfServiceError::InvalidInput("x".into()).into();
        assert!(!fatal.retryable);
        let retry: ProcessError = SelfServiceError::Directory("down".into()).into();
        assert!(retry.retryable);
        assert_eq!(retry.code, "directory_unavailable");
    }
}
