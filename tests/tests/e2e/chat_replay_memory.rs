//! Hardening issue, item 5: replay memory shared across replicas and restarts. Slack re-sends
//! an event it saw no answer to; when the retry reaches another gateway replica (or a restarted
//! one), it is published again with the same envelope id (derived from Slack's `event_id`).
//! A self-service replica that restarted since, or took the partition over from another, reads
//! back the ids handled before its resume position and drops the retry: one code is sent, not
//! two. Real broker, two gateways, self-service (stopped and started again) and slapd.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::ldap::spawn_ldap;
use opsline_e2e::selfservice::{Platform, now, signed_post, slack_dm, spawn_recorder, spawn_selfservice};
use opsline_e2e::{scrape_metrics, spawn_broker};
use opsline_events::topics;
use secrecy::SecretString;
use serde_json::Value;

const SLACK_SECRET: &str = "replay-slack-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slack_retry_through_another_gateway_after_a_restart_is_not_acted_on_again() {
    let broker = spawn_broker().await;
    let ldap = spawn_ldap();
    let recorder = spawn_recorder().await;
    let slack_secret = || Some(SecretString::from(SLACK_SECRET));
    let first_gateway = spawn_gateway(broker.config(), "ssreplay", |c| {
        c.chat.slack_signing_secret = slack_secret()
    })
    .await;
    let names = first_gateway.names.clone();
    let replies = format!("{}/replies", recorder.url);
    let (service, notifier) = spawn_selfservice(broker.config(), &names, &ldap, &replies, |_| {}).await;

    // Alice asks for a reset: one code is sent and she is told so.
    let reset = slack_dm("Ev0REPLAY1", "I forgot my password, please reset it");
    let at = now();
    let slack = |gateway: &str| format!("{gateway}/v1/chat/slack");
    let (status, answer) = signed_post(
        &slack(&first_gateway.url),
        Platform::Slack,
        SLACK_SECRET,
        at,
        "application/json",
        &reset,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let texts = recorder.wait_texts(0, Duration::from_secs(60)).await;
    assert!(texts[0].contains("one-time code"), "{texts:?}");
    assert_eq!(notifier.sent().len(), 1);

    // Self-service restarts (a deploy); Slack's retry of the event reaches another gateway.
    service.stop().await.expect("graceful stop");
    let second_gateway = spawn_gateway(broker.config(), "ssreplay2", |c| {
        c.chat.slack_signing_secret = slack_secret();
        c.topic_prefix = names.prefix.clone();
    })
    .await;
    let retry = reqwest::Client::new()
        .post(slack(&second_gateway.url))
        .header("content-type", "application/json")
        .header(
            "x-slack-signature",
            opsline_e2e::selfservice::sign(SLACK_SECRET, at + 60, &reset),
        )
        .header("x-slack-request-timestamp", (at + 60).to_string())
        .header("x-slack-retry-num", "1")
        .header("x-slack-retry-reason", "http_timeout")
        .body(reset.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status().as_u16(), 200);
    let status_question = slack_dm("Ev0REPLAY2", "what is the status of my ticket");
    let (status, _) = signed_post(
        &slack(&second_gateway.url),
        Platform::Slack,
        SLACK_SECRET,
        at + 61,
        "application/json",
        &status_question,
    )
    .await;
    assert_eq!(status, 200);
    let topic = names.name(&topics::CHAT_MESSAGES);
    let records = opsline_kafka::reader::read_until_idle(
        &broker.config(),
        &topic,
        Duration::from_secs(3),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let ids: Vec<String> = records
        .iter()
        .map(|r| serde_json::from_slice::<Value>(r.payload_bytes()).unwrap()["id"].to_string())
        .collect();
    assert_eq!(
        (ids.len(), ids.iter().collect::<HashSet<_>>().len()),
        (3, 2),
        "the retry was published again by the other gateway, with the original's id"
    );

    // The restarted service answers the next message, and drops the retry before it (same
    // user, same partition: the retry is handled first).
    let (restarted, restarted_notifier) = spawn_selfservice(broker.config(), &names, &ldap, &replies, |_| {}).await;
    recorder.wait_texts(1, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let texts = recorder.texts();
    assert_eq!(
        texts.len(),
        2,
        "one answer to the status question, none to the retry: {texts:?}"
    );
    assert!(!texts[1].contains("one-time code"), "{texts:?}");
    assert!(
        restarted_notifier.sent().is_empty(),
        "the retry sent alice a second code: {:?}",
        restarted_notifier.sent()
    );
    let metrics = scrape_metrics(&restarted.url).await;
    assert!(
        metrics.contains("opsline_selfservice_replayed_messages_total 1"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("selfservice_re"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
