//! The Kafka runtime against a real broker: produce, consume with the loop,
//! dead letters for bad records, and commits that survive a restart of the loop.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::relay::Relay;
use opsline_events::logs::RawLog;
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{ConsumerLoop, KafkaConfig, KafkaMetrics, OutRecord, Producer};
use opsline_runtime::Shutdown;
use opsline_runtime::metrics::Metrics;

/// Creates the topics of a fresh prefix plus a copy of its raw-log topic; returns the raw-log
/// topic (the loop's input) and the copy (its output).
async fn relay_topics(config: &KafkaConfig, prefix: &str) -> (String, String) {
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix(prefix));
    let input = names.name(&topics::RAW_LOGS);
    let output = format!("{input}.copy");
    let mut specs = names.all_to_create();
    specs.push((output.clone(), topics::RAW_LOGS));
    opsline_kafka::admin::create_topics(config, &specs).await.unwrap();
    (input, output)
}

/// Publishes `line` as a raw log of service `svc` on `topic`.
async fn send_line(producer: &Producer, topic: &str, line: String) {
    let env = Envelope::new(
        "test",
        RawLog {
            line,
            ..RawLog::sample()
        },
    );
    producer
        .send(&OutRecord::event(topic.to_owned(), "svc", &env).unwrap())
        .await
        .unwrap();
}

