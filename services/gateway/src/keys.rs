//! Ingest keys: who may send to `/v1/logs`, `/v1/tickets` and `/v1/alerts/alertmanager`.
//!
//! Each source holds its own key and sends it as `Authorization: Bearer <key>`. The
//! configuration holds only the key's SHA-256 (64 lower-case hex digits, the same format as
//! the console tokens: `opsline token hash`), the endpoints it may post to, the services it
//! may send for, and its rate limit. A presented key is hashed and compared with every
//! configured hash in constant time. A gateway with no key refuses every ingest request.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opsline_runtime::secret_hash::{parse_sha256_hex, sha256, sha256_hex};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// An ingest endpoint a key may be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestEndpoint {
    /// `POST /v1/logs` (NDJSON, text and OTLP).
    Logs,
    /// `POST /v1/tickets`.
    Tickets,
    /// `POST /v1/alerts/alertmanager` and its `/api/v2/alerts`.
    Alerts,
}

impl IngestEndpoint {
    /// The endpoint of a request path, if it is an ingest path.
    pub fn of_path(path: &str) -> Option<Self> {
        match path {
            "/v1/logs" => Some(Self::Logs),
            "/v1/tickets" => Some(Self::Tickets),
            p if p.starts_with("/v1/alerts/alertmanager") => Some(Self::Alerts),
            _ => None,
        }
    }

    /// The name used in configuration and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Logs => "logs",
            Self::Tickets => "tickets",
            Self::Alerts => "alerts",
        }
    }
}

/// One configured ingest key (`[[gateway.keys]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestKeyConfig {
    /// The source holding the key (letters, digits, `-`, `_`); tickets it sends with their
    /// own `ticket_id` get `<name>:<ticket_id>`.
    pub name: String,
    /// SHA-256 of the key, 64 hex digits.
    pub sha256: String,
    /// Endpoints the key may post to; empty: every ingest endpoint.
    #[serde(default)]
    pub endpoints: Vec<IngestEndpoint>,
    /// Services the key may send records for; empty: any service.
    #[serde(default)]
    pub services: Vec<String>,
    /// Sustained requests per second (token bucket refill); 0: unlimited.
    #[serde(default = "default_rate")]
    pub requests_per_sec: f64,
    /// Requests allowed at once above the sustained rate (bucket size).
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_rate() -> f64 {
    50.0
}

fn default_burst() -> u32 {
    100
}

impl IngestKeyConfig {
    /// A key named `name` with hash `sha256`, every endpoint and service, default limits.
    pub fn new(name: impl Into<String>, sha256: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            sha256: sha256.into(),
            endpoints: Vec::new(),
            services: Vec::new(),
            requests_per_sec: default_rate(),
            burst: default_burst(),
        }
    }
}

/// The SHA-256 of `key` as 64 lower-case hex digits (the value of a key's `sha256`).
pub fn hash_key(key: &str) -> String {
    sha256_hex(key)
}

/// Why the key configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyConfigError {
    /// The hash is not 64 hex digits.
    #[error("ingest key `{0}`: sha256 must be 64 hex digits (the SHA-256 of the key)")]
    BadHash(String),
    /// The name is empty or holds other characters than letters, digits, `-`, `_`.
    #[error("ingest key {0:?}: the name must be letters, digits, `-` or `_`")]
    BadName(String),
    /// Two keys share a name.
    #[error("ingest key `{0}` is configured twice")]
    Duplicate(String),
    /// A negative or non-finite rate.
    #[error("ingest key `{0}`: requests_per_sec must be a finite number >= 0")]
    BadRate(String),
}

/// An authenticated source: what its key allows.
#[derive(Debug)]
pub struct Caller {
    /// The key's name.
    pub name: String,
    endpoints: BTreeSet<IngestEndpoint>,
    services: BTreeSet<String>,
    bucket: Option<Mutex<Bucket>>,
}

impl Caller {
    /// Whether the key may post to `endpoint`.
    pub fn may_post(&self, endpoint: IngestEndpoint) -> bool {
        self.endpoints.is_empty() || self.endpoints.contains(&endpoint)
    }

    /// Whether the key may send records for `service`.
    pub fn may_send_for(&self, service: &str) -> bool {
        self.services.is_empty() || self.services.contains(service)
    }

    /// Takes one request from the key's bucket at `now`: `Ok` when allowed, else how long
    /// until the next request is.
    pub fn take(&self, now: Instant) -> Result<(), Duration> {
        match &self.bucket {
            None => Ok(()),
            Some(bucket) => match bucket.lock() {
                Ok(mut bucket) => bucket.take(now),
                Err(poisoned) => poisoned.into_inner().take(now),
            },
        }
    }
}

