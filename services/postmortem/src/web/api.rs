//! The JSON API. Every route needs `Authorization: Bearer <token>` (401 otherwise); what a
//! token sees is decided by the search index's access filter and the same rule for documents
//! read by id, so a document the caller may not read answers 404 exactly like a missing one.
//!
//! - `GET /v1/search?q=&offset=&limit=`: a page of hits with highlighted snippets.
//! - `GET /v1/postmortems/{id}`: the postmortem as JSON, or its Markdown with
//!   `Accept: text/markdown` or `?format=md`. Runbook ids answer the indexed document.
//! - `POST /v1/postmortems/{id}/review`, `/publish`: the review workflow (SREs only, 403 else).
//! - `GET /v1/similar?id=...` or `?q=...` (`&limit=`): similar postmortems and runbooks;
//!   `POST /v1/similar` `{"id"|"q", "limit"}`: the same, compact (for the console).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use opsline_events::ops::PostmortemStatus;
use opsline_search::{Page, SimilarTo};
use serde::Deserialize;

use crate::error::PostmortemError;
use crate::web::WebState;

/// Query of `GET /v1/search`.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    /// The query (see the search crate's query language); empty matches nothing.
    #[serde(default)]
    pub q: String,
    /// Hits to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Hits to return (at most 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

pub(crate) async fn search(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(&headers)?;
    let page = Page {
        offset: params.offset.unwrap_or(0),
        limit: params.limit.unwrap_or(10),
    };
    let results = state.store.index().search(&who.viewer, &params.q, page)?;
    Ok(Json(results).into_response())
}

/// Query of `GET /v1/postmortems/{id}`.
#[derive(Debug, Deserialize)]
pub struct FormatParams {
    /// `md` for Markdown.
    #[serde(default)]
    pub format: Option<String>,
}

fn wants_markdown(headers: &HeaderMap, format: Option<&str>) -> bool {
    format.is_some_and(|f| f.eq_ignore_ascii_case("md") || f.eq_ignore_ascii_case("markdown"))
        || headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/markdown"))
}

fn markdown_response(markdown: String) -> Response {
    let mut response = markdown.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/markdown; charset=utf-8"));
    response
}

pub(crate) async fn get_document(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<FormatParams>,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(&headers)?;
    let markdown = wants_markdown(&headers, params.format.as_deref());
    if let Ok(uuid) = uuid::Uuid::parse_str(&id) {
        if let Some(postmortem) = state.store.visible_postmortem(&who.viewer, uuid) {
            return Ok(if markdown {
                markdown_response(postmortem.markdown)
            } else {
                Json(postmortem).into_response()
            });
        }
    }
    match state.store.index().get(&who.viewer, &id)? {
        Some(doc) if markdown => Ok(markdown_response(doc.body)),
        Some(doc) => Ok(Json(doc).into_response()),
        None => Err(PostmortemError::NotFound(id)),
    }
}

pub(crate) async fn review(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(&headers)?;
    let next = state.transition(&who, &id, PostmortemStatus::Reviewed).await?;
    Ok(Json(next).into_response())
}

pub(crate) async fn publish(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(&headers)?;
    let next = state.transition(&who, &id, PostmortemStatus::Published).await?;
    Ok(Json(next).into_response())
}

/// Query of `GET /v1/similar`.
#[derive(Debug, Deserialize)]
pub struct SimilarParams {
    /// A document id.
    #[serde(default)]
    pub id: Option<String>,
    /// Or free text.
    #[serde(default)]
    pub q: Option<String>,
    /// Results (default 5, at most 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

pub(crate) async fn similar(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(params): Query<SimilarParams>,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(&headers)?;
    let target = match (&params.id, &params.q) {
        (Some(id), None) => SimilarTo::Document(id),
        (None, Some(q)) => SimilarTo::Text(q),
        _ => return Err(PostmortemError::BadRequest("give exactly one of `id` or `q`".into())),
    };
    let hits = state
        .store
        .index()
        .similar(&who.viewer, target, params.limit.unwrap_or(5))
        .map_err(|e| match e {
            opsline_search::SearchError::NotFound(id) => PostmortemError::NotFound(id),
            other => PostmortemError::Search(other),
        })?;
    Ok(Json(hits).into_response())
}

/// Body of `POST /v1/similar`: the compact form for other services (the console's incident page).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarBody {
    /// A document id.
    #[serde(default)]
    pub id: Option<String>,
    /// Or free text.
    #[serde(default)]
    pub q: Option<String>,
    /// Results (default and at most [`COMPACT_LIMIT`]).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Most hits of the compact answer.
pub const COMPACT_LIMIT: usize = 5;
/// Most bytes of the compact answer (so a caller reading a bounded answer gets it whole).
pub const COMPACT_BYTES: usize = 1_000;
const COMPACT_TITLE_CHARS: usize = 60;

/// One hit of the compact answer.
#[derive(Debug, serde::Serialize)]
pub struct CompactHit {
    /// Document id.
    pub id: String,
    /// `postmortem` or `runbook`.
    pub kind: &'static str,
    /// Review status.
    pub status: &'static str,
    /// Title, at most 60 characters.
    pub title: String,
}

/// The compact answer: as many of `hits` as fit in [`COMPACT_BYTES`].
pub fn compact(hits: &[opsline_search::SearchHit]) -> String {
    let mut chosen: Vec<CompactHit> = hits
        .iter()
        .take(COMPACT_LIMIT)
        .map(|h| CompactHit {
            id: h.id.clone(),
            kind: h.kind.as_str(),
            status: h.status.as_str(),
            title: h.title.chars().take(COMPACT_TITLE_CHARS).collect(),
        })
        .collect();
    loop {
        let body = serde_json::json!({ "hits": chosen }).to_string();
        if body.len() <= COMPACT_BYTES || chosen.is_empty() {
            return body;
        }
        chosen.pop();
    }
}

/// `POST /v1/similar`: like `GET /v1/similar`, answered compactly (id, kind, status, title).
pub(crate) async fn similar_compact(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PostmortemError> {
    let who = state.api_principal(&headers)?;
    let request: SimilarBody =
        serde_json::from_slice(&body).map_err(|e| PostmortemError::BadRequest(format!("invalid JSON body: {e}")))?;
    let target = match (&request.id, &request.q) {
        (Some(id), None) => SimilarTo::Document(id),
        (None, Some(q)) => SimilarTo::Text(q),
        _ => return Err(PostmortemError::BadRequest("give exactly one of `id` or `q`".into())),
    };
    let limit = request.limit.unwrap_or(COMPACT_LIMIT).clamp(1, COMPACT_LIMIT);
    let hits = state
        .store
        .index()
        .similar(&who.viewer, target, limit)
        .map_err(|e| match e {
            opsline_search::SearchError::NotFound(id) => PostmortemError::NotFound(id),
            other => PostmortemError::Search(other),
        })?;
    let mut response = compact(&hits).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
