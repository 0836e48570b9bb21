//! Scale-out and failure (#16 item 12): two replicas of the log service share the raw-log
//! partitions; one is killed with SIGKILL in the middle of the stream. The survivor takes its
//! partitions over, continues from their written state, and after dedup by id the alerts are
//! exactly those of one uninterrupted in-process run: nothing lost, nothing extra.
//!
//! Tansu only: noida-db never evicts a dead group member, so a killed replica's partitions
//! would never move (the test says so and passes without checking anything else there).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_e2e::replica::Replica;
use opsline_events::logs::{Alert, LogOffset};
use opsline_events::topics;
use opsline_kafka::KafkaConfig;
use opsline_logintel::labelled::read_labelled;
use opsline_logintel::state::ServiceSnapshot;
use opsline_logintel::{Engine, LineInput, LogintelConfig};
use uuid::Uuid;

const SYSTEMS: [&str; 6] = ["BGL", "HDFS", "Zookeeper", "Linux", "Apache", "Spark"];

/// One log-service replica in its own process.
fn replica(kafka: &KafkaConfig, prefix: &str) -> Replica {
    let settings = [
        ("OPSLINE_TOPIC_PREFIX", prefix.to_owned()),
        ("OPSLINE_GROUP_ID", format!("{prefix}logintel")),
        ("OPSLINE_ADVANCE_IDLE_CLOCK", "false".to_owned()),
        ("OPSLINE_SNAPSHOT_EVERY_LINES", "150".to_owned()),
        ("OPSLINE_SNAPSHOT_INTERVAL_MS", "300".to_owned()),
        ("OPSLINE_TICK_INTERVAL_MS", "100".to_owned()),
    ];
    Replica::start(env!("CARGO_BIN_EXE_opsline-e2e-service"), "logintel", kafka, &settings)
}

/// The lines of a LogHub sample as a shipper sends them (BGL's label column masked, as in
/// the other log-service tests).
fn lines_of(system: &str) -> Vec<String> {
    let path = opsline_e2e::shared_data().join(format!("loghub/{system}/{system}_2k.log"));
    if system == "BGL" {
        return read_labelled(&path).expect("read loghub file").lines;
    }
    let text = std::fs::read_to_string(&path).expect("read loghub file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Alert ids of one uninterrupted in-process run of `lines` as `service`.
fn reference_alerts(lines: &[String], service: &str) -> HashSet<Uuid> {
    let mut engine = Engine::new(LogintelConfig::default().engine_config()).expect("engine");
    let mut ids = HashSet::new();
    // Year-less headers (syslog) take the year of their ingestion, as through the gateway.
    let now = Some(jiff::Timestamp::now());
    for (index, line) in lines.iter().enumerate() {
        let input = LineInput {
            service,
            line: line.as_bytes(),
            fallback_time: now,
            ingested_at: now,
            evidence: LogOffset {
                topic: "ref".into(),
                partition: 0,
                offset: index as i64,
            },
            host: None,
        };
        ids.extend(engine.ingest(&input).expect("ingest").alerts.iter().map(|a| a.alert_id));
    }
    ids
}

/// Waits until the written state of every service reflects `lines` lines of it.
async fn wait_for_written_state(kafka: &KafkaConfig, state: &str, want: &BTreeMap<String, usize>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let records = opsline_kafka::reader::read_to_end(kafka, state, Duration::from_secs(60))
            .await
            .expect("read state");
        let mut lines = BTreeMap::new();
        for record in &records {
            if let Ok(snapshot) = ServiceSnapshot::from_json(record.payload_bytes()) {
                lines.insert(snapshot.service.clone(), snapshot.detector.lines);
            }
        }
        let done = want
            .iter()
            .all(|(service, n)| lines.get(service).is_some_and(|got| *got as usize >= *n));
        if done {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "written state {lines:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_partitions_and_a_sigkill_loses_nothing() {
    if !opsline_e2e::broker_kind().hands_over_dead_members_partitions() {
        eprintln!(
            "skipped: this broker never hands a killed member's partitions to the survivor (run with OPSLINE_TEST_BROKER=tansu)"
        );
        return;
    }
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "scaleout", |_| {}).await;
    let prefix = gateway.names.prefix.clone();
    let kafka = gateway.kafka.clone();
    let state = gateway.names.name(&topics::LOGINTEL_STATE);
    let systems: Vec<(String, Vec<String>)> = SYSTEMS.iter().map(|s| (s.to_lowercase(), lines_of(s))).collect();

    let first = replica(&kafka, &prefix);
    first.wait_ready().await;
    let second = replica(&kafka, &prefix);
    second.wait_ready().await;

    // The first half of every service, shared by the two replicas.
    let mut half = BTreeMap::new();
    for (service, lines) in &systems {
        post_lines(&gateway.url, service, &lines[..lines.len() / 2]).await;
        half.insert(service.clone(), lines.len() / 2);
    }
    wait_for_written_state(&kafka, &state, &half).await;
    // Mid-stream: more lines in flight as one replica dies.
    for (service, lines) in &systems {
        post_lines(&gateway.url, service, &lines[lines.len() / 2..lines.len() * 3 / 4]).await;
    }
    first.sigkill();
    for (service, lines) in &systems {
        post_lines(&gateway.url, service, &lines[lines.len() * 3 / 4..]).await;
    }
    let all: BTreeMap<String, usize> = systems.iter().map(|(s, l)| (s.clone(), l.len())).collect();
    wait_for_written_state(&kafka, &state, &all).await;
    second.sigterm();

    let records =
        opsline_kafka::reader::read_to_end(&kafka, &gateway.names.name(&topics::ALERTS), Duration::from_secs(60))
            .await
            .expect("read alerts");
    let mut by_service: BTreeMap<String, HashSet<Uuid>> = BTreeMap::new();
    for record in &records {
        let alert: Alert = record.envelope::<Alert>().expect("alert envelope").data;
        by_service
            .entry(alert.service.clone())
            .or_default()
            .insert(alert.alert_id);
    }
    let mut checked = 0;
    for (service, lines) in &systems {
        let expected = reference_alerts(lines, service);
        let got = by_service.remove(service).unwrap_or_default();
        eprintln!(
            "{service}: {} alert ids through two replicas and a SIGKILL, {} in one uninterrupted run",
            got.len(),
            expected.len()
        );
        let lost: Vec<_> = expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&expected).collect();
        assert!(
            lost.is_empty() && extra.is_empty(),
            "{service}: lost {lost:?}, extra {extra:?}"
        );
        checked += expected.len();
    }
    let alerting = systems
        .iter()
        .filter(|(s, l)| !reference_alerts(l, s).is_empty())
        .count();
    assert!(
        alerting >= 4,
        "most services raise alerts ({alerting} do): the handover is exercised"
    );
    eprintln!(
        "{} records on the alerts topic for {checked} distinct alerts",
        records.len()
    );
}
