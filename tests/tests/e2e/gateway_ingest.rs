//! The gateway against a real broker: 100,000 lines arrive exactly once after
//! dedup, a consumer process killed mid-stream loses nothing, a broker restart
//! loses nothing (persistent broker), and a noida-db/Tansu difference is never
//! relied upon.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_events::logs::RawLog;
use opsline_events::{TopicNames, topics};
use uuid::Uuid;

const LINES: usize = 100_000;

/// Posts lines `start..start + count`, spread over four services (so over partitions).
async fn post_numbered_lines(url: &str, service: &str, start: usize, count: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(count);
    for part in 0..4 {
        let lines: Vec<String> = (start..start + count)
            .filter(|i| i % 4 == part)
            .map(|i| format!("081109 203615 148 INFO dfs.DataNode: line {i}"))
            .collect();
        ids.extend(post_lines(url, &format!("{service}-{part}"), &lines).await);
    }
    ids
}

fn ids_of(records: &[opsline_kafka::InRecord]) -> HashSet<Uuid> {
    records
        .iter()
        .map(|r| r.envelope::<RawLog>().expect("raw log envelope").id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_lines_survive_a_killed_consumer() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "ingest100k", |_| {}).await;
    let raw = gateway.names.name(&topics::RAW_LOGS);
    let copy = format!("{raw}.copy");
    opsline_kafka::admin::create_topics(&gateway.kafka, &[(copy.clone(), topics::RAW_LOGS)])
        .await
        .unwrap();
    let group = format!("{raw}.relay");
    let relay = env!("CARGO_BIN_EXE_opsline-e2e-relay");
    let spawn_relay = || {
        tokio::process::Command::new(relay)
            .args([&broker.broker.bootstrap(), &raw, &copy, &group])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn relay")
    };

    let mut consumer = spawn_relay();
    let posted = post_numbered_lines(&gateway.url, "hdfs", 0, LINES).await;
    assert_eq!(posted.len(), LINES);
    let unique: HashSet<Uuid> = posted.iter().copied().collect();
    assert_eq!(unique.len(), LINES, "ids are unique");

    // Every accepted line is in the raw topic, exactly once after dedup by id.
    let in_raw = opsline_e2e::read_n(&gateway.kafka, &raw, LINES, Duration::from_secs(180)).await;
    assert_eq!(ids_of(&in_raw), unique, "raw topic holds exactly the accepted ids");

    // Kill the consumer in the middle of the stream (SIGKILL where the broker evicts
    // dead members; noida-db never does, so there it gets SIGTERM), then restart it.
    let partial = opsline_e2e::read_n(&gateway.kafka, &copy, LINES / 3, Duration::from_secs(120)).await;
    assert!(partial.len() >= LINES / 3, "relay made progress: {}", partial.len());
    if opsline_e2e::broker_kind().evicts_dead_members() {
        consumer.kill().await.unwrap();
    } else {
        let pid = consumer.id().unwrap().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        consumer.wait().await.unwrap();
    }
    let mut consumer = spawn_relay();
    let mut seen = HashSet::new();
    let copied = opsline_kafka::reader::read_topic(
        &gateway.kafka,
        &copy,
        // Called after each new record: look at the newest only.
        |records| {
            if let Some(last) = records.last() {
                seen.insert(last.envelope::<RawLog>().map(|e| e.id).ok());
            }
            seen.len() >= LINES
        },
        Duration::from_secs(60),
        Duration::from_secs(300),
    )
    .await
    .unwrap();
    consumer.kill().await.unwrap();
    let copied_ids = ids_of(&copied);
    assert_eq!(
        copied_ids.len(),
        LINES,
        "nothing lost across the kill ({} copies)",
        copied.len()
    );
    assert_eq!(copied_ids, unique);
    eprintln!(
        "copies: {} for {} lines ({} duplicates replayed)",
        copied.len(),
        LINES,
        copied.len() - LINES
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_loses_nothing() {
    let mut broker = opsline_e2e::spawn_broker().await;
    if !broker.broker.kind().is_persistent() {
        eprintln!("skipped: {:?} keeps data in memory only", broker.broker.kind());
        return;
    }
    let kafka = broker.config();
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix("restart"));
    let raw = names.name(&topics::RAW_LOGS);
    let before = {
        let gateway = spawn_gateway(kafka.clone(), "restart", |c| c.topic_prefix = names.prefix.clone()).await;
        post_numbered_lines(&gateway.url, "svc", 0, 5_000).await
    };
    broker.broker.restart().await.expect("restart broker");
    let gateway = spawn_gateway(kafka.clone(), "restart", |c| c.topic_prefix = names.prefix.clone()).await;
    let after = post_numbered_lines(&gateway.url, "svc", 5_000, 5_000).await;
    let expected: HashSet<Uuid> = before.into_iter().chain(after).collect();
    let records = opsline_e2e::read_n(&kafka, &raw, expected.len(), Duration::from_secs(120)).await;
    assert_eq!(
        ids_of(&records),
        expected,
        "all acknowledged lines survive the broker restart"
    );
}
