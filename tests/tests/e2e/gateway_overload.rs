//! A full producer queue makes the gateway answer 503 without losing what it acknowledged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_events::logs::RawLog;
use opsline_events::topics;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_503_and_keeps_what_it_acknowledged() {
    let mut broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "overload", |c| {
        c.kafka.queue_buffering_max_messages = 20;
        // Records stuck in the queue fail after this long, which bounds how long the request waits.
        c.kafka.message_timeout_ms = 8_000;
        c.queue_wait_ms = 200;
    })
    .await;
    let client = opsline_e2e::gateway::ingest_client();
    let body: String = (0..10)
        .map(|i| format!("{{\"service\":\"svc\",\"line\":\"before {i}\"}}\n"))
        .collect();
    let ok = client
        .post(format!("{}/v1/logs", gateway.url))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 202);
    let acknowledged: Value = ok.json().await.unwrap();

    // With the broker gone nothing can be delivered, so the small queue fills up.
    broker.broker.stop().await;
    let body: String = (0..100)
        .map(|i| format!("{{\"service\":\"svc\",\"line\":\"during {i}\"}}\n"))
        .collect();
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        client
            .post(format!("{}/v1/logs", gateway.url))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send(),
    );
    // The request waits for what it enqueued (delivered after the restart, or failed after
    // message.timeout.ms where the broker cannot come back with its data), then answers 503.
    let restart = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        if broker.broker.kind().is_persistent() {
            broker.broker.restart().await.unwrap();
        }
    };
    let (response, ()) = tokio::join!(answer, restart);
    let response = response.expect("answered within 60 s").unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["error"], "overloaded", "{json}");
    assert!(json["retry_from_item"].as_u64().unwrap() >= 1);

    if broker.broker.kind().is_persistent() {
        // What was acknowledged before the outage is still there.
        let raw = gateway.names.name(&topics::RAW_LOGS);
        let records = opsline_e2e::read_n(&gateway.kafka, &raw, 10, Duration::from_secs(60)).await;
        let ids: Vec<String> = records
            .iter()
            .map(|r| r.envelope::<RawLog>().unwrap().id.to_string())
            .collect();
        for id in acknowledged["ids"].as_array().unwrap() {
            assert!(ids.contains(&id.as_str().unwrap().to_owned()), "acknowledged {id} lost");
        }
    }
}
