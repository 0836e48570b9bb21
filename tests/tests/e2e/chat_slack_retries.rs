//! Chat (#16 item 5): Slack retries an event it saw no answer to, with the same `event_id`, a
//! new signature and `X-Slack-Retry-Num`. A retry of an event already published is answered
//! 200 and produces no second record; its envelope id is derived from the event id, so a retry
//! that reaches another replica carries the same id and self-service drops it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::selfservice::{now, sign, slack_dm};
use opsline_e2e::spawn_broker;
use opsline_events::topics;
use secrecy::SecretString;
use serde_json::{Value, json};

const SLACK_SECRET: &str = "retries-slack-secret";

async fn deliver(url: &str, body: &[u8], at: i64, retry: Option<u32>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-slack-signature", sign(SLACK_SECRET, at, body))
        .header("x-slack-request-timestamp", at.to_string())
        .body(body.to_vec());
    if let Some(n) = retry {
        request = request
            .header("x-slack-retry-num", n.to_string())
            .header("x-slack-retry-reason", "http_timeout");
    }
    let response = request.send().await.expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_retries_of_a_published_event_are_acknowledged_and_not_published_again() {
    let broker = spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "slackretry", |c| {
        c.chat.slack_signing_secret = Some(SecretString::from(SLACK_SECRET));
    })
    .await;
    let url = format!("{}/v1/chat/slack", gateway.url);
    let t = now();

    let first = slack_dm("Ev0RETRY1", "what is the status of my ticket");
    let (status, answer) = deliver(&url, &first, t, None).await;
    assert_eq!((status, &answer["ok"]), (200, &json!(true)), "{answer}");
    for retry in 1..=3 {
        let (status, answer) = deliver(&url, &first, t + i64::from(retry), Some(retry)).await;
        assert_eq!(status, 200, "retry {retry}: {answer}");
        assert_eq!(answer["duplicate"], json!(true), "retry {retry}: {answer}");
    }
    let second = slack_dm("Ev0RETRY2", "is the vpn down");
    let (status, _) = deliver(&url, &second, t + 5, None).await;
    assert_eq!(status, 200);

    let topic = gateway.names.name(&topics::CHAT_MESSAGES);
    let records =
        opsline_kafka::reader::read_until_idle(&gateway.kafka, &topic, Duration::from_secs(3), Duration::from_secs(60))
            .await
            .unwrap();
    assert_eq!(records.len(), 2, "one record per event, none for the retries");
    let ids: HashSet<String> = records
        .iter()
        .map(|r| serde_json::from_slice::<Value>(r.payload_bytes()).unwrap()["id"].to_string())
        .collect();
    assert_eq!(ids.len(), 2);
}
