//! Request signatures of chat platforms: `v0=` + hex HMAC-SHA256 over
//! `v0:{timestamp}:{raw body}` (Slack's scheme, also used by the generic webhook),
//! a timestamp window in both directions, a constant-time comparison, and a bounded
//! memory of accepted signatures and event ids so a captured request cannot be replayed.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a request was refused (a stable code and a reason that names no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// Stable code, e.g. `bad_signature`.
    pub(crate) code: &'static str,
    /// What is wrong, in words.
    pub(crate) reason: String,
}

impl Refusal {
    pub(crate) fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// Checks the signature of one platform's requests and remembers what it accepted.
pub(crate) struct SignatureVerifier {
    secret: SecretString,
    max_skew_secs: i64,
    seen: Mutex<ReplayMemory>,
}

impl SignatureVerifier {
    /// A verifier with `secret`, accepting timestamps within `max_skew_secs` of now and
    /// remembering at most `capacity` signatures and event ids.
    pub(crate) fn new(secret: SecretString, max_skew_secs: u64, capacity: usize) -> Self {
        Self {
            secret,
            max_skew_secs: i64::try_from(max_skew_secs).unwrap_or(300),
            seen: Mutex::new(ReplayMemory::new(capacity.max(1))),
        }
    }

    /// Verifies `signature` (`v0=<hex>`) over `body` sent at `timestamp` (Unix seconds, as text)
    /// at time `now`, then remembers it: the same signature is refused for the rest of the window.
    pub(crate) fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), Refusal> {
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return Err(Refusal::new(
                "missing_signature",
                "signature or timestamp header missing",
            ));
        };
        let sent: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| Refusal::new("bad_timestamp", "request timestamp is not a number"))?;
        if now.abs_diff(sent) > self.max_skew_secs.unsigned_abs() {
            return Err(Refusal::new(
                "stale_timestamp",
                format!("request timestamp is more than {} seconds from now", self.max_skew_secs),
            ));
        }
        let expected = self.sign(timestamp.trim(), body);
        if !bool::from(expected.as_bytes().ct_eq(signature.trim().as_bytes())) {
            return Err(Refusal::new("bad_signature", "signature does not match"));
        }
        self.remember(&format!("sig:{}", signature.trim()), now)
    }

    /// Remembers a published event id (e.g. Slack's `event_id`) for the window; refuses one
    /// remembered already.
    pub(crate) fn remember_event(&self, event_id: &str, now: i64) -> Result<(), Refusal> {
        self.remember(&event_key(event_id), now)
    }

    /// Whether the event `event_id` was published within the window (a platform's retry of it
    /// is then acknowledged again, not published twice).
    pub(crate) fn event_published(&self, event_id: &str, now: i64) -> Result<bool, Refusal> {
        let key: [u8; 32] = Sha256::digest(event_key(event_id).as_bytes()).into();
        let mut seen = self.memory()?;
        seen.expire(now);
        Ok(seen.keys.contains(&key))
    }

    /// `v0=` + hex HMAC-SHA256 over `v0:{timestamp}:{body}`.
    pub(crate) fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        sign(self.secret.expose_secret().as_bytes(), timestamp, body)
    }

    fn memory(&self) -> Result<std::sync::MutexGuard<'_, ReplayMemory>, Refusal> {
        self.seen
            .lock()
            .map_err(|_| Refusal::new("internal", "replay memory unavailable"))
    }

    fn remember(&self, what: &str, now: i64) -> Result<(), Refusal> {
        let key: [u8; 32] = Sha256::digest(what.as_bytes()).into();
        let mut seen = self.memory()?;
        seen.insert(key, now, now.saturating_add(self.max_skew_secs.saturating_mul(2)))
    }
}

/// What the replay memory holds for an event id (apart from signatures).
fn event_key(event_id: &str) -> String {
    format!("event:{event_id}")
}

/// `v0=` + hex HMAC-SHA256 over `v0:{timestamp}:{body}` with `secret`.
pub(crate) fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + 64);
    out.push_str("v0=");
    for byte in digest.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Hashes of accepted signatures and event ids with their expiry, oldest first, bounded.
