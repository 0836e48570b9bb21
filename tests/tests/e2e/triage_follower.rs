//! The group-less `TopicFollower` behind triage's incident book (and self-service's
//! status): it reads what a topic held before it started, picks up a topic created
//! after it started, and leaves no consumer group on the broker.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsline_e2e::{spawn_broker, unique_prefix};
use opsline_events::logs::{Alert, Incident};
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer, TopicFollower};
use opsline_runtime::Shutdown;
use opsline_runtime::metrics::Metrics;

async fn wait_for(seen: &Arc<Mutex<Vec<String>>>, topic: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !seen.lock().unwrap().iter().any(|t| t == topic) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: nothing read from {topic}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_reads_from_the_beginning_and_picks_up_later_topics_without_a_group() {
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = TopicNames::with_prefix(unique_prefix("follower"));
    let incidents = names.name(&topics::INCIDENTS);
    let alerts = names.name(&topics::ALERTS);
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();

    // The incidents topic holds a record before the follower starts; alerts does not exist yet.
    opsline_kafka::admin::create_topics(&kafka, &names.to_create_among(&[&incidents], &[]))
        .await
        .unwrap();
    let incident = Incident::sample();
    let key = incident.incident_id.to_string();
    let record = OutRecord::event(incidents.clone(), &key, &Envelope::new("test", incident)).unwrap();
    producer.send(&record).await.unwrap();

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let follower = TopicFollower::new(
        &kafka,
        vec![incidents.clone(), alerts.clone()],
        &KafkaMetrics::register(&Metrics::new()),
    );
    let shutdown = Shutdown::new();
    let sink = seen.clone();
    let task = tokio::spawn(follower.run(
        move |record| sink.lock().unwrap().push(record.topic.clone()),
        shutdown.clone(),
    ));
    wait_for(&seen, &incidents, "a record written before the start").await;

    opsline_kafka::admin::create_topics(&kafka, &names.to_create_among(&[&alerts], &[]))
        .await
        .unwrap();
    let alert = Alert::sample();
    let record = OutRecord::event(alerts.clone(), &alert.service, &Envelope::new("test", alert.clone())).unwrap();
    producer.send(&record).await.unwrap();
    wait_for(&seen, &alerts, "a topic created after the start").await;

    let groups = opsline_kafka::admin::list_groups(&kafka).await.unwrap();
    assert!(groups.is_empty(), "the follower joins no group: {groups:?}");
    shutdown.cancel();
    let applied = task.await.unwrap().unwrap();
    assert_eq!(applied, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_is_caught_up_only_once_it_read_what_the_topic_held_at_start() {
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = TopicNames::with_prefix(unique_prefix("caughtup"));
    let incidents = names.name(&topics::INCIDENTS);
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    opsline_kafka::admin::create_topics(&kafka, &names.to_create_among(&[&incidents], &[]))
        .await
        .unwrap();
    const HELD: u64 = 50;
    for n in 0..HELD {
        let mut incident = Incident::sample();
        incident.incident_id = uuid::Uuid::from_u128(u128::from(n) + 1);
        let key = incident.incident_id.to_string();
        let record = OutRecord::event(incidents.clone(), &key, &Envelope::new("test", incident)).unwrap();
        producer.send(&record).await.unwrap();
    }

    let readiness = opsline_runtime::Readiness::default();
    let condition = readiness.condition("incidents caught up");
    let follower = TopicFollower::new(
        &kafka,
        vec![incidents.clone()],
        &KafkaMetrics::register(&Metrics::new()),
    )
    .caught_up_when(condition.clone());
    // The first record is held until the test has seen the follower not caught up.
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let applied = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = applied.clone();
    let shutdown = Shutdown::new();
    let task = tokio::spawn(follower.run(
        move |_| {
            if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                let _ = gate.recv();
            }
        },
        shutdown.clone(),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while applied.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "nothing read");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!condition.is_met(), "one record of {HELD} read: not caught up");
    assert!(!readiness.is_ready());
    release.send(()).unwrap();
    while !condition.is_met() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never caught up: {:?}",
            readiness.state()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        applied.load(std::sync::atomic::Ordering::SeqCst),
        HELD,
        "caught up means every record held at start was applied"
    );
    assert!(readiness.is_ready());
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