/// The loop of group `<input>.group` reading `input`, named `name`.
fn input_loop(
    config: &KafkaConfig,
    input: &str,
    producer: &Producer,
    metrics: &KafkaMetrics,
    name: &str,
) -> ConsumerLoop {
    ConsumerLoop::new(
        config,
        &format!("{input}.group"),
        vec![input.to_owned()],
        producer.clone(),
        metrics,
        name,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_with_dead_letters_and_resume() {
    let broker = opsline_e2e::spawn_broker().await;
    let config = broker.config();
    let (input, output) = relay_topics(&config, "relay").await;

    let metrics = KafkaMetrics::register(&Metrics::new());
    let producer = Producer::new(&config, &metrics).unwrap();
    for i in 0..200 {
        send_line(&producer, &input, format!("line {i}")).await;
        if i % 50 == 0 {
            producer
                .send(&OutRecord::new(input.clone(), Some("svc"), b"{not json".to_vec()))
                .await
                .unwrap();
        }
    }

    let start_relay = |shutdown: Shutdown| {
        let run = input_loop(&config, &input, &producer, &metrics, "relay-test")
            .run(Relay { output: output.clone() }, shutdown);
        tokio::spawn(run)
    };

    // First run: stop after part of the input.
    let shutdown = Shutdown::new();
    let handle = start_relay(shutdown.clone());
    let first = opsline_e2e::read_n(&config, &output, 50, Duration::from_secs(60)).await;
    assert!(first.len() >= 50);
    shutdown.cancel();
    let stats = handle.await.unwrap().unwrap();
    assert!(stats.consumed >= 50);

    // Second run resumes from the committed offsets.
    let shutdown = Shutdown::new();
    let handle = start_relay(shutdown.clone());
    let all = opsline_e2e::read_n(&config, &output, 200, Duration::from_secs(90)).await;
    let dead = opsline_e2e::read_n(&config, &TopicNames::dead_letter(&input), 4, Duration::from_secs(30)).await;
    shutdown.cancel();
    let second = handle.await.unwrap().unwrap();

    let mut seen: Vec<_> = all.iter().map(|r| r.envelope::<RawLog>().unwrap().id).collect();
    let total_copies = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 200, "every input arrives (copies: {total_copies})");
    // The second run did not start from zero: at-least-once with few duplicates.
    assert!(
        second.consumed < 204,
        "second run re-read everything: {}",
        second.consumed
    );
    assert_eq!(dead.len(), 4);
    let letter = dead[0].envelope::<opsline_events::ops::DeadLetter>().unwrap();
    assert_eq!(letter.data.error_code, "invalid_event");
    assert_eq!(letter.data.payload_base64, "e25vdCBqc29u");
}

/// Copies raw logs like [`Relay`], but a line saying `huge` becomes an output larger than the
/// producer's `message.max.bytes` (librdkafka refuses it at once: a permanent error).
struct Inflating {
    relay: Relay,
}

impl opsline_kafka::Processor for Inflating {
    async fn process(
        &mut self,
        record: &opsline_kafka::InRecord,
    ) -> Result<Vec<OutRecord>, opsline_kafka::ProcessError> {
        let mut outputs = self.relay.process(record).await?;
        let huge = record.envelope::<RawLog>().is_ok_and(|e| e.data.line.contains("huge"));
        if huge {
            outputs.push(OutRecord::new(
                self.relay.output.clone(),
                Some("svc"),
                vec![b'x'; 2_000_000],
            ));
        }
        Ok(outputs)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_produce_errors_are_dead_letters() {
    let broker = opsline_e2e::spawn_broker().await;
    let config = broker.config();
    let (input, output) = relay_topics(&config, "refused").await;

    let metrics = KafkaMetrics::register(&Metrics::new());
    let producer = Producer::new(&config, &metrics).unwrap();
    for i in 0..30 {
        let line = if i == 10 {
            "a huge output".to_owned()
        } else {
            format!("line {i}")
        };
        send_line(&producer, &input, line).await;
    }

    let shutdown = Shutdown::new();
    let run = input_loop(&config, &input, &producer, &metrics, "refused-test").run(
        Inflating {
            relay: Relay { output: output.clone() },
        },
        shutdown.clone(),
    );
    let handle = tokio::spawn(run);
    // Every input's copy arrives, those after the refused output included: the loop went on.
    let copies = opsline_e2e::read_n(&config, &output, 30, Duration::from_secs(60)).await;
    let dead = opsline_e2e::read_n(&config, &TopicNames::dead_letter(&input), 1, Duration::from_secs(30)).await;
    assert!(!handle.is_finished(), "the loop stopped on a refused output");
    shutdown.cancel();
    let stats = handle.await.unwrap().unwrap();

    let lines: Vec<_> = copies
        .iter()
        .filter_map(|r| r.envelope::<RawLog>().ok())
        .map(|e| e.data.line)
        .collect();
    assert!(lines.iter().any(|l| l == "line 29"), "{lines:?}");
    assert_eq!(dead.len(), 1);
    let letter = dead[0].envelope::<opsline_events::ops::DeadLetter>().unwrap();
    assert_eq!(letter.data.error_code, "output_rejected");
    assert!(letter.data.reason.contains("refused"), "{}", letter.data.reason);
    assert_eq!(letter.data.offset, Some(10));
    assert!(stats.consumed >= 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_restore_reads_to_the_end_offsets_captured_at_start() {
    let broker = opsline_e2e::spawn_broker().await;
    let config = broker.config();
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix("restore"));
    let state = names.name(&topics::LOGINTEL_STATE);
    opsline_kafka::admin::create_topics(&config, &names.all_to_create())
        .await
        .unwrap();
    let metrics = KafkaMetrics::register(&Metrics::new());
    let producer = Producer::new(&config, &metrics).unwrap();
    let mut pending = Vec::new();
    for i in 0..3_000 {
        let record = OutRecord::new(state.clone(), Some(&format!("svc-{i}")), format!("{i}").into_bytes());
        pending.push(
            producer
                .enqueue_waiting(&record, Duration::from_secs(30))
                .await
                .unwrap(),
        );
    }
    for delivery in pending {
        delivery.wait().await.unwrap();
    }

    // Records keep arriving while the restore reads: it still reads everything written before it
    // started, and stops once the writer pauses.
    let writer = {
        let (producer, state) = (producer.clone(), state.clone());
        tokio::spawn(async move {
            for i in 3_000..4_000 {
                let record = OutRecord::new(state.clone(), Some(&format!("svc-{i}")), format!("{i}").into_bytes());
                producer.send(&record).await.unwrap();
            }
        })
    };
    let records = opsline_kafka::reader::read_to_end(&config, &state, Duration::from_secs(120))
        .await
        .unwrap();
    writer.await.unwrap();
    let mut values: Vec<u32> = records
        .iter()
        .map(|r| String::from_utf8_lossy(r.payload_bytes()).parse().unwrap())
        .collect();
    values.sort_unstable();
    values.dedup();
    assert!(
        values.len() >= 3_000 && values.len() <= 4_000,
        "{} records",
        values.len()
    );
    assert_eq!(
        values[..3_000],
        (0..3_000).collect::<Vec<u32>>()[..],
        "every record written before the restore"
    );

    // Ends not reached in time: an error that says so, not a silent partial state.
    let error = opsline_kafka::reader::read_to_end(&config, &state, Duration::ZERO)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not read to its end"), "{error}");
}

/// A loop asked to stop after its broker died stops: its last commit is bounded by the drain
/// timeout. (librdkafka waits for a synchronous commit's answer without limit: with the broker
/// gone, a stopping service never stopped; in CI that hung the whole end-to-end binary.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_stops_when_its_broker_is_gone() {
    let mut broker = opsline_e2e::spawn_broker().await;
    let mut config = broker.config();
    config.drain_timeout_ms = 3_000;
    // Nothing is committed before the stop: the last commit has offsets to send.
    config.commit_interval_ms = 3_600_000;
    let (input, output) = relay_topics(&config, "brokergone").await;
    let metrics = KafkaMetrics::register(&Metrics::new());
    let producer = Producer::new(&config, &metrics).unwrap();
    for i in 0..20 {
        send_line(&producer, &input, format!("line {i}")).await;
    }
    let shutdown = Shutdown::new();
    let run = input_loop(&config, &input, &producer, &metrics, "broker-gone-test")
        .run(Relay { output: output.clone() }, shutdown.clone());
    let handle = tokio::spawn(run);
    let copies = opsline_e2e::read_n(&config, &output, 20, Duration::from_secs(60)).await;
    assert_eq!(copies.len(), 20);

    broker.broker.stop().await;
    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(120), handle).await;
    assert!(stopped.is_ok(), "the loop did not stop without its broker");
}
