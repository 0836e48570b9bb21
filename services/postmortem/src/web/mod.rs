//! HTTP: the JSON API (`/v1/...`, bearer tokens) and the server-rendered page (`/`,
//! `/postmortems/{id}`, `/login`; token in a cookie).

pub mod api;
pub mod html;
pub mod page;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use opsline_events::ops::{Postmortem, PostmortemStatus};
use opsline_kafka::Producer;

use opsline_auth::{bearer, cookie_token};

use crate::auth::{Principal, TokenStore};
use crate::draft::markdown::restatus;
use crate::error::PostmortemError;
use crate::metrics::{PostmortemMetrics, StatusLabel};
use crate::processor::postmortem_record;
use crate::store::Store;

/// Name of the cookie holding the page's token.
pub use opsline_auth::TOKEN_COOKIE;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct WebState {
    pub(crate) store: Arc<Store>,
    pub(crate) tokens: Arc<TokenStore>,
    pub(crate) producer: Producer,
    pub(crate) postmortems_topic: String,
    pub(crate) metrics: PostmortemMetrics,
    /// Serialises review transitions so two reviewers cannot publish conflicting revisions.
    pub(crate) workflow: Arc<tokio::sync::Mutex<()>>,
}

impl WebState {
    /// The API caller (bearer token), or 401.
    pub(crate) fn api_principal(&self, headers: &HeaderMap) -> Result<Principal, PostmortemError> {
        bearer(headers)
            .and_then(|t| self.tokens.authenticate(t))
            .ok_or(PostmortemError::Unauthorized)
    }

    /// The page visitor (cookie, else bearer token), if signed in.
    pub(crate) fn page_principal(&self, headers: &HeaderMap) -> Option<Principal> {
        cookie_token(headers)
            .or_else(|| bearer(headers))
            .and_then(|t| self.tokens.authenticate(t))
    }

    /// Moves postmortem `id` to `target` (draft -> reviewed -> published) for `who`, publishes
    /// the new revision and waits for the broker's acknowledgement.
    pub(crate) async fn transition(
        &self,
        who: &Principal,
        id: &str,
        target: PostmortemStatus,
    ) -> Result<Postmortem, PostmortemError> {
        if !who.may_review() {
            return Err(PostmortemError::Forbidden(format!(
                "role {:?} may not review or publish postmortems",
                who.viewer.role
            )));
        }
        let uuid = uuid::Uuid::parse_str(id).map_err(|_| PostmortemError::NotFound(id.to_owned()))?;
        let _serial = self.workflow.lock().await;
        let current = self
            .store
            .visible_postmortem(&who.viewer, uuid)
            .ok_or_else(|| PostmortemError::NotFound(id.to_owned()))?;
        let expected = match target {
            PostmortemStatus::Reviewed => PostmortemStatus::Draft,
            PostmortemStatus::Published => PostmortemStatus::Reviewed,
            PostmortemStatus::Draft => {
                return Err(PostmortemError::Conflict("a postmortem cannot go back to draft".into()));
            }
        };
        if current.status != expected {
            return Err(PostmortemError::Conflict(format!(
                "postmortem is {:?}; only a {:?} postmortem can become {:?}",
                current.status, expected, target
            )));
        }
        let mut next = current;
        next.status = target;
        next.revision = next.revision.saturating_add(1);
        if target == PostmortemStatus::Reviewed || next.reviewer.is_none() {
            next.reviewer = Some(who.name.clone());
        }
        next.markdown = restatus(&next.markdown, target, next.reviewer.as_deref());
        let record = postmortem_record(&self.postmortems_topic, next.clone())
            .map_err(|e| PostmortemError::Unavailable(e.to_string()))?;
        self.producer
            .send(&record)
            .await
            .map_err(|e| PostmortemError::Unavailable(e.to_string()))?;
        self.store.apply(next.clone())?;
        self.metrics
            .transitions
            .get_or_create(&StatusLabel {
                status: if target == PostmortemStatus::Published {
                    "published"
                } else {
                    "reviewed"
                },
            })
            .inc();
        Ok(next)
    }
}

/// The service's routes (without the ops routes).
pub(crate) fn router(state: WebState) -> Router {
    Router::new()
        .route("/v1/search", get(api::search))
        .route("/v1/similar", get(api::similar))
        .route("/v1/postmortems/{id}", get(api::get_document))
        .route("/v1/postmortems/{id}/review", post(api::review))
        .route("/v1/postmortems/{id}/publish", post(api::publish))
        .route("/", get(page::home))
        .route("/login", get(page::login_form).post(page::login))
        .route("/logout", post(page::logout))
        .route("/postmortems/{id}", get(page::reading_view))
        .route("/postmortems/{id}/review", post(page::review))
        .route("/postmortems/{id}/publish", post(page::publish))
        .with_state(state)
}
