//! The service's errors, classified for the consumer loop through [`Classify`]: a record
//! that is not an incident is dead-lettered at once; start-up failures are `StartupError`s.
//! Delivery failures are not errors of the record: each target's are dead-lettered by
//! [`crate::delivery`] with their own code.

use opsline_runtime::{Classify, ErrorKind};

/// What can go wrong while the notify service reads an incident revision.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The input record is not an incident envelope.
    #[error("invalid incident record: {0}")]
    InvalidInput(String),
}

impl Classify for NotifyError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) => ErrorKind::BadRecord,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
        }
    }
}
