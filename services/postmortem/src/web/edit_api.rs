//! The JSON API of the review tools (bearer tokens, the same roles as the page). Every change
//! answers the postmortem's outline after it, once the new revision is acknowledged by the
//! broker; `base_revision` (optional) refuses the change with 409 when the postmortem moved on.
//!
//! - `GET /v1/postmortems/{id}/outline`: status, revision, sections, open prompts, action
//!   items, comments and history.
//! - `PUT /v1/postmortems/{id}/sections/{section}` `{"markdown"}`.
//! - `POST /v1/postmortems/{id}/prompts/{prompt}/answer` `{"answer"}`, `/waive` `{"reason"}`.
//! - `POST /v1/postmortems/{id}/comments` `{"text"}`.
//! - `POST /v1/postmortems/{id}/actions` `{"title", "owner", "priority", "due"}`.
//! - `PATCH /v1/postmortems/{id}/actions/{number}` `{"title"?, "owner"?, "priority"?, "due"?, "status"?}`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opsline_events::ops::Postmortem;
use serde::Serialize;

use crate::error::PostmortemError;
use crate::review::document::{OpenPrompt, Outline, section_kind, slug};
use crate::review::record::{ActionItem, Change, Comment, ReviewRecord};
use crate::review::{ActionUpdate, Edit};
use crate::web::WebState;
use crate::web::editor::{ChangeFields, editable_names};

/// One editable section of the outline.
#[derive(Debug, Serialize)]
pub struct SectionView {
    /// Slug for the URL (`root-causes`).
    pub section: String,
    /// Heading (`Root causes`).
    pub heading: String,
    /// Its Markdown.
    pub markdown: String,
}

/// `GET /v1/postmortems/{id}/outline` and the answer of every change.
#[derive(Debug, Serialize)]
pub struct OutlineView {
    /// The postmortem id.
    pub id: String,
    /// `draft`, `reviewed` or `published`.
    pub status: &'static str,
    /// The current revision.
    pub revision: u32,
    /// The editable sections, in order.
    pub sections: Vec<SectionView>,
    /// Reviewer prompts neither answered nor waived.
    pub open_prompts: Vec<OpenPrompt>,
    /// Tracked action items.
    pub action_items: Vec<ActionItem>,
    /// Comments.
    pub comments: Vec<Comment>,
    /// Changes by people.
    pub history: Vec<Change>,
}

impl OutlineView {
    fn of(pm: &Postmortem) -> Self {
        let outline = Outline::parse(&pm.markdown);
        let record = ReviewRecord::read(&outline);
        Self {
            id: pm.postmortem_id.to_string(),
            status: crate::draft::markdown::status_name(pm.status),
            revision: pm.revision,
            sections: crate::draft::SectionKind::ALL
                .into_iter()
                .filter_map(|k| {
                    outline.text(k.heading()).map(|text| SectionView {
                        section: slug(k),
                        heading: k.heading().to_owned(),
                        markdown: text.to_owned(),
                    })
                })
                .collect(),
            open_prompts: outline.open_prompts(),
            action_items: record.action_items,
            comments: record.comments,
            history: record.history,
        }
    }
}

fn body(json: Result<Json<ChangeFields>, JsonRejection>) -> Result<ChangeFields, PostmortemError> {
    json.map(|Json(b)| b)
        .map_err(|e| PostmortemError::BadRequest(format!("invalid JSON body: {}", e.body_text())))
}

fn need(value: Option<String>, name: &str) -> Result<String, PostmortemError> {
    value.ok_or_else(|| PostmortemError::BadRequest(format!("`{name}` is required")))
}

async fn run(
    state: &WebState,
    headers: &HeaderMap,
    id: &str,
    base: Option<u32>,
    edit: impl FnOnce() -> Result<Edit, PostmortemError>,
    created: bool,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(headers)?;
    let next = state.change(&who, id, edit()?, base).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(OutlineView::of(&next))).into_response())
}

pub(crate) async fn outline(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(&headers)?;
    let pm = uuid::Uuid::parse_str(&id)
        .ok()
        .and_then(|uuid| state.store.visible_postmortem(&who.viewer, uuid))
        .ok_or(PostmortemError::NotFound(id))?;
    Ok(Json(OutlineView::of(&pm)).into_response())
}

pub(crate) async fn put_section(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
    json: Result<Json<ChangeFields>, JsonRejection>,
) -> Result<Response, PostmortemError> {
    state.api_principal(&headers)?;
    let b = body(json)?;
    let base = b.base_revision;
    run(
        &state,
        &headers,
        &id,
        base,
        move || {
            Ok(Edit::Section {
                kind: section_kind(&name).ok_or_else(|| {
                    PostmortemError::NotFound(format!("section {name:?} (editable: {})", editable_names()))
                })?,
                text: need(b.markdown, "markdown")?,
            })
        },
        false,
    )
    .await
}

pub(crate) async fn prompt(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, prompt, verb)): Path<(String, String, String)>,
    json: Result<Json<ChangeFields>, JsonRejection>,
) -> Result<Response, PostmortemError> {
    state.api_principal(&headers)?;
    let b = body(json)?;
    let base = b.base_revision;
    run(
        &state,
        &headers,
        &id,
        base,
        move || match verb.as_str() {
            "answer" => Ok(Edit::Answer {
                prompt,
                answer: need(b.answer, "answer")?,
            }),
            "waive" => Ok(Edit::Waive {
                prompt,
                reason: need(b.reason, "reason")?,
            }),
            other => Err(PostmortemError::NotFound(format!(
                "prompt action {other:?} (answer or waive)"
            ))),
        },
        false,
    )
    .await
}

pub(crate) async fn add_comment(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    json: Result<Json<ChangeFields>, JsonRejection>,
) -> Result<Response, PostmortemError> {
    state.api_principal(&headers)?;
    let b = body(json)?;
    let base = b.base_revision;
    run(
        &state,
        &headers,
        &id,
        base,
        move || {
            Ok(Edit::Comment {
                text: need(b.text, "text")?,
            })
        },
        true,
    )
    .await
}

pub(crate) async fn add_action(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    json: Result<Json<ChangeFields>, JsonRejection>,
) -> Result<Response, PostmortemError> {
    state.api_principal(&headers)?;
    let b = body(json)?;
    let base = b.base_revision;
    run(
        &state,
        &headers,
        &id,
        base,
        move || {
            Ok(Edit::AddAction {
                title: need(b.title, "title")?,
                owner: need(b.owner, "owner")?,
                priority: need(b.priority, "priority")?,
                due: b.due.unwrap_or_default(),
            })
        },
        true,
    )
    .await
}

pub(crate) async fn update_action(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, number)): Path<(String, String)>,
    json: Result<Json<ChangeFields>, JsonRejection>,
) -> Result<Response, PostmortemError> {
    state.api_principal(&headers)?;
    let b = body(json)?;
    let base = b.base_revision;
    run(
        &state,
        &headers,
        &id,
        base,
        move || {
            Ok(Edit::UpdateAction {
                number: number
                    .trim_start_matches(['A', 'a'])
                    .parse()
                    .map_err(|_| PostmortemError::NotFound(format!("action item {number}")))?,
                update: ActionUpdate {
                    title: b.title,
                    owner: b.owner,
                    priority: b.priority,
                    due: b.due,
                    status: b.status,
                },
            })
        },
        false,
    )
    .await
}
