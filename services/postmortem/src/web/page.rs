//! The server-rendered page (no JavaScript): `/` search form and results with highlighted
//! snippets, `/postmortems/{id}` reading view with "Mark reviewed" / "Publish" buttons for
//! SREs, and `/login`. The sign-in form (`POST`; a token is never read from a URL) starts a
//! session: the browser keeps only its random id, in a `Secure; HttpOnly; SameSite=Strict`
//! `__Host-` cookie. Everything shown is HTML-escaped.

use axum::Form;
use axum::extract::{Path, Query, State};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use opsline_events::ops::PostmortemStatus;
use opsline_search::{Page, SearchResults};
use serde::Deserialize;

use crate::auth::cookie_safe;
use crate::web::WebState;
use crate::web::html::{denied, encode_component, escape, layout, login_body, redirect};
use crate::web::links::LinkContext;
use crate::web::render::markdown_html;

/// Results per page.
const PAGE_SIZE: usize = 10;

/// Query of the page routes.
#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    /// Search query.
    #[serde(default)]
    pub q: Option<String>,
    /// Hits to skip.
    #[serde(default)]
    pub offset: Option<usize>,
}

/// Body of `POST /login`.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The API token.
    pub token: String,
}

fn results_html(query: &str, results: &SearchResults) -> String {
    let mut out = format!(
        "<p class=\"total\">{} result{} for <q>{}</q></p>\n<ol class=\"results\" start=\"{}\">\n",
        results.total,
        if results.total == 1 { "" } else { "s" },
        escape(query),
        results.offset + 1
    );
    for hit in &results.hits {
        out.push_str(&format!(
            "<li class=\"hit\" data-id=\"{id_attr}\"><a href=\"/postmortems/{href}\">{title}</a> \
<span class=\"meta\">{kind} · {status}{service}</span><div class=\"snippet\">{snippet}</div></li>\n",
            id_attr = escape(&hit.id),
            href = encode_component(&hit.id),
            title = escape(&hit.title),
            kind = escape(hit.kind.as_str()),
            status = escape(hit.status.as_str()),
            service = hit
                .service
                .as_deref()
                .map(|s| format!(" · {}", escape(s)))
                .unwrap_or_default(),
            // Built by the search crate from escaped text; only <b> highlights are markup.
            snippet = hit.snippet_html,
        ));
    }
    out.push_str("</ol>\n");
    let q = encode_component(query);
    if results.offset > 0 {
        out.push_str(&format!(
            "<a rel=\"prev\" href=\"/?q={q}&offset={}\">Previous</a> ",
            results.offset.saturating_sub(PAGE_SIZE)
        ));
    }
    if results.offset + results.hits.len() < results.total {
        out.push_str(&format!(
            "<a rel=\"next\" href=\"/?q={q}&offset={}\">Next</a>",
            results.offset + PAGE_SIZE
        ));
    }
    out
}

pub(crate) async fn home(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(params): Query<PageParams>,
) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return denied(StatusCode::UNAUTHORIZED, "Sign in with your API token.");
    };
    let query = params.q.unwrap_or_default();
    let mut body = format!(
        "<form method=\"get\" action=\"/\" role=\"search\"><input type=\"text\" name=\"q\" value=\"{}\" \
placeholder=\"service:hdfs receiveBlock\" autofocus> <button type=\"submit\">Search</button></form>\n",
        escape(&query)
    );
    if !query.trim().is_empty() {
        let page = Page {
            offset: params.offset.unwrap_or(0),
            limit: PAGE_SIZE,
        };
        match state.store.index().search(&who.viewer, &query, page) {
            Ok(results) => body.push_str(&results_html(&query, &results)),
            Err(error) => body.push_str(&format!("<p class=\"error\">{}</p>", escape(&error.to_string()))),
        }
    }
    Html(layout("Search", Some(&who.name), &body)).into_response()
}

pub(crate) async fn login_form() -> Response {
    Html(layout("Sign in", None, &login_body())).into_response()
}

pub(crate) async fn login(State(state): State<WebState>, Form(form): Form<LoginForm>) -> Response {
    let token = form.token.trim();
    let Some(principal) = cookie_safe(token).then(|| state.tokens.authenticate(token)).flatten() else {
        return denied(StatusCode::UNAUTHORIZED, "Unknown token.");
    };
    match state.sessions.create(principal, token) {
        Ok((id, _)) => redirect("/", Some(state.sessions.set_cookie(&id))),
        Err(error) => {
            tracing::error!(%error, "no randomness for a session id");
            denied(StatusCode::SERVICE_UNAVAILABLE, "Cannot start a session now.")
        }
    }
}

/// Signs out: the session is deleted on the server and its cookie removed.
pub(crate) async fn logout(State(state): State<WebState>, headers: HeaderMap) -> Response {
    state.sessions.remove(&headers);
    redirect("/login", Some(state.sessions.clear_cookie()))
}

pub(crate) async fn reading_view(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return denied(StatusCode::UNAUTHORIZED, "Sign in with your API token.");
    };
    let postmortem = uuid::Uuid::parse_str(&id)
        .ok()
        .and_then(|uuid| state.store.visible_postmortem(&who.viewer, uuid));
    if let Some(pm) = postmortem {
        let body = crate::web::editor::postmortem_body(&state, &who, &pm);
        return Html(layout(&pm.title, Some(&who.name), &body)).into_response();
    }
    // A runbook found by search: its file rendered as Markdown when there is one.
    if let Some((title, html)) = id
        .strip_prefix("path:")
        .and_then(|file| crate::web::runbooks::rendered(&state, &who.viewer, file))
    {
        let body = format!("<article class=\"runbook\">{html}</article>");
        return Html(layout(&title, Some(&who.name), &body)).into_response();
    }
    match state.store.index().get(&who.viewer, &id) {
        Ok(Some(doc)) => {
            let body = format!(
                "<article>{}</article><p><a href=\"/v1/postmortems/{}?format=md\">Markdown</a></p>",
                markdown_html(&doc.body, &LinkContext::default()),
                encode_component(&id)
            );
            Html(layout(&doc.title, Some(&who.name), &body)).into_response()
        }
        _ => {
            let body =
                "<p class=\"error\">No such document, or you may not read it.</p><p><a href=\"/\">Search</a></p>";
            (StatusCode::NOT_FOUND, Html(layout("Not found", Some(&who.name), body))).into_response()
        }
    }
}

async fn page_transition(state: WebState, headers: HeaderMap, id: String, target: PostmortemStatus) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return denied(StatusCode::UNAUTHORIZED, "Sign in with your API token.");
    };
    match state.transition(&who, &id, target).await {
        Ok(_) => redirect(&format!("/postmortems/{}", encode_component(&id)), None),
        Err(error) => crate::web::editor::refused(&who, &id, &error),
    }
}

pub(crate) async fn review(State(state): State<WebState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    page_transition(state, headers, id, PostmortemStatus::Reviewed).await
}

pub(crate) async fn publish(State(state): State<WebState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    page_transition(state, headers, id, PostmortemStatus::Published).await
}
