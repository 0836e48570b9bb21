//! CSRF protection of the page forms (synchronizer token), one axum middleware for every
//! service with pages ([`guard`]):
//!
//! - every `<form method="post">` of an HTML page served to a signed-in visitor gets a hidden
//!   `csrf` field holding the session's token ([`add_csrf_fields`]), so no form can forget it;
//! - every state-changing request (not `GET`/`HEAD`/`OPTIONS`) made with a session cookie must
//!   carry that token, as the `csrf` form field or an `X-CSRF-Token` header, else `403` with
//!   the reason; the field is removed before the handler reads the form.
//!
//! The sign-in form has no session yet: a page served without one gets a random sign-in token
//! in its forms and in a `<session cookie>_login` cookie (`__Host-`, `Secure; HttpOnly;
//! SameSite=Strict`), and `POST /login` must carry both, equal (so another site cannot sign a
//! visitor in to someone else's session).
//!
//! Exempt: requests with an `Authorization: Bearer` header (API calls carry no ambient
//! credential a third-party page could borrow; the handlers then use the bearer token, not
//! the cookie), and other requests without a live session (the handler answers `401`).

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, SET_COOKIE};
use http::{HeaderValue, Method, StatusCode};

use crate::request::bearer;
use subtle::ConstantTimeEq;

use crate::sessions::{SessionStore, session_cookie};
use crate::tokens::generate_token;

/// Name of the hidden form field (and of the header, `X-CSRF-Token`) carrying the token.
pub const CSRF_FIELD: &str = "csrf";
/// Header alternative to the form field.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Largest form body read to find the token.
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;
/// Largest page rewritten to add the hidden fields.
const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;
/// Lifetime of a sign-in token (the sign-in form must be sent within it).
const LOGIN_TOKEN_SECS: u64 = 3600;

/// The middleware: checks the token of state-changing requests, adds it to the pages' forms.
/// Install with `axum::middleware::from_fn_with_state(sessions, opsline_auth::csrf::guard)`.
pub async fn guard(State(store): State<Arc<SessionStore>>, request: Request, next: Next) -> Response {
    let has_bearer = bearer(request.headers()).is_some();
    let session = if has_bearer { None } else { store.get(request.headers()) };
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let login_cookie = format!("{}_login", store.cookie_name());
    let expected = match (&session, safe, request.uri().path() == "/login") {
        (_, true, _) => None,
        (None, false, true) if !has_bearer => Some(
            session_cookie(request.headers(), &login_cookie)
                .unwrap_or_default()
                .to_owned(),
        ),
        (Some(session), false, _) => Some(session.csrf.clone()),
        _ => None,
    };
    let request = match expected {
        Some(expected) => match checked(&expected, request).await {
            Ok(request) => request,
            Err(response) => return *response,
        },
        None => request,
    };
    let response = next.run(request).await;
    if !is_html(response.headers()) {
        return response;
    }
    match session {
        Some(session) => with_fields(response, &session.csrf, None).await,
        None => match generate_token() {
            Ok(token) => {
                let cookie = format!(
                    "{login_cookie}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={LOGIN_TOKEN_SECS}"
                );
                with_fields(response, &token, Some(cookie)).await
            }
            Err(_) => response,
        },
    }
}

fn is_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Whether `presented` equals `expected` (constant time; an empty expected token matches
/// nothing).
fn token_matches(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// The request with the `csrf` field removed, or the `403` when the token is missing or wrong.
async fn checked(expected: &str, request: Request) -> Result<Request, Box<Response>> {
    let wants_json = !request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if let Some(presented) = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if token_matches(expected, presented) {
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
        [(_, token)] if token_matches(expected, token) => {}
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

/// `response` with the hidden fields added to its forms, and `cookie` set when a field was
/// added (the sign-in token of a page without a session).
async fn with_fields(response: Response, token: &str, cookie: Option<String>) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(html) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let out = add_csrf_fields(html, token);
    let added = out.len() != html.len();
    if let Some(value) = cookie.filter(|_| added).and_then(|c| HeaderValue::from_str(&c).ok()) {
        parts.headers.append(SET_COOKIE, value);
    }
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
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
