//! CSRF protection of the page forms (synchronizer token), one axum middleware for every
//! service with pages ([`guard`]):
//!
//! - every `<form method="post">` of an HTML page served to a signed-in visitor gets a hidden
//!   `csrf` field holding the session's token ([`add_csrf_fields`]), so no form can forget it;
//! - every state-changing request (not `GET`/`HEAD`/`OPTIONS`) made with a session cookie must
//!   carry that token, as the `csrf` form field or an `X-CSRF-Token` header, else `403` with
//!   the reason; the field is removed before the handler reads the form.
//!
//! Exempt: requests with an `Authorization: Bearer` header (API calls carry no ambient
//! credential a third-party page could borrow; the handlers then use the bearer token, not
//! the cookie), `POST /login` (no session yet), and requests without a live session (the
//! handler answers `401`).

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};

use crate::request::bearer;
use crate::sessions::{Session, SessionStore};

/// Name of the hidden form field (and of the header, `X-CSRF-Token`) carrying the token.
pub const CSRF_FIELD: &str = "csrf";
/// Header alternative to the form field.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Largest form body read to find the token.
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;
/// Largest page rewritten to add the hidden fields.
const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;

/// The middleware: checks the token of state-changing requests, adds it to the pages' forms.
/// Install with `axum::middleware::from_fn_with_state(sessions, opsline_auth::csrf::guard)`.
pub async fn guard(State(store): State<Arc<SessionStore>>, request: Request, next: Next) -> Response {
    let has_bearer = bearer(request.headers()).is_some();
    let session = if has_bearer { None } else { store.get(request.headers()) };
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let request = match (&session, safe || request.uri().path() == "/login") {
        (Some(session), false) => match checked(session, request).await {
            Ok(request) => request,
            Err(response) => return *response,
        },
        _ => request,
    };
    let response = next.run(request).await;
    match session {
        Some(session) if is_html(response.headers()) => with_fields(response, &session.csrf).await,
        _ => response,
    }
}

fn is_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The request with the `csrf` field removed, or the `403` when the token is missing or wrong.
async fn checked(session: &Session, request: Request) -> Result<Request, Box<Response>> {
    let wants_json = !request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if let Some(presented) = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if session.csrf_matches(presented) {
            Ok(request)
        } else {
            Err(Box::new(refused("wrong CSRF token", wants_json)))
        };
    }
    if wants_json {
        return Err(Box::new(refused("missing CSRF token (X-CSRF-Token header)", true)));
    }
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return Err(Box::new(
            (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response(),
        ));
    };
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return Err(Box::new(refused("unreadable form, so no CSRF token", false)));
    };
    let (tokens, kept): (Vec<_>, Vec<_>) = fields.into_iter().partition(|(k, _)| k == CSRF_FIELD);
    match tokens.as_slice() {
        [] => return Err(Box::new(refused("missing CSRF token", false))),
        [(_, token)] if session.csrf_matches(token) => {}
        _ => return Err(Box::new(refused("wrong CSRF token", false))),
    }
    let Ok(body) = serde_urlencoded::to_string(&kept) else {
        return Err(Box::new(refused("unreadable form, so no CSRF token", false)));
    };
    parts.headers.remove(CONTENT_LENGTH);
    Ok(Request::from_parts(parts, Body::from(body)))
}

/// The `403` for a request without the session's CSRF token.
fn refused(reason: &str, json: bool) -> Response {
    let message = format!("Refused: {reason}. Reload the page and submit the form again.");
    if json {
        let body = serde_json::json!({ "error": message }).to_string();
        return (StatusCode::FORBIDDEN, [(CONTENT_TYPE, "application/json")], body).into_response();
    }
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused</title></head>\
<body><h1>Refused</h1><p class=\"error\" role=\"alert\">{message}</p><p><a href=\"/\">Home</a></p></body></html>"
    );
    (
        StatusCode::FORBIDDEN,
        [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        body,
    )
        .into_response()
}

async fn with_fields(response: Response, token: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(html) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(add_csrf_fields(html, token)))
}

/// `html` with a hidden `csrf` field holding `token` right after the opening tag of every
/// `<form method="post">`.
pub fn add_csrf_fields(html: &str, token: &str) -> String {
    let field = format!("<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{token}\">");
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` cut `html`.
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() + 256);
    let mut done = 0;
    while let Some(start) = lower[done..].find("<form").map(|i| done + i) {
        let Some(end) = lower[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        out.push_str(&html[done..end]);
        if lower[start..end].contains("method=\"post\"") {
            out.push_str(&field);
        }
        done = end;
    }
    out.push_str(&html[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_post_form_gets_the_field() {
        let html = "<p><form method=\"post\" action=\"/a\"><button>A</button></form>\
<form method=\"get\" action=\"/\"></form><FORM METHOD=\"POST\" action=\"/b\"></FORM></p>";
        let out = add_csrf_fields(html, "t0k");
        assert_eq!(out.matches("name=\"csrf\" value=\"t0k\"").count(), 2, "{out}");
        assert!(out.contains("action=\"/a\"><input type=\"hidden\" name=\"csrf\""));
        assert!(out.contains("action=\"/\"></form>"));
        assert_eq!(add_csrf_fields("no forms", "t"), "no forms");
    }
}
