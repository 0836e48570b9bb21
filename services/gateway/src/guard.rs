//! What every ingest request passes before its handler reads the body: the source's key
//! ([`crate::keys`]), the key's endpoints, the key's rate limit, and the gateway's budget of
//! request bodies in flight.
//!
//! | refusal | status | when |
//! |---|---|---|
//! | `no_ingest_keys` | 401 | the gateway has no key configured (said at start-up too) |
//! | `unauthorized` | 401 | no bearer key, or not a configured one |
//! | `forbidden_endpoint` | 403 | the key is not allowed this endpoint |
//! | `rate_limited` | 429 + `Retry-After` | the key's token bucket is empty |
//! | `overloaded` | 503 + `Retry-After` | the bodies in flight would pass `max_in_flight_bytes` |
//!
//! The in-flight budget is reserved before the body is read and held until the answer: the
//! declared `Content-Length` (capped at `max_body_bytes`), or `max_body_bytes` when the length
//! is not declared or the body is gzip (it may decode to that much). So 60 parallel 16 MiB
//! requests get a few 202s and the rest a 503 to retry, instead of a gateway holding 1 GiB.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use opsline_runtime::http::json_error;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::Semaphore;

use crate::keys::{Caller, IngestEndpoint, KeyStore};

/// Label of the refused-requests counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RefusalLabel {
    pub(crate) endpoint: &'static str,
    pub(crate) reason: &'static str,
}

/// Label of the per-key counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KeyLabel {
    pub(crate) key: String,
    pub(crate) endpoint: &'static str,
}

/// The guard's state: keys, budget and counters.
#[derive(Clone)]
pub(crate) struct Guard {
    keys: Arc<KeyStore>,
    in_flight: Arc<Semaphore>,
    max_body_bytes: usize,
    max_in_flight_bytes: usize,
    refused: Family<RefusalLabel, Counter>,
    by_key: Family<KeyLabel, Counter>,
    in_flight_bytes: Gauge,
}

impl Guard {
    /// A guard over `keys`, with `max_in_flight_bytes` of bodies at once.
    pub(crate) fn new(
        keys: KeyStore,
        max_body_bytes: usize,
        max_in_flight_bytes: usize,
        metrics: &opsline_runtime::metrics::Metrics,
    ) -> Self {
        let refused = Family::<RefusalLabel, Counter>::default();
        let in_flight_bytes = Gauge::default();
        let by_key = Family::<KeyLabel, Counter>::default();
        metrics.register(
            "gateway_key_requests",
            "Ingest requests let through, by key (source) and endpoint.",
            by_key.clone(),
        );
        metrics.register(
            "gateway_ingest_refused",
            "Ingest requests refused before their body was read, by endpoint and reason.",
            refused.clone(),
        );
        metrics.register(
            "gateway_in_flight_body_bytes",
            "Request body bytes reserved by ingest requests being handled.",
            in_flight_bytes.clone(),
        );
        let permits = max_in_flight_bytes.min(Semaphore::MAX_PERMITS);
        Self {
            keys: Arc::new(keys),
            in_flight: Arc::new(Semaphore::new(permits)),
            max_body_bytes,
            max_in_flight_bytes: permits,
            refused,
            by_key,
            in_flight_bytes,
        }
    }

    fn refuse(&self, endpoint: IngestEndpoint, status: StatusCode, reason: &'static str, text: String) -> Response {
        self.refused
            .get_or_create(&RefusalLabel {
                endpoint: endpoint.name(),
                reason,
            })
            .inc();
        json_error(status, reason, text)
    }

    /// The bytes a request reserves in the in-flight budget.
    fn reservation(&self, request: &Request) -> usize {
        let headers = request.headers();
        let gzip = headers
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("identity"));
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        match declared {
            Some(length) if !gzip => length.min(self.max_body_bytes),
            _ => self.max_body_bytes,
        }
        .clamp(1, self.max_in_flight_bytes.max(1))
    }
}

fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The middleware: authenticates, checks the endpoint and the rate, reserves the body's
/// bytes, and hands the [`Caller`] to the handler as a request extension.
pub(crate) async fn guard(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let Some(endpoint) = IngestEndpoint::of_path(request.uri().path()) else {
        return next.run(request).await;
    };
    if guard.keys.is_empty() {
        return guard.refuse(
            endpoint,
            StatusCode::UNAUTHORIZED,
            "no_ingest_keys",
            "this gateway has no ingest key configured ([[gateway.keys]]); it refuses every ingest request".to_owned(),
        );
    }
    let caller: Option<Arc<Caller>> = presented_key(&request).and_then(|key| guard.keys.authenticate(&key));
    let Some(caller) = caller else {
        return guard.refuse(
            endpoint,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <key>` with an ingest key configured in [[gateway.keys]]".to_owned(),
        );
    };
    if !caller.may_post(endpoint) {
        return guard.refuse(
            endpoint,
            StatusCode::FORBIDDEN,
            "forbidden_endpoint",
            format!("ingest key `{}` may not post to {}", caller.name, endpoint.name()),
        );
    }
    if let Err(wait) = caller.take(Instant::now()) {
        let response = guard.refuse(
            endpoint,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("ingest key `{}` is over its rate limit; retry later", caller.name),
        );
        return with_retry_after(response, wait.as_secs_f64().ceil() as u64);
    }
    let bytes = guard.reservation(&request);
    let permit = u32::try_from(bytes)
        .ok()
        .and_then(|n| guard.in_flight.clone().try_acquire_many_owned(n).ok());
    let Some(permit) = permit else {
        let response = guard.refuse(
            endpoint,
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many request bodies in flight; retry later".to_owned(),
        );
        return with_retry_after(response, 1);
    };
    let _reserved = Reserved::new(permit, guard.in_flight_bytes.clone(), bytes);
    guard
        .by_key
        .get_or_create(&KeyLabel {
            key: caller.name.clone(),
            endpoint: endpoint.name(),
        })
        .inc();
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Bytes held in the budget until the answer (or until the request is dropped: a timeout, a
/// client gone).
struct Reserved {
    _permit: tokio::sync::OwnedSemaphorePermit,
    gauge: Gauge,
    bytes: i64,
}

impl Reserved {
    fn new(permit: tokio::sync::OwnedSemaphorePermit, gauge: Gauge, bytes: usize) -> Self {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        gauge.inc_by(bytes);
        Self {
            _permit: permit,
            gauge,
            bytes,
        }
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.gauge.dec_by(self.bytes);
    }
}

/// The key of a request: `Authorization: Bearer <key>`, or the password of `Basic` auth (for
/// senders that only do basic auth, such as Grafana's Alertmanager contact point).
fn presented_key(request: &Request) -> Option<String> {
    use base64::Engine;
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(credentials.trim().to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, password)| password.to_owned())
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
