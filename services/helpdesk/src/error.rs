//! The service's one error enum, classified for the consumer loop through [`Classify`]: a
//! helpdesk that is down, overloaded (429) or slow is retried, then the routed revision is
//! dead-lettered; a refusal that retrying cannot change (401/403, 404, another 4xx, a bad
//! record) is dead-lettered at once with its reason. Messages never quote a URL or a secret.

use opsline_runtime::outbound::{OutboundError, OutboundResponse};
use opsline_runtime::{Classify, ErrorKind};

/// What can go wrong while a routed ticket is written back, or RT is polled.
#[derive(Debug, thiserror::Error)]
pub enum HelpdeskError {
    /// The routed-ticket record cannot be read.
    #[error("invalid routed-ticket record: {0}")]
    InvalidInput(String),
    /// The helpdesk is unreachable, answered 5xx or 429, or too slow.
    #[error("helpdesk unavailable: {0}")]
    Unavailable(String),
    /// The helpdesk refused the credentials (401/403).
    #[error("helpdesk refused the credentials ({0})")]
    Unauthorized(u16),
    /// The ticket does not exist in the helpdesk (404).
    #[error("ticket not found in the helpdesk: {0}")]
    NotFound(String),
    /// The helpdesk refused the request for good (another 4xx), with its answer.
    #[error("helpdesk refused the request ({status}): {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The start of the helpdesk's answer.
        detail: String,
    },
    /// The helpdesk's answer is not what its API documents.
    #[error("unexpected helpdesk answer: {0}")]
    BadAnswer(String),
    /// An output record could not be encoded or produced.
    #[error("cannot produce: {0}")]
    Produce(String),
}

impl HelpdeskError {
    /// The error of a non-2xx answer (`what` names the call, not its URL).
    pub fn from_status(what: &str, response: &OutboundResponse) -> Self {
        let status = response.status.as_u16();
        let detail: String = response.body_snippet.chars().take(300).collect();
        match status {
            401 | 403 => Self::Unauthorized(status),
            404 => Self::NotFound(what.to_owned()),
            429 | 500..=599 => Self::Unavailable(format!("{what}: status {status}")),
            _ => Self::Refused { status, detail },
        }
    }
}

impl From<OutboundError> for HelpdeskError {
    fn from(error: OutboundError) -> Self {
        if error.is_retryable() {
            Self::Unavailable(error.to_string())
        } else {
            Self::Refused {
                status: 0,
                detail: error.to_string(),
            }
        }
    }
}

impl Classify for HelpdeskError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Unavailable(_) | Self::Produce(_) => ErrorKind::Unavailable,
            _ => ErrorKind::BadRecord,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Unavailable(_) => "helpdesk_unavailable",
            Self::Unauthorized(_) => "helpdesk_unauthorized",
            Self::NotFound(_) => "helpdesk_not_found",
            Self::Refused { .. } => "helpdesk_refused",
            Self::BadAnswer(_) => "helpdesk_bad_answer",
            Self::Produce(_) => "produce",
        }
    }
}

#[cfg(test)]
mod tests {
    use opsline_kafka::ProcessError;

    use super::*;

    fn answer(status: u16) -> OutboundResponse {
        OutboundResponse {
            status: status.try_into().unwrap_or_default(),
            body_snippet: "no".into(),
            retry_after: None,
        }
    }

    #[test]
    fn statuses_map_to_retry_or_dead_letter() {
        let cases = [
            (401, false, "helpdesk_unauthorized"),
            (403, false, "helpdesk_unauthorized"),
            (404, false, "helpdesk_not_found"),
            (400, false, "helpdesk_refused"),
            (429, true, "helpdesk_unavailable"),
            (503, true, "helpdesk_unavailable"),
        ];
        for (status, retryable, code) in cases {
            let error: ProcessError = HelpdeskError::from_status("update ticket", &answer(status)).into();
            assert_eq!((error.retryable, error.code.as_str()), (retryable, code), "{status}");
        }
    }
}
