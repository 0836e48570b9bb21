//! Errors of the console and their HTTP mapping: every API error is a JSON body
//! `{"error": code, "reason": text}`; pages show the same text in a styled box.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsline_runtime::http::json_error;

/// Failures of the console.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No token, or an unknown one.
    #[error("missing or unknown API token (send Authorization: Bearer <token>)")]
    Unauthorized,
    /// The token's role may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such record, or not visible to the caller.
    #[error("not found: {0}")]
    NotFound(String),
    /// Bad query, path or body.
    #[error("{0}")]
    BadRequest(String),
    /// The record's state does not allow the action (e.g. acknowledging a resolved incident).
    #[error("{0}")]
    Conflict(String),
    /// The log service or the broker did not answer.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl ConsoleError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::BadRequest(_) => "bad_request",
            Self::Conflict(_) => "conflict",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = json_error(status, self.code(), self.to_string());
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
