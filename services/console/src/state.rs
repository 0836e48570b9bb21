//! What every handler reaches, and who is calling: a bearer token (APIs, the terminal) or the
//! `token` cookie of the pages, checked against the configured tokens (`opsline-auth`).

use std::sync::Arc;

use axum::http::HeaderMap;
use opsline_auth::{Principal, TokenStore, bearer, cookie_token};

use crate::actions::Actions;
use crate::error::ConsoleError;
use crate::records::RecordReader;
use crate::views::SharedViews;

/// The handlers' state.
#[derive(Clone)]
pub struct AppState {
    /// The followed views.
    pub views: SharedViews,
    /// The configured tokens.
    pub tokens: Arc<TokenStore>,
    /// Incident actions and re-routes.
    pub actions: Actions,
    /// Estimated helpdesk cost of one ticket handled by a person (the insights' savings).
    pub cost_per_ticket: f64,
    /// Base URL of the postmortem pages (empty: no links).
    pub postmortem_url: String,
    /// Reads cited raw-log records back for the record view.
    pub records: RecordReader,
}

impl AppState {
    /// The API caller (bearer token), or `401`.
    pub fn api_principal(&self, headers: &HeaderMap) -> Result<Principal, ConsoleError> {
        bearer(headers)
            .and_then(|t| self.tokens.authenticate(t))
            .ok_or(ConsoleError::Unauthorized)
    }

    /// The token the caller presented (cookie, else bearer), to call the postmortem service
    /// on its behalf (so that service applies the caller's own role and teams).
    pub fn presented_token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        cookie_token(headers).or_else(|| bearer(headers))
    }

    /// The page visitor (cookie, else bearer token), if signed in.
    pub fn page_principal(&self, headers: &HeaderMap) -> Option<Principal> {
        cookie_token(headers)
            .or_else(|| bearer(headers))
            .and_then(|t| self.tokens.authenticate(t))
    }
}