struct ReplayMemory {
    capacity: usize,
    order: VecDeque<(i64, [u8; 32])>,
    keys: HashSet<[u8; 32]>,
}

impl ReplayMemory {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            order: VecDeque::new(),
            keys: HashSet::new(),
        }
    }

    /// Remembers `key` until `expires`; refuses a key already remembered, and fails closed
    /// (refuses) when the memory is full of unexpired entries.
    fn insert(&mut self, key: [u8; 32], now: i64, expires: i64) -> Result<(), Refusal> {
        self.expire(now);
        if self.keys.contains(&key) {
            return Err(Refusal::new("replayed", "this request was already received"));
        }
        if self.keys.len() >= self.capacity {
            return Err(Refusal::new("overloaded", "too many requests in the replay window"));
        }
        self.keys.insert(key);
        self.order.push_back((expires, key));
        Ok(())
    }

    /// Forgets entries expired at `now`.
    fn expire(&mut self, now: i64) {
        while let Some(&(expiry, old)) = self.order.front() {
            if expiry > now {
                break;
            }
            self.order.pop_front();
            self.keys.remove(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> SignatureVerifier {
        SignatureVerifier::new(SecretString::from("8f742231b10e8888abcd99yyyzzz85a5"), 300, 3)
    }

    #[test]
    fn slack_documented_example_signature() {
        // The example of Slack's "Verifying requests" documentation.
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let signature = sign(b"8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body);
        assert_eq!(
            signature,
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }

    #[test]
    fn accepts_once_then_refuses_replay_stale_and_forged() {
        let v = verifier();
        let now = 1_700_000_000;
        let sig = v.sign("1700000000", b"{}");
        assert!(v.verify(Some("1700000000"), Some(&sig), b"{}", now).is_ok());
        assert_eq!(
            v.verify(Some("1700000000"), Some(&sig), b"{}", now + 1)
                .unwrap_err()
                .code,
            "replayed"
        );
        let old = v.sign("1699999000", b"{}");
        assert_eq!(
            v.verify(Some("1699999000"), Some(&old), b"{}", now).unwrap_err().code,
            "stale_timestamp"
        );
        let future = v.sign("1700000400", b"{}");
        assert_eq!(
            v.verify(Some("1700000400"), Some(&future), b"{}", now)
                .unwrap_err()
                .code,
            "stale_timestamp"
        );
        assert_eq!(
            v.verify(Some("1700000000"), Some("v0=00"), b"{}", now)
                .unwrap_err()
                .code,
            "bad_signature"
        );
        assert_eq!(
            v.verify(None, Some(&sig), b"{}", now).unwrap_err().code,
            "missing_signature"
        );
    }

    #[test]
    fn timestamps_at_the_ends_of_i64_are_stale_not_a_panic() {
        let v = verifier();
        for sent in [i64::MIN, i64::MAX] {
            let text = sent.to_string();
            let sig = v.sign(&text, b"{}");
            for now in [i64::MIN, 0, 1_700_000_000, i64::MAX] {
                let refused = v.verify(Some(&text), Some(&sig), b"{}", now);
                if now != sent {
                    assert_eq!(refused.unwrap_err().code, "stale_timestamp", "sent {sent}, now {now}");
                }
            }
        }
    }

    #[test]
    fn a_published_event_is_known_until_its_window_ends() {
        let v = verifier();
        let now = 1_700_000_000;
        assert!(!v.event_published("Ev1", now).unwrap());
        v.remember_event("Ev1", now).unwrap();
        assert!(v.event_published("Ev1", now + 1).unwrap());
        assert!(!v.event_published("Ev1", now + 601).unwrap());
    }

    #[test]
    fn memory_is_bounded_and_expires() {
        let v = verifier();
        let now = 1_700_000_000;
        for id in ["a", "b", "c"] {
            assert!(v.remember_event(id, now).is_ok());
        }
        assert_eq!(v.remember_event("d", now).unwrap_err().code, "overloaded");
        assert_eq!(v.remember_event("a", now).unwrap_err().code, "replayed");
        assert!(v.remember_event("d", now + 601).is_ok());
    }
}
