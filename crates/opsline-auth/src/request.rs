//! How a request presents its token: `Authorization: Bearer <token>` (APIs, the terminal).
//! Pages never hold the token: their sign-in form exchanges it for a session
//! ([`crate::sessions`]).

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// The bearer token of `headers`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether `token` is a plausible token (printable ASCII without separators); a sign-in form
/// refuses anything else before looking it up.
pub fn cookie_safe(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\'))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_bearer() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc "));
        assert_eq!(bearer(&headers), Some("abc"));
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
