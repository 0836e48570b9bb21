//! The embedded default broker, Tansu with its SQLite engine, always (whatever
//! `OPSLINE_TEST_BROKER` says): its file gets the header index Tansu 0.6.0 lacks (without it a
//! reader of a topic whose records carry headers got nothing once the file held some 20,000
//! records, see `opsline_kafka::embedded_sqlite`), and records with their headers, over several
//! keys and partitions, written before a restart of the broker are read back after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use opsline_events::logs::RawLog;
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::embedded::BrokerKind;
use opsline_kafka::embedded_sqlite::{DB_FILE, has_header_index};
use opsline_kafka::record::EVENT_TYPE_HEADER;
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_runtime::metrics::Metrics;
use uuid::Uuid;

/// Sends `count` raw-log events over four keys; their ids.
async fn send(producer: &Producer, topic: &str, start: usize, count: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(count);
    for i in start..start + count {
        let envelope = Envelope::new(
            "test",
            RawLog {
                line: format!("line {i}"),
                ..RawLog::sample()
            },
        );
        ids.push(envelope.id);
        let record = OutRecord::event(topic.to_owned(), &format!("svc-{}", i % 4), &envelope).unwrap();
        producer.send(&record).await.unwrap();
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headered_records_over_four_keys_survive_a_restart() {
    let mut broker = opsline_e2e::spawn_broker_of(BrokerKind::TansuSqlite).await;
    let file = broker.dir.path().join("tansu").join(DB_FILE);
    assert!(has_header_index(&file).unwrap(), "index added at start");
    let config = broker.config();
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix("sqlite"));
    let raw = names.name(&topics::RAW_LOGS);
    opsline_kafka::admin::create_topics(&config, &[(raw.clone(), topics::RAW_LOGS)])
        .await
        .unwrap();

    let metrics = KafkaMetrics::register(&Metrics::new());
    let before = {
        let producer = Producer::new(&config, &metrics).unwrap();
        send(&producer, &raw, 0, 2_000).await
    };
    broker.broker.restart().await.expect("restart the broker");
    assert!(has_header_index(&file).unwrap(), "index kept across the restart");
    let producer = Producer::new(&config, &metrics).unwrap();
    let after = send(&producer, &raw, 2_000, 2_000).await;

    // The service path (state restore): every partition up to its end, from the beginning.
    let records = opsline_kafka::reader::read_to_end(&config, &raw, Duration::from_secs(120))
        .await
        .unwrap();
    let expected: HashSet<Uuid> = before.into_iter().chain(after).collect();
    let read: HashSet<Uuid> = records
        .iter()
        .map(|r| r.envelope::<RawLog>().expect("raw log envelope").id)
        .collect();
    assert_eq!(read, expected, "every record, written before and after the restart");
    let partitions: HashSet<i32> = records.iter().map(|r| r.partition).collect();
    assert!(partitions.len() > 1, "keys spread over partitions: {partitions:?}");
    assert!(
        records
            .iter()
            .all(|r| r.header(EVENT_TYPE_HEADER).as_deref() == Some(RawLog::TYPE)),
        "every record keeps its headers"
    );
}
