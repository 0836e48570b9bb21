//! Adversarial input for the log service against a real broker: empty, very
//! long (600 kB: a 1 MB line does not fit the broker's default record limit
//! inside its envelope; the in-process tests feed 1 MB), binary-looking and
//! number-only lines are mined without crashing; records that are not raw-log
//! envelopes go to the dead-letter topic; normal lines after them are processed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::spawn::spawn;
use opsline_events::logs::{RawLog, TemplateEvent};
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_logintel::processor::lock;
use opsline_logintel::{Logintel, LogintelConfig};
use opsline_runtime::metrics::Metrics;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adversarial_lines_neither_crash_nor_poison() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "liadv", |_| {}).await;
    let raw = gateway.names.name(&topics::RAW_LOGS);
    let producer = Producer::new(&gateway.kafka, &KafkaMetrics::register(&Metrics::new())).expect("producer");
    let service = "weird";
    let mut lines: Vec<String> = vec![
        String::new(),
        "a".repeat(600_000),
        String::from_utf8_lossy(&(0..=255u8).collect::<Vec<u8>>()).into_owned(),
        String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]).into_owned(),
        "1234567890 42 3.14 -7 0x1f 99999999999999999999".to_owned(),
        "\u{202e}\u{0}\u{7}\u{1b}[31m".to_owned(),
        "9999-99-99 99:99:99 ERROR x: y password=hunter2".to_owned(),
    ];
    for i in 0..50 {
        lines.push(format!(
            "081109 2036{:02} 148 INFO dfs.DataNode: Receiving block blk_{i} src /10.0.0.{}",
            i % 60,
            i % 7
        ));
    }
    let mut sent = 0;
    for (i, line) in lines.iter().enumerate() {
        let data = RawLog {
            service: service.into(),
            source: "adv".into(),
            line: line.clone(),
            timestamp: None,
            attributes: Default::default(),
        };
        let record = OutRecord::event(raw.clone(), service, &Envelope::new("test", data)).expect("encode");
        producer.send(&record).await.expect("send");
        sent += 1;
        if i == 3 {
            // Poison candidates between the lines: not JSON, JSON of the wrong type, empty.
            for payload in [
                vec![0xff, 0x00, 0x13],
                br#"{"type":"ticket.raw","data":{}}"#.to_vec(),
                Vec::new(),
            ] {
                producer
                    .send(&OutRecord::new(raw.clone(), Some(service), payload))
                    .await
                    .expect("send poison");
            }
        }
    }
    let config = LogintelConfig {
        topic_prefix: gateway.names.prefix.clone(),
        group_id: format!("{}logintel", gateway.names.prefix),
        kafka: gateway.kafka.clone(),
        ..LogintelConfig::default()
    };
    let running = spawn::<Logintel>(config, ()).await;
    let (url, shared) = (running.url.clone(), running.handle.clone());

    let dlq = TopicNames::dead_letter(&raw);
    let dead = opsline_e2e::read_n(&gateway.kafka, &dlq, 3, Duration::from_secs(60)).await;
    assert_eq!(
        dead.len(),
        3,
        "the three records that are not raw-log envelopes are dead-lettered"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while lock(&shared).engine.totals().lines_in < sent as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "stuck at {:?}",
            lock(&shared).engine.totals()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let templates = opsline_kafka::reader::read_topic(
        &gateway.kafka,
        &gateway.names.name(&topics::TEMPLATES),
        |_| false,
        Duration::from_secs(3),
        Duration::from_secs(30),
    )
    .await
    .expect("read templates");
    let texts: Vec<String> = templates
        .iter()
        .map(|r| r.envelope::<TemplateEvent>().expect("template").data.template)
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("Receiving block")),
        "normal lines still mined: {texts:?}"
    );
    let health = reqwest::get(format!("{url}/healthz")).await.expect("healthz");
    assert_eq!(health.status(), 200);
    let stats: serde_json::Value = reqwest::get(format!("{url}/v1/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["lines_in"], sent);
    running.stop().await.expect("clean stop");
    eprintln!(
        "adversarial: {sent} lines mined, 3 dead letters, {} template records",
        templates.len()
    );
}
