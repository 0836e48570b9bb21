//! What every handler reaches, and who is calling: a bearer token (APIs, the terminal) checked
//! against the configured tokens, or the session cookie of the pages (`opsline-auth`).

use std::sync::Arc;

use axum::http::HeaderMap;
use opsline_auth::{Principal, SessionStore, TokenStore, bearer};

use crate::actions::Actions;
use crate::error::ConsoleError;
use crate::records::RecordReader;
use crate::views::SharedViews;
use crate::volume::LineSource;

/// The handlers' state.
#[derive(Clone)]
pub struct AppState {
    /// The followed views.
    pub views: SharedViews,
    /// The configured tokens.
    pub tokens: Arc<TokenStore>,
    /// The page sessions (signed-in visitors).
    pub sessions: Arc<SessionStore>,
    /// Incident actions and re-routes.
    pub actions: Actions,
    /// Estimated helpdesk cost of one ticket handled by a person (the insights' savings).
    pub cost_per_ticket: f64,
    /// Base URL of the postmortem pages (empty: no links).
    pub postmortem_url: String,
    /// Reads cited raw-log records back for the record view.
    pub records: RecordReader,
    /// Log lines received per service over time (the log service's counts).
    pub lines: LineSource,
}

impl AppState {
    /// The API caller (bearer token), or `401`.
    pub fn api_principal(&self, headers: &HeaderMap) -> Result<Principal, ConsoleError> {
        bearer(headers)
            .and_then(|t| self.tokens.authenticate(t))
            .ok_or(ConsoleError::Unauthorized)
    }

    /// The caller's token (bearer, else the one its page session was opened with), to call
    /// the postmortem service on its behalf (so that service applies the caller's own role
    /// and teams).
    pub fn presented_token(&self, headers: &HeaderMap) -> Option<String> {
        match bearer(headers) {
            Some(token) => Some(token.to_owned()),
            None => self.sessions.get(headers).map(|s| s.token().to_owned()),
        }
    }

    /// The page visitor: a bearer token when one is sent (then the session cookie is not
    /// used, which is what exempts such requests from the CSRF check), else the session.
    pub fn page_principal(&self, headers: &HeaderMap) -> Option<Principal> {
        match bearer(headers) {
            Some(token) => self.tokens.authenticate(token),
            None => self.sessions.get(headers).map(|s| s.principal),
        }
    }
}
