//! HTML helpers: escaping, percent-encoding of ids in links, the page layout (with the
//! sign-out button) and the styled error page. Markdown is rendered by [`crate::web::render`].

use axum::response::{IntoResponse, Response};

/// `text` with `& < > " '` escaped.
pub fn escape(text: &str) -> String {
    opsline_search::html_escape(text)
}

/// `text` percent-encoded for a URL path segment or query value (unreserved characters kept).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:64rem;margin:0 auto;padding:0 1rem 3rem;color:#1d232a}\
header{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ccc;margin-bottom:1rem;padding:.5rem 0}\
header .who{margin-left:auto;font-size:.9em}header form{display:inline;margin:0 0 0 .5rem}\
.hit{margin:1rem 0}.meta,.muted{color:#65717d;font-size:.9em}b{background:#ffec8b}\
blockquote{color:#555;border-left:3px solid #ccc;margin-left:0;padding-left:1rem}\
pre{background:#f0f2f4;padding:.5rem;overflow-x:auto}code{background:#f0f2f4;padding:0 .2rem}pre code{padding:0}\
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e1e4e8;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#eef1f4}li:target,tr:target{background:#fff3c4}\
input[type=text],input[type=password]{width:30rem;max-width:100%}textarea{width:100%;font-family:monospace}\
button{cursor:pointer;padding:.2rem .6rem;border:1px solid #8a97a5;border-radius:.3rem;background:#fff}\
button.primary{background:#1d5fa8;color:#fff;border-color:#1d5fa8}\
.error{background:#fdecea;border:1px solid #b3261e;color:#7a1712;padding:.6rem 1rem;border-radius:.3rem}\
.panel{background:#f6f7f9;border:1px solid #e1e4e8;padding:.6rem 1rem;margin:1rem 0;border-radius:.3rem}\
.prompt{margin:.4rem 0}.prompt form{margin:.2rem 0}details{margin:.3rem 0}summary{cursor:pointer;color:#1d5fa8}\
section.pm h2{border-bottom:1px solid #e1e4e8}form.inline{display:inline-block;margin:0 .3rem 0 0}\
.closed{color:#65717d;text-decoration:line-through}";

/// A full page around `body` (already HTML); signed-in pages carry a "Sign out" button.
pub fn layout(title: &str, who: Option<&str>, body: &str) -> String {
    let who = who
        .map(|name| {
            format!(
                "<span class=\"who\">signed in as {} <form method=\"post\" action=\"/logout\">\
<button type=\"submit\" class=\"signout\">Sign out</button></form></span>",
                escape(name)
            )
        })
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Opsline postmortems</title>\
<style>{STYLE}</style></head><body><header><a href=\"/\">Opsline postmortems</a>{who}</header>\n<main>{body}</main></body></html>\n",
        title = escape(title),
    )
}

/// A styled error page: the message, a link back, and the status.
pub fn error_page(
    status: axum::http::StatusCode,
    who: Option<&str>,
    title: &str,
    message_html: &str,
    back: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = format!(
        "<div class=\"error\" role=\"alert\"><strong>{} {}</strong><p>{message_html}</p></div><p><a href=\"{}\">Back</a></p>",
        status.as_u16(),
        escape(status.canonical_reason().unwrap_or("")),
        escape(back)
    );
    (status, axum::response::Html(layout(title, who, &body))).into_response()
}

/// A `303 See Other` to `location`, optionally setting a cookie.
pub fn redirect(location: &str, cookie: Option<String>) -> Response {
    let mut response = axum::http::StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(location) {
        response.headers_mut().insert(axum::http::header::LOCATION, value);
    }
    if let Some(value) = cookie.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(axum::http::header::SET_COOKIE, value);
    }
    response
}

/// The sign-in page with `message`, answered with `status`.
pub fn denied(status: axum::http::StatusCode, message: &str) -> Response {
    let body = format!("<p class=\"error\">{}</p>{}", escape(message), login_body());
    (status, axum::response::Html(layout("Sign in", None, &body))).into_response()
}

/// The sign-in form.
pub fn login_body() -> String {
    "<form method=\"post\" action=\"/login\"><label>API token <input type=\"password\" name=\"token\" autocomplete=\"off\"></label> \
<button type=\"submit\">Sign in</button></form>"
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped() {
        assert_eq!(escape("<script>\"x\"&'"), "&lt;script&gt;&quot;x&quot;&amp;&#39;");
        let page = layout("T <b>", Some("a<i>"), "");
        assert!(
            page.contains("<title>T &lt;b&gt;") && page.contains("signed in as a&lt;i&gt;"),
            "{page}"
        );
        assert!(page.contains("action=\"/logout\""), "a sign-out button: {page}");
        assert!(!layout("T", None, "").contains("/logout"));
    }

    #[test]
    fn ids_are_percent_encoded() {
        assert_eq!(encode_component("path:a b/c.md"), "path%3Aa%20b%2Fc.md");
    }
}
