//! The server-rendered pages (no JavaScript needed for any action): the incidents home
//! (`/`), the incident page (`/incidents/{id}`), the helpdesk queue (`/queue`), the insights
//! charts (`/insights`, SVG drawn on the server), the record view (`/records/{partition}/{offset}`:
//! a cited raw-log record read back from Kafka, redacted), and sign-in
//! (`/login`, `/logout`). Signing in (a `POST` form; a token is never accepted in a URL)
//! starts a session of `opsline-auth`: the browser holds only a random session id, in the
//! `__Host-opsline_session` cookie (`Secure; HttpOnly; SameSite=Strict; Path=/`), and every
//! `POST` form carries the session's CSRF token (added and checked by `opsline_auth::csrf`).

pub mod charts;
pub mod html;
mod incidents;
mod insights;
mod queue;
mod records;
mod runbooks;

use axum::Form;
use axum::Router;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use opsline_auth::{Principal, cookie_safe};
use serde::Deserialize;

use crate::error::ConsoleError;
use crate::query::ListParams;
use crate::state::AppState;
use html::{Frame, error_box, escape, layout};

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(incidents::home))
        .route("/incidents/{id}", get(incidents::page))
        .route("/incidents/{id}/{action}", post(incidents::act))
        .route("/queue", get(queue::page))
        .route("/insights", get(insights::page))
        .route("/records/{partition}/{offset}", get(records::page))
        .route("/tickets/{id}/reroute", post(queue::reroute))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

/// The visitor, or the sign-in page (401) to give instead.
fn visitor(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Principal, Box<Response>> {
    state.page_principal(headers).ok_or_else(|| {
        Box::new(sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("Sign in with your API token."),
        ))
    })
}

/// The frame of a signed-in page.
fn frame<'a>(state: &'a AppState, who: &'a Principal, current: &'a str) -> Frame<'a> {
    Frame {
        who: Some(&who.name),
        postmortem_url: &state.postmortem_url,
        current,
    }
}

/// A `303 See Other` to `location`, optionally setting a cookie.
fn redirect(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// A styled error page with the error's status.
fn error_page(state: &AppState, who: &Principal, error: &ConsoleError) -> Response {
    let title = match error {
        ConsoleError::Forbidden(_) => "Not allowed",
        ConsoleError::NotFound(_) => "Not found",
        ConsoleError::Conflict(_) => "Not done",
        ConsoleError::BadRequest(_) => "Bad request",
        ConsoleError::Unavailable(_) => "Unavailable",
        ConsoleError::Unauthorized => "Sign in",
    };
    let body = format!(
        "{}<p><a href=\"/\">Back to the incidents</a></p>",
        error_box(&error.to_string())
    );
    (error.status(), Html(layout(title, frame(state, who, ""), &body))).into_response()
}

/// Where to go after an action: `back` when it is a local path, else `fallback`.
fn back_to(back: Option<&str>, fallback: &str) -> String {
    match back {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains(['\r', '\n', '\\']) => {
            path.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

fn sign_in_page(status: StatusCode, message: Option<&str>) -> Response {
    let mut body = message.map(error_box).unwrap_or_default();
    body.push_str(
        "<form method=\"post\" action=\"/login\"><label>API token <input type=\"password\" name=\"token\" \
autocomplete=\"off\" autofocus></label> <button type=\"submit\" class=\"primary\">Sign in</button></form>\
<p class=\"muted\">A token is created with <code>opsline token create --name NAME --role sre|helpdesk|viewer</code>; \
<code>opsline up</code> prints this page's address and the file holding its local token.</p>",
    );
    (status, Html(layout("Sign in", Frame::default(), &body))).into_response()
}

async fn login_form() -> Response {
    sign_in_page(StatusCode::OK, None)
}

/// Body of `POST /login`.
#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(axum::extract::State(state): axum::extract::State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let token = form.token.trim();
    let Some(principal) = cookie_safe(token).then(|| state.tokens.authenticate(token)).flatten() else {
        return sign_in_page(StatusCode::UNAUTHORIZED, Some("Unknown token."));
    };
    match state.sessions.create(principal, token) {
        Ok((id, _)) => redirect("/", Some(state.sessions.set_cookie(&id))),
        Err(error) => {
            tracing::error!(%error, "no randomness for a session id");
            sign_in_page(StatusCode::SERVICE_UNAVAILABLE, Some("Cannot start a session now."))
        }
    }
}

/// Signs out: the session is deleted on the server and its cookie removed.
async fn logout(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    state.sessions.remove(&headers);
    redirect("/login", Some(state.sessions.clear_cookie()))
}

/// Previous / next links of a list page.
/// The link back to a list page with its current filters (`path`, or `path?query`).
fn list_link(path: &str, params: &ListParams) -> String {
    let query = params.link_query();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// "N things match" above a list (`noun` in the singular; an `s` is added unless N is 1).
fn match_count(total: usize, noun: &str) -> String {
    format!(
        "<p class=\"muted\">{total} {noun}{} match</p>",
        if total == 1 { "" } else { "s" }
    )
}

fn pager(path: &str, params: &ListParams, offset: usize, limit: usize, next: Option<usize>) -> String {
    let query = params.link_query();
    let join = if query.is_empty() {
        String::new()
    } else {
        format!("{query}&")
    };
    let mut out = String::from("<p class=\"pager\">");
    if offset > 0 {
        out.push_str(&format!(
            "<a rel=\"prev\" href=\"{path}?{}offset={}\">Previous</a>",
            escape(&join),
            offset.saturating_sub(limit)
        ));
    }
    if let Some(next) = next {
        out.push_str(&format!(
            "<a rel=\"next\" href=\"{path}?{}offset={next}\">Next</a>",
            escape(&join)
        ));
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_back() {
        assert_eq!(back_to(Some("/queue?queue=A"), "/"), "/queue?queue=A");
        assert_eq!(back_to(Some("//evil.example"), "/"), "/");
        assert_eq!(back_to(Some("https://evil.example"), "/"), "/");
        assert_eq!(back_to(None, "/x"), "/x");
    }
}
