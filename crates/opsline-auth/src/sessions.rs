//! Page sessions: signing in on a page exchanges an API token for a random session id, kept in
//! a `__Host-` cookie (`Secure; HttpOnly; SameSite=Strict; Path=/`), so the token itself never
//! sits in the browser. The server maps the id to the [`Principal`] (and keeps the token, to
//! call another Opsline service on the visitor's behalf), with a per-session CSRF token
//! (synchronizer token, see [`crate::csrf`]).
//!
//! The store is in memory, bounded ([`SessionStore::new`]'s `capacity`: when full, expired
//! sessions go first, then the oldest) and each session expires after its time to live. Two
//! replicas do not share sessions: run one replica of a page service, or route a visitor to
//! the same replica (sticky sessions). Signing out deletes the session on the server.
//!
//! Browsers keep `Secure` cookies set over `http://localhost` and `http://127.0.0.1` (both are
//! potentially trustworthy origins), so a local run works without TLS; anywhere else the pages
//! must be served over HTTPS (a TLS-terminating proxy).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::HeaderMap;
use http::header::COOKIE;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::tokens::{Principal, generate_token};

/// Cookie holding a console visitor's session id.
pub const CONSOLE_SESSION_COOKIE: &str = "__Host-opsline_session";
/// Cookie holding a postmortem-page visitor's session id (another name than the console's:
/// cookies are per host, not per port, and each service keeps its own sessions).
pub const POSTMORTEM_SESSION_COOKIE: &str = "__Host-opsline_postmortem_session";
/// Default lifetime of a session.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Default number of live sessions kept.
pub const DEFAULT_SESSION_CAPACITY: usize = 10_000;

/// A signed-in visitor, as the store knows them.
#[derive(Clone)]
pub struct Session {
    /// Who signed in.
    pub principal: Principal,
    /// The CSRF token every state-changing form of this session must carry.
    pub csrf: String,
    /// The API token the visitor signed in with (never sent back to the browser).
    token: String,
    expires: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("principal", &self.principal.name)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The API token the visitor signed in with, to call another service on their behalf.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether `presented` is this session's CSRF token (constant-time comparison).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// The sessions of one service.
pub struct SessionStore {
    cookie: &'static str,
    ttl: Duration,
    capacity: usize,
    /// Keyed by the SHA-256 of the session id (the id itself is not kept).
    sessions: Mutex<HashMap<[u8; 32], Session>>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("cookie", &self.cookie)
            .field("sessions", &self.lock().len())
            .finish_non_exhaustive()
    }
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl SessionStore {
    /// An empty store whose sessions live in cookie `cookie` (a `__Host-` name), last `ttl`
    /// and number at most `capacity` (at least 1).
    pub fn new(cookie: &'static str, ttl: Duration, capacity: usize) -> Self {
        Self {
            cookie,
            ttl,
            capacity: capacity.max(1),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cookie name of this store's sessions.
    pub fn cookie_name(&self) -> &'static str {
        self.cookie
    }

    /// Number of live sessions held (expired ones may still count until evicted).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Starts a session for `principal`, who signed in with `token`: returns the new session
    /// id (the cookie value) and the session.
    pub fn create(&self, principal: Principal, token: &str) -> Result<(String, Session), getrandom::Error> {
        let id = generate_token()?;
        let session = Session {
            principal,
            csrf: generate_token()?,
            token: token.to_owned(),
            expires: Instant::now() + self.ttl,
        };
        let now = Instant::now();
        let mut sessions = self.lock();
        if sessions.len() >= self.capacity {
            sessions.retain(|_, s| s.expires > now);
        }
        while sessions.len() >= self.capacity {
            let oldest = sessions.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k);
            match oldest {
                Some(k) => sessions.remove(&k),
                None => break,
            };
        }
        sessions.insert(key(&id), session.clone());
        Ok((id, session))
    }

    /// The live session named by the request's cookie, if any.
    pub fn get(&self, headers: &HeaderMap) -> Option<Session> {
        let id = session_cookie(headers, self.cookie)?;
        let k = key(id);
        let mut sessions = self.lock();
        match sessions.get(&k) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                sessions.remove(&k);
                None
            }
            None => None,
        }
    }

    /// Deletes the session named by the request's cookie (signing out).
    pub fn remove(&self, headers: &HeaderMap) {
        if let Some(id) = session_cookie(headers, self.cookie) {
            self.lock().remove(&key(id));
        }
    }

    /// The `Set-Cookie` value that gives the browser session id `id`.
    pub fn set_cookie(&self, id: &str) -> String {
        format!(
            "{}={id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
            self.cookie,
            self.ttl.as_secs()
        )
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self) -> String {
        format!("{}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0", self.cookie)
    }
}

/// The value of cookie `name` in the request, if any.
pub fn session_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use opsline_search::{Role, Viewer};

    use super::*;

    fn who(name: &str) -> Principal {
        Principal {
            name: name.into(),
            viewer: Viewer::new(Role::Sre, ["payments"]),
        }
    }

    fn with_cookie(name: &str, id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&format!("a=1; {name}={id}")).unwrap());
        headers
    }

    #[test]
    fn session_cookie_holds_a_random_id_not_the_token() {
        let store = SessionStore::new(CONSOLE_SESSION_COOKIE, DEFAULT_SESSION_TTL, 10);
        let (id, session) = store.create(who("sam"), "the-api-token").unwrap();
        assert_ne!(id, "the-api-token");
        assert_eq!(id.len(), 64);
        let cookie = store.set_cookie(&id);
        assert!(cookie.starts_with("__Host-opsline_session="), "{cookie}");
        for part in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("the-api-token") && !cookie.contains("Domain"));
        let found = store.get(&with_cookie(CONSOLE_SESSION_COOKIE, &id)).unwrap();
        assert_eq!(found.principal.name, "sam");
        assert_eq!(found.token(), "the-api-token");
        assert!(found.csrf_matches(&session.csrf) && !found.csrf_matches("x"));
        assert!(
            store
                .get(&with_cookie(CONSOLE_SESSION_COOKIE, "the-api-token"))
                .is_none()
        );
        assert!(store.get(&with_cookie(POSTMORTEM_SESSION_COOKIE, &id)).is_none());
    }

    #[test]
    fn sign_out_deletes_and_sessions_expire() {
        let store = SessionStore::new(CONSOLE_SESSION_COOKIE, DEFAULT_SESSION_TTL, 10);
        let (id, _) = store.create(who("sam"), "t").unwrap();
        let headers = with_cookie(CONSOLE_SESSION_COOKIE, &id);
        store.remove(&headers);
        assert!(store.get(&headers).is_none());
        let expired = SessionStore::new(CONSOLE_SESSION_COOKIE, Duration::ZERO, 10);
        let (id, _) = expired.create(who("sam"), "t").unwrap();
        assert!(expired.get(&with_cookie(CONSOLE_SESSION_COOKIE, &id)).is_none());
        assert!(expired.is_empty());
    }

    #[test]
    fn store_is_bounded() {
        let store = SessionStore::new(CONSOLE_SESSION_COOKIE, DEFAULT_SESSION_TTL, 3);
        let ids: Vec<String> = (0..30)
            .map(|i| store.create(who(&i.to_string()), "t").unwrap().0)
            .collect();
        assert_eq!(store.len(), 3);
        assert!(store.get(&with_cookie(CONSOLE_SESSION_COOKIE, &ids[29])).is_some());
        assert!(store.get(&with_cookie(CONSOLE_SESSION_COOKIE, &ids[0])).is_none());
    }
}
