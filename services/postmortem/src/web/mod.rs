//! HTTP: the JSON API (`/v1/...`, bearer tokens; the review tools in [`edit_api`]) and the
//! server-rendered pages (`/`, `/postmortems/{id}` with the review tools of [`editor`],
//! `/runbooks/{file}`, `/login`, `/logout`; a session cookie holding a random id, and a CSRF
//! token in every form, from `opsline-auth`).

pub mod api;
pub mod edit_api;
pub mod editor;
pub mod html;
pub mod links;
pub mod page;
pub mod render;
pub mod runbooks;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, patch, post, put};
use opsline_events::ops::{Postmortem, PostmortemStatus};
use opsline_kafka::Producer;

use opsline_auth::{SessionStore, bearer};

use crate::auth::{Principal, TokenStore};
use crate::draft::markdown::restatus;
use crate::error::PostmortemError;
use crate::metrics::{PostmortemMetrics, StatusLabel};
use crate::processor::postmortem_record;
use crate::review::document::Outline;
use crate::review::{Edit, apply, record_transition};
use crate::store::Store;

/// Name of the cookie holding a page visitor's session id.
pub use opsline_auth::POSTMORTEM_SESSION_COOKIE as SESSION_COOKIE;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct WebState {
    pub(crate) store: Arc<Store>,
    pub(crate) tokens: Arc<TokenStore>,
    /// The page sessions (signed-in visitors).
    pub(crate) sessions: Arc<SessionStore>,
    pub(crate) producer: Producer,
    pub(crate) postmortems_topic: String,
    pub(crate) metrics: PostmortemMetrics,
    /// Serialises review transitions and edits so two people cannot publish conflicting revisions.
    pub(crate) workflow: Arc<tokio::sync::Mutex<()>>,
    /// What the page turns into links: the raw-log topic, the console, the runbooks.
    pub(crate) links: Arc<links::LinkTargets>,
}

impl WebState {
    /// The API caller (bearer token), or 401.
    pub(crate) fn api_principal(&self, headers: &HeaderMap) -> Result<Principal, PostmortemError> {
        bearer(headers)
            .and_then(|t| self.tokens.authenticate(t))
            .ok_or(PostmortemError::Unauthorized)
    }

    /// The page visitor: a bearer token when one is sent (then the session cookie is not
    /// used, which is what exempts such requests from the CSRF check), else the session.
    pub(crate) fn page_principal(&self, headers: &HeaderMap) -> Option<Principal> {
        match bearer(headers) {
            Some(token) => self.tokens.authenticate(token),
            None => self.sessions.get(headers).map(|s| s.principal),
        }
    }

    /// Publishes `next` (a new revision) on the postmortems topic, waits for the broker's
    /// acknowledgement, then makes it the current revision of the read model and the index.
    async fn publish_revision(&self, next: &Postmortem) -> Result<(), PostmortemError> {
        let record = postmortem_record(&self.postmortems_topic, next.clone())
            .map_err(|e| PostmortemError::Unavailable(e.to_string()))?;
        let delivered = self
            .producer
            .send(&record)
            .await
            .map_err(|e| PostmortemError::Unavailable(e.to_string()))?;
        self.store.apply_at(next.clone(), Some(delivered.offset))?;
        Ok(())
    }

    /// Makes `edit` to postmortem `id` for `who` (see [`crate::review`]): the next revision,
    /// published and acknowledged before this returns. `base` is the revision the caller saw
    /// (a form's hidden field): when another change came in since, nothing is changed (409).
    pub(crate) async fn change(
        &self,
        who: &Principal,
        id: &str,
        edit: Edit,
        base: Option<u32>,
    ) -> Result<Postmortem, PostmortemError> {
        edit.allowed(who)?;
        let uuid = uuid::Uuid::parse_str(id).map_err(|_| PostmortemError::NotFound(id.to_owned()))?;
        let _serial = self.workflow.lock().await;
        let current = self
            .store
            .visible_postmortem(&who.viewer, uuid)
            .ok_or_else(|| PostmortemError::NotFound(id.to_owned()))?;
        if let Some(base) = base.filter(|b| *b != current.revision) {
            return Err(PostmortemError::Conflict(format!(
                "the postmortem changed since revision {base} (it is at revision {}): reload it and make the change again",
                current.revision
            )));
        }
        let next = apply(&current, who, edit, jiff::Timestamp::now())?;
        self.publish_revision(&next).await?;
        Ok(next)
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
            let name = crate::draft::markdown::status_name;
            return Err(PostmortemError::Conflict(if current.status == target {
                format!("the postmortem is already {}", name(target))
            } else {
                format!(
                    "the postmortem is {}; only a {} postmortem can become {}",
                    name(current.status),
                    name(expected),
                    name(target)
                )
            }));
        }
        if target == PostmortemStatus::Reviewed {
            let open = Outline::parse(&current.markdown).open_prompts();
            if !open.is_empty() {
                return Err(PostmortemError::OpenPrompts(open));
            }
        }
        let mut next = current;
        next.status = target;
        next.revision = next.revision.saturating_add(1);
        if target == PostmortemStatus::Reviewed || next.reviewer.is_none() {
            next.reviewer = Some(who.name.clone());
        }
        next.markdown = restatus(&next.markdown, target, next.reviewer.as_deref());
        let what = if target == PostmortemStatus::Reviewed {
            "marked reviewed"
        } else {
            "published"
        };
        record_transition(&mut next, who, what, jiff::Timestamp::now());
        self.publish_revision(&next).await?;
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
        .route("/v1/similar", get(api::similar).post(api::similar_compact))
        .route("/v1/postmortems/{id}", get(api::get_document))
        .route("/v1/postmortems/{id}/review", post(api::review))
        .route("/v1/postmortems/{id}/publish", post(api::publish))
        .route("/v1/postmortems/{id}/outline", get(edit_api::outline))
        .route("/v1/postmortems/{id}/sections/{section}", put(edit_api::put_section))
        .route("/v1/postmortems/{id}/prompts/{prompt}/{verb}", post(edit_api::prompt))
        .route("/v1/postmortems/{id}/comments", post(edit_api::add_comment))
        .route("/v1/postmortems/{id}/actions", post(edit_api::add_action))
        .route("/v1/postmortems/{id}/actions/{number}", patch(edit_api::update_action))
        .route("/", get(page::home))
        .route("/login", get(page::login_form).post(page::login))
        .route("/logout", post(page::logout))
        .route("/postmortems/{id}", get(page::reading_view))
        .route("/postmortems/{id}/review", post(page::review))
        .route("/postmortems/{id}/publish", post(page::publish))
        .route("/postmortems/{id}/sections/{section}", post(editor::section))
        .route("/postmortems/{id}/prompts/{prompt}/{verb}", post(editor::prompt))
        .route("/postmortems/{id}/comments", post(editor::comment))
        .route("/postmortems/{id}/actions", post(editor::add_action))
        .route("/postmortems/{id}/actions/{number}", post(editor::update_action))
        .route("/runbooks/{file}", get(runbooks::page))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.sessions,
            opsline_auth::csrf::guard,
        ))
}
