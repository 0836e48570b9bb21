#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode, header};
use axum::routing::post;
use tokio::sync::Semaphore as Gate;
use tower::ServiceExt;

use super::*;
use crate::keys::{IngestKeyConfig, hash_key};

const MIB: usize = 1024 * 1024;

/// The guard in front of a handler that answers 202 once `release` gives it a permit (or at once).
fn router(keys: &[IngestKeyConfig], max_in_flight: usize, release: Option<Arc<Gate>>) -> (Router, Guard) {
    let guard = Guard::new(
        KeyStore::new(keys).unwrap(),
        16 * MIB,
        max_in_flight,
        &opsline_runtime::metrics::Metrics::new(),
    );
    let handler = move |caller: Option<axum::Extension<Arc<Caller>>>| {
        let release = release.clone();
        async move {
            if let Some(release) = release {
                release.acquire().await.unwrap().forget();
            }
            (
                StatusCode::ACCEPTED,
                caller.map(|c| c.0.name.clone()).unwrap_or_default(),
            )
        }
    };
    let router = Router::new()
        .route("/v1/logs", post(handler.clone()))
        .route("/v1/tickets", post(handler.clone()))
        .route("/v1/alerts/alertmanager", post(handler))
        .route_layer(axum::middleware::from_fn_with_state(guard.clone(), super::guard));
    (router, guard)
}

fn request(path: &str, key: Option<&str>, length: usize) -> HttpRequest<Body> {
    let mut builder = HttpRequest::post(path).header(header::CONTENT_LENGTH, length.to_string());
    if let Some(key) = key {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    builder.body(Body::from(vec![b'x'; length])).unwrap()
}

async fn send(router: &Router, request: HttpRequest<Body>) -> (StatusCode, Option<String>, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, retry_after, String::from_utf8_lossy(&body).into_owned())
}

fn unlimited(name: &str, key: &str) -> IngestKeyConfig {
    let mut config = IngestKeyConfig::new(name, hash_key(key));
    config.requests_per_sec = 0.0;
    config
}

#[tokio::test]
async fn ingest_keys_no_key_configured_refuses_every_ingest_request() {
    let (router, _) = router(&[], 64 * MIB, None);
    for path in ["/v1/logs", "/v1/tickets", "/v1/alerts/alertmanager"] {
        let (status, _, body) = send(&router, request(path, Some("anything"), 10)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(body.contains("no_ingest_keys"), "{body}");
    }
}

#[tokio::test]
async fn ingest_keys_bearer_key_is_required_and_scoped_to_endpoints() {
    let mut helpdesk = unlimited("helpdesk", "k-help");
    helpdesk.endpoints = vec![IngestEndpoint::Tickets];
    let (router, guard) = router(&[unlimited("shipper", "k-ship"), helpdesk], 64 * MIB, None);
    assert_eq!(
        send(&router, request("/v1/logs", None, 10)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&router, request("/v1/logs", Some("wrong"), 10)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, name) = send(&router, request("/v1/logs", Some("k-ship"), 10)).await;
    assert_eq!((status, name.as_str()), (StatusCode::ACCEPTED, "shipper"));
    // The key as the password of basic auth (senders without bearer tokens).
    let mut basic = request("/v1/logs", None, 10);
    basic
        .headers_mut()
        .insert(header::AUTHORIZATION, "Basic Z3JhZmFuYTprLXNoaXA=".parse().unwrap());
    assert_eq!(send(&router, basic).await.0, StatusCode::ACCEPTED, "grafana:k-ship");
    let (status, _, body) = send(&router, request("/v1/logs", Some("k-help"), 10)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, name) = send(&router, request("/v1/tickets", Some("k-help"), 10)).await;
    assert_eq!((status, name.as_str()), (StatusCode::ACCEPTED, "helpdesk"));
    let refused = guard
        .refused
        .get_or_create(&RefusalLabel {
            endpoint: "logs",
            reason: "unauthorized",
        })
        .get();
    assert_eq!(refused, 2);
    let helpdesk_tickets = guard
        .by_key
        .get_or_create(&KeyLabel {
            key: "helpdesk".into(),
            endpoint: "tickets",
        })
        .get();
    assert_eq!(helpdesk_tickets, 1, "requests are counted per source");
}

#[tokio::test]
async fn ingest_keys_rate_limit_per_key_answers_429_with_retry_after() {
    let mut slow = IngestKeyConfig::new("slow", hash_key("k-slow"));
    slow.requests_per_sec = 0.5;
    slow.burst = 5;
    let (router, _) = router(&[slow, unlimited("other", "k-other")], 64 * MIB, None);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let (status, retry_after, _) = send(&router, request("/v1/logs", Some("k-slow"), 10)).await;
        statuses.push((status, retry_after));
    }
    let accepted = statuses.iter().filter(|(s, _)| *s == StatusCode::ACCEPTED).count();
    let limited: Vec<_> = statuses
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    // 0.5 a second: at most one refill however slow the machine is, so 5 or 6 pass.
    assert!((5..=6).contains(&accepted), "{statuses:?}");
    assert_eq!(accepted + limited.len(), 20);
    assert!(limited.iter().all(|(_, retry)| retry.is_some()), "{statuses:?}");
    // Another key has its own bucket.
    assert_eq!(
        send(&router, request("/v1/logs", Some("k-other"), 10)).await.0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn ingest_keys_in_flight_body_limit_answers_503_instead_of_holding_every_body() {
    let release = Arc::new(Gate::new(0));
    let (router, guard) = router(&[unlimited("shipper", "k")], 40 * MIB, Some(release.clone()));
    // 60 parallel 16 MiB requests: two fit in 40 MiB, the others are refused at once.
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move { send(&router, request("/v1/logs", Some("k"), 16 * MIB)).await })
        })
        .collect();
    // Wait until every request is either held by the handler or answered.
    let mut refused = 0;
    while refused < 58 {
        tokio::task::yield_now().await;
        refused = guard
            .refused
            .get_or_create(&RefusalLabel {
                endpoint: "logs",
                reason: "overloaded",
            })
            .get();
    }
    assert_eq!(guard.in_flight_bytes.get(), 32 * MIB as i64);
    release.add_permits(60);
    let mut counts = std::collections::BTreeMap::new();
    for task in tasks {
        let (status, retry_after, _) = task.await.unwrap();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(retry_after.as_deref(), Some("1"));
        }
        *counts.entry(status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(counts, std::collections::BTreeMap::from([(202, 2), (503, 58)]));
    assert_eq!(guard.in_flight_bytes.get(), 0, "released once answered");
}
