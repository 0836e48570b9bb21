//! Errors of the postmortem service and their HTTP mapping: every API error is a JSON body
//! `{"error": code, "reason": text}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsline_runtime::http::json_error;

use crate::review::document::OpenPrompt;

fn prompt_list(prompts: &[OpenPrompt]) -> String {
    let named: Vec<String> = prompts.iter().map(|p| format!("{} ({})", p.heading, p.text)).collect();
    named.join("; ")
}

/// Failures of the postmortem service.
#[derive(Debug, thiserror::Error)]
pub enum PostmortemError {
    /// No token, or an unknown one.
    #[error("missing or unknown API token (send Authorization: Bearer <token>)")]
    Unauthorized,
    /// The token's role may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such document, or not visible to the caller.
    #[error("not found: {0}")]
    NotFound(String),
    /// Bad query or path parameters.
    #[error("{0}")]
    BadRequest(String),
    /// The workflow does not allow this transition.
    #[error("{0}")]
    Conflict(String),
    /// "Reviewed" was asked for while reviewer prompts are neither answered nor waived.
    #[error("{} reviewer prompt(s) neither answered nor waived: {}", .0.len(), prompt_list(.0))]
    OpenPrompts(Vec<OpenPrompt>),
    /// Kafka did not acknowledge in time.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    /// The search index failed.
    #[error("search index error: {0}")]
    Search(#[from] opsline_search::SearchError),
}

impl PostmortemError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::BadRequest(_) => "bad_request",
            Self::Conflict(_) => "conflict",
            Self::OpenPrompts(_) => "open_prompts",
            Self::Unavailable(_) => "unavailable",
            Self::Search(opsline_search::SearchError::Query(_)) => "bad_query",
            Self::Search(_) => "search_error",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) | Self::Search(opsline_search::SearchError::Query(_)) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::OpenPrompts(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Search(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PostmortemError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::OpenPrompts(prompts) = &self {
            let body = serde_json::json!({
                "error": self.code(),
                "reason": self.to_string(),
                "open_prompts": prompts,
            });
            return (status, axum::Json(body)).into_response();
        }
        let mut response = json_error(status, self.code(), self.to_string());
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
