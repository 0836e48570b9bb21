//! Credentials never reach a topic in clear: a ticket, a chat message and a malformed item
//! (dead-lettered) that carry a password, an API key and a card number arrive with
//! `<SECRET>` / `<CARD>` in their place, while the personal data beside them arrives as
//! sent (triage needs it and redacts it before any model call).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::selfservice::{Platform, now, signed_post};
use opsline_events::topics;
use secrecy::SecretString;
use serde_json::json;

const PASSWORD: &str = "Canary-Pa55word-7731";
const API_KEY: &str = "sk-canaryABCDEFGHIJKLMNOPQRSTUV0123456789";
const CARD: &str = "4111 1111 1111 1111";
const SECRET: &str = "credentials-webhook-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_masked_on_every_topic_the_gateway_writes() {
    opsline_e2e::init_logs();
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "gw-credentials", |c| {
        c.chat.webhook_secret = Some(SecretString::from(SECRET));
    })
    .await;
    let client = opsline_e2e::gateway::ingest_client();

    let ticket = json!({
        "requester": "alice@example.com",
        "subject": "VPN login fails",
        "description": format!("alice@example.com here, password: {PASSWORD} does not work; card {CARD}"),
        "attributes": {"note": format!("api_key={API_KEY}")}
    });
    let answer = client
        .post(format!("{}/v1/tickets", gateway.url))
        .json(&ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 202, "{:?}", answer.text().await);

    let lines = format!(
        "{}\n{}\n",
        json!({"service": "auth", "line": "login ok user=bob"}),
        // Malformed (unknown field): dead-lettered with its bytes, credentials masked.
        json!({"service": "auth", "line": format!("password={PASSWORD}"), "unexpected": 1}),
    );
    let answer = client
        .post(format!("{}/v1/logs", gateway.url))
        .header("content-type", "application/x-ndjson")
        .body(lines)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{:?}", answer.text().await);

    let chat = json!({"user_id": "U1", "channel_id": "C1", "text": format!("my new password: {PASSWORD} is rejected")});
    let webhook = format!("{}/v1/chat/webhook", gateway.url);
    let body = serde_json::to_vec(&chat).unwrap();
    let (status, _) = signed_post(&webhook, Platform::Webhook, SECRET, now(), "application/json", &body).await;
    assert_eq!(status, 202);

    let names = &gateway.names;
    let wait = Duration::from_secs(60);
    let tickets = opsline_e2e::read_n(&broker.config(), &names.name(&topics::RAW_TICKETS), 1, wait).await;
    let rejected = opsline_e2e::read_n(&broker.config(), &names.name(&topics::INGEST_REJECTED), 1, wait).await;
    let messages = opsline_e2e::read_n(&broker.config(), &names.name(&topics::CHAT_MESSAGES), 1, wait).await;
    for (what, records) in [("ticket", &tickets), ("dead letter", &rejected), ("chat", &messages)] {
        assert_eq!(records.len(), 1, "{what}");
        let payload = String::from_utf8_lossy(records[0].payload_bytes()).into_owned();
        // The dead letter's original bytes are base64: decode before looking.
        let decoded = serde_json::from_str::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| v["data"]["payload_base64"].as_str().map(str::to_owned))
            .map(|b64| {
                use base64::Engine;
                String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).into_owned()
            })
            .unwrap_or_default();
        for text in [&payload, &decoded] {
            for canary in [PASSWORD, API_KEY, CARD, "4111111111111111"] {
                assert!(!text.contains(canary), "{what} holds a credential in clear: {text}");
            }
        }
        assert!(
            payload.contains("<SECRET>") || decoded.contains("<SECRET>"),
            "{what} was not masked: {payload}"
        );
    }
    let ticket_text = String::from_utf8_lossy(tickets[0].payload_bytes()).into_owned();
    assert!(
        ticket_text.contains("alice@example.com"),
        "personal data is kept for triage"
    );
    assert!(ticket_text.contains("<CARD>"));

    let metrics = opsline_e2e::scrape_metrics(&gateway.url).await;
    assert!(metrics.contains("opsline_gateway_masked_values_total"), "{metrics}");
}
