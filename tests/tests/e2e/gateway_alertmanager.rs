//! Prometheus Alertmanager's webhook into the gateway, from a real Alertmanager (Debian's
//! `prometheus-alertmanager`) with its bearer token: an alert posted to its API fires, then
//! resolves, and both reach the external alerts topic with the same `alert_id`, mapped; a
//! wrong token is refused with 401 and a payload of another version with 400.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::alertmanager::spawn_alertmanager;
use opsline_e2e::gateway::spawn_gateway;
use opsline_events::external::{ExternalAlert, ExternalAlertStatus};
use opsline_events::logs::Severity;
use opsline_events::topics;
use serde_json::json;
use sha2::{Digest, Sha256};

const TOKEN: &str = "am-test-token-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_alerts_fire_and_resolve_through_the_gateway() {
    let broker = opsline_e2e::spawn_broker().await;
    let hash: String = Sha256::digest(TOKEN.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let gateway = spawn_gateway(broker.config(), "alertmanager", |config| {
        config.alertmanager.bearer_sha256 = vec![hash];
    })
    .await;
    let webhook = format!("{}/v1/alerts/alertmanager", gateway.url);
    let alertmanager = spawn_alertmanager(&webhook, Some(TOKEN)).await;

    let labels =
        json!({"alertname": "HighErrorRate", "service": "checkout", "severity": "critical", "instance": "web-3:9100"});
    let annotations = json!({"summary": "5xx above 5% for 5 minutes"});
    let started = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_mins(2))
        .unwrap();
    let starts_at = started.to_string();
    alertmanager
        .post(labels.clone(), annotations.clone(), &starts_at, None)
        .await;

    let topic = gateway.names.name(&topics::EXTERNAL_ALERTS);
    let firing = opsline_e2e::read_n(&gateway.kafka, &topic, 1, Duration::from_secs(60)).await;
    let first = firing[0].envelope::<ExternalAlert>().unwrap().data;
    assert_eq!(first.status, ExternalAlertStatus::Firing);
    assert_eq!(first.service, "checkout");
    assert_eq!(first.name, "HighErrorRate");
    assert_eq!(first.severity, Severity::Critical);
    assert_eq!(first.summary, "5xx above 5% for 5 minutes");
    assert_eq!(first.host.as_deref(), Some("web-3"));
    assert_eq!(first.source, "alertmanager");
    assert_eq!(first.starts_at.as_second(), started.as_second());
    assert!(
        first
            .generator_url
            .as_deref()
            .unwrap_or_default()
            .contains("prometheus.example")
    );
    assert!(!first.fingerprint.is_empty());

    let ended = jiff::Timestamp::now().to_string();
    alertmanager.post(labels, annotations, &starts_at, Some(&ended)).await;
    let both = opsline_e2e::read_n(&gateway.kafka, &topic, 2, Duration::from_secs(60)).await;
    let resolved = both
        .iter()
        .map(|r| r.envelope::<ExternalAlert>().unwrap().data)
        .find(|a| a.status == ExternalAlertStatus::Resolved)
        .expect("a resolved record");
    assert_eq!(resolved.alert_id, first.alert_id);
    assert_eq!(resolved.fingerprint, first.fingerprint);
    assert!(resolved.ends_at.is_some());

    // Without the token, or with another payload version: refused, with the reason.
    let client = reqwest::Client::new();
    let body = json!({"version": "4", "status": "firing", "alerts": []});
    let anonymous = client.post(&webhook).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    // `bearer_sha256` is an ingest key allowed only this endpoint.
    let logs = client
        .post(format!("{}/v1/logs", gateway.url))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-ndjson")
        .body("{\"service\":\"checkout\",\"line\":\"x\"}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(logs.status(), 403);
    let old = client
        .post(&webhook)
        .bearer_auth(TOKEN)
        .json(&json!({"version": "3", "alerts": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 400);
    let reason: serde_json::Value = old.json().await.unwrap();
    assert!(reason["reason"].as_str().unwrap().contains("version"), "{reason}");
}
