//! Gateway errors and their HTTP mapping: every error is a JSON body `{"error": code, "reason": text}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use opsline_runtime::http::json_error;

/// Request-level failures of the gateway.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Body larger than `max_body_bytes`.
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body could not be read.
    #[error("cannot read request body: {0}")]
    BodyRead(String),
    /// Unsupported or missing content type.
    #[error("unsupported content type {found:?}; use {expected}")]
    UnsupportedMediaType {
        /// What the client sent.
        found: String,
        /// What this endpoint takes.
        expected: &'static str,
    },
    /// A `Content-Encoding` the gateway does not decode.
    #[error("unsupported content encoding {0:?}; send the body uncompressed or with gzip")]
    UnsupportedEncoding(String),
    /// Bad query parameters or an empty body.
    #[error("{0}")]
    BadRequest(String),
    /// No ingest key reached the handler (the guard refuses such requests first).
    #[error("send `Authorization: Bearer <key>` with an ingest key")]
    Unauthorized,
    /// Kafka is not reachable or did not acknowledge in time.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
}

impl GatewayError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::BodyRead(_) => "body_unreadable",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::UnsupportedEncoding(_) => "unsupported_encoding",
            Self::BadRequest(_) => "bad_request",
            Self::Unavailable(_) => "unavailable",
            Self::Unauthorized => "unauthorized",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyRead(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType { .. } | Self::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        json_error(self.status(), self.code(), self.to_string())
    }
}
