//! The runbook page, `/runbooks/{file}`: the runbook's Markdown file rendered as Markdown
//! (headings, code blocks, tables, a literal `<*>`), for the links on postmortems and the
//! search results. The search index keeps runbooks as plain text, so the page reads the file
//! from `runbooks_dir`; who may read it is the index's rule for the runbook's document.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::web::WebState;
use crate::web::html::{denied, escape, layout};
use crate::web::links::LinkContext;
use crate::web::render::{markdown_html, without_front_matter};

/// Whether `file` is a plain Markdown file name (no folder, no hidden file).
pub fn is_runbook_name(file: &str) -> bool {
    file.ends_with(".md")
        && file.len() > 3
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The rendered runbook `file` for the page, if it exists and `who` may read it: (title, HTML).
pub(crate) fn rendered(state: &WebState, viewer: &opsline_search::Viewer, file: &str) -> Option<(String, String)> {
    if !is_runbook_name(file) {
        return None;
    }
    let doc = state
        .store
        .index()
        .get(viewer, &format!("path:{file}"))
        .ok()
        .flatten()?;
    let dir = state.links.runbooks_dir.as_ref()?;
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    let html = markdown_html(without_front_matter(&text), &LinkContext::default());
    Some((doc.title, html))
}

/// `GET /runbooks/{file}`.
pub(crate) async fn page(State(state): State<WebState>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return denied(StatusCode::UNAUTHORIZED, "Sign in with your API token.");
    };
    match rendered(&state, &who.viewer, &file) {
        Some((title, html)) => {
            let body = format!(
                "<p class=\"meta\">runbook <code>runbooks/{}</code></p><article class=\"runbook\">{html}</article>",
                escape(&file)
            );
            Html(layout(&title, Some(&who.name), &body)).into_response()
        }
        None => {
            let body = format!(
                "<p class=\"error\">No runbook <code>{}</code>, or you may not read it.</p><p><a href=\"/\">Search</a></p>",
                escape(&file)
            );
            (StatusCode::NOT_FOUND, Html(layout("Not found", Some(&who.name), &body))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_markdown_names() {
        assert!(is_runbook_name("alert-error-surge.md"));
        assert!(!is_runbook_name("../secrets.md"));
        assert!(!is_runbook_name("a/b.md"));
        assert!(!is_runbook_name(".hidden.md"));
        assert!(!is_runbook_name("x.txt"));
        assert!(!is_runbook_name(".md"));
    }
}