/// A token bucket: `capacity` takes at once, refilled at `rate` a second (0: never).
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl Bucket {
    /// A full bucket of `capacity` (at least 1) refilled at `rate` a second.
    pub(crate) fn new(rate: f64, capacity: u32) -> Self {
        let capacity = f64::from(capacity.max(1));
        Self {
            rate: if rate.is_finite() { rate.max(0.0) } else { 0.0 },
            capacity,
            tokens: capacity,
            last: None,
        }
    }

    /// Takes one at `now`: `Ok`, or how long until one is there.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + refill).min(self.capacity);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.rate;
            Err(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
        }
    }
}

struct KnownKey {
    digest: [u8; 32],
    caller: std::sync::Arc<Caller>,
}

/// The configured keys, ready to authenticate requests.
pub struct KeyStore {
    keys: Vec<KnownKey>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").field("keys", &self.keys.len()).finish()
    }
}

impl KeyStore {
    /// Checks every entry and builds the store.
    pub fn new(configs: &[IngestKeyConfig]) -> Result<Self, KeyConfigError> {
        let mut names = BTreeSet::new();
        let mut keys = Vec::with_capacity(configs.len());
        for config in configs {
            let name = config.name.clone();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(KeyConfigError::BadName(name));
            }
            if !names.insert(name.clone()) {
                return Err(KeyConfigError::Duplicate(name));
            }
            if !config.requests_per_sec.is_finite() || config.requests_per_sec < 0.0 {
                return Err(KeyConfigError::BadRate(name));
            }
            let digest = parse_sha256_hex(&config.sha256).ok_or_else(|| KeyConfigError::BadHash(name.clone()))?;
            let bucket =
                (config.requests_per_sec > 0.0).then(|| Mutex::new(Bucket::new(config.requests_per_sec, config.burst)));
            keys.push(KnownKey {
                digest,
                caller: std::sync::Arc::new(Caller {
                    name,
                    endpoints: config.endpoints.iter().copied().collect(),
                    services: config.services.iter().cloned().collect(),
                    bucket,
                }),
            });
        }
        Ok(Self { keys })
    }

    /// The holder of `key`, if it is configured; every hash is compared, each in constant time.
    pub fn authenticate(&self, key: &str) -> Option<std::sync::Arc<Caller>> {
        let presented = sha256(key);
        let mut found = None;
        for known in &self.keys {
            let equal: bool = known.digest.ct_eq(presented.as_slice()).into();
            if equal && found.is_none() {
                found = Some(known.caller.clone());
            }
        }
        found
    }

    /// Whether no key is configured (then every ingest request is refused).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of configured keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticates_by_hash_and_checks_scope() {
        let mut tickets_only = IngestKeyConfig::new("helpdesk", hash_key("k1"));
        tickets_only.endpoints = vec![IngestEndpoint::Tickets];
        let mut apache = IngestKeyConfig::new("apache-shipper", hash_key("k2"));
        apache.services = vec!["apache".into()];
        let store = KeyStore::new(&[tickets_only, apache]).unwrap();
        let helpdesk = store.authenticate("k1").unwrap();
        assert_eq!(helpdesk.name, "helpdesk");
        assert!(helpdesk.may_post(IngestEndpoint::Tickets));
        assert!(!helpdesk.may_post(IngestEndpoint::Logs));
        let shipper = store.authenticate("k2").unwrap();
        assert!(shipper.may_post(IngestEndpoint::Logs) && shipper.may_post(IngestEndpoint::Alerts));
        assert!(shipper.may_send_for("apache"));
        assert!(!shipper.may_send_for("payroll"));
        assert!(store.authenticate("k3").is_none());
        assert!(store.authenticate("").is_none());
    }

    #[test]
    fn refuses_bad_configuration() {
        assert!(matches!(
            KeyStore::new(&[IngestKeyConfig::new("a", "zz")]),
            Err(KeyConfigError::BadHash(_))
        ));
        assert!(matches!(
            KeyStore::new(&[IngestKeyConfig::new("a:b", hash_key("x"))]),
            Err(KeyConfigError::BadName(_))
        ));
        assert!(matches!(
            KeyStore::new(&[
                IngestKeyConfig::new("a", hash_key("x")),
                IngestKeyConfig::new("a", hash_key("y"))
            ]),
            Err(KeyConfigError::Duplicate(_))
        ));
    }

    #[test]
    fn token_bucket_allows_the_burst_then_the_rate() {
        let mut config = IngestKeyConfig::new("a", hash_key("x"));
        config.requests_per_sec = 2.0;
        config.burst = 3;
        let store = KeyStore::new(&[config]).unwrap();
        let caller = store.authenticate("x").unwrap();
        let start = Instant::now();
        let allowed = (0..10).filter(|_| caller.take(start).is_ok()).count();
        assert_eq!(allowed, 3, "the burst, then refused");
        let wait = caller.take(start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // One second later: two more (the rate), not more.
        let later = start + Duration::from_secs(1);
        assert_eq!((0..10).filter(|_| caller.take(later).is_ok()).count(), 2);
    }
}
