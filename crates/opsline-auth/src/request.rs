//! How a request presents its token: `Authorization: Bearer <token>` (APIs, the terminal) or
//! the `token` cookie a page's sign-in form sets (`HttpOnly`, `SameSite=Strict`, `Path=/`).
//! Browsers send a cookie to every port of the host that set it, so one sign-in on the
//! console also signs the visitor in on the postmortem pages of the same host.

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};

/// Name of the cookie holding a page visitor's token.
pub const TOKEN_COOKIE: &str = "token";

/// The bearer token of `headers`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The `token` cookie of `headers`, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
        .map(|(_, value)| value.trim())
}

/// Whether `token` can be stored in a cookie as is (printable ASCII without separators).
pub fn cookie_safe(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\'))
}

/// The `Set-Cookie` value that signs a visitor in with `token`.
pub fn sign_in_cookie(token: &str) -> String {
    format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` value that signs a visitor out.
pub fn sign_out_cookie() -> String {
    format!("{TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_bearer_and_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc "));
        headers.insert(COOKIE, HeaderValue::from_static("a=1; token=xyz; b=2"));
        assert_eq!(bearer(&headers), Some("abc"));
        assert_eq!(cookie_token(&headers), Some("xyz"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn cookie_safety() {
        assert!(cookie_safe("abc-123_x"));
        assert!(!cookie_safe(""));
        assert!(!cookie_safe("a;b"));
        assert!(!cookie_safe("a b"));
    }
}
