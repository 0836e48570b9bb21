//! `opsline bench pipeline`: gateway -> Kafka -> consumer throughput and latency,
//! beside the raw broker ceiling (producer -> Kafka -> consumer, same record size).
//!
//! Latency of a record = the time a reader receives it minus the time its sender
//! stamped in it (the client, before the HTTP request, for the gateway path).

use std::time::{Duration, Instant};

use opsline_events::logs::RawLog;
use opsline_events::{TopicNames, topics};
use opsline_gateway::{Gateway, GatewayConfig};
use opsline_kafka::embedded::EmbeddedBroker;
use opsline_kafka::{InRecord, KafkaConfig, KafkaMetrics, OutRecord, Producer};
use opsline_runtime::Application;
use opsline_runtime::Shutdown;
use opsline_runtime::metrics::Metrics;
use serde::Serialize;

use crate::cli::BenchPipelineArgs;

/// Numbers of one path.
#[derive(Debug, Serialize)]
struct PathReport {
    records: usize,
    seconds: f64,
    records_per_s: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    broker: &'static str,
    raw_broker: PathReport,
    gateway_pipeline: PathReport,
}

fn now_us() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Reads `count` records from `topic`, timing each arrival against the stamp `sent_us` extracts.
async fn timed_read(
    kafka: KafkaConfig,
    topic: String,
    count: usize,
    sent_us: fn(&InRecord) -> Option<i64>,
) -> anyhow::Result<(Vec<f64>, Instant)> {
    let mut latencies = Vec::with_capacity(count);
    let mut last = Instant::now();
    opsline_kafka::reader::read_topic(
        &kafka,
        &topic,
        |records| {
            if let Some(record) = records.last() {
                if let Some(sent) = sent_us(record) {
                    latencies.push((now_us() - sent) as f64 / 1000.0);
                }
                last = Instant::now();
            }
            records.len() >= count
        },
        Duration::from_secs(30),
        Duration::from_secs(600),
    )
    .await?;
    latencies.sort_by(f64::total_cmp);
    Ok((latencies, last))
}

fn report(records: usize, started: Instant, finished: Instant, latencies: &[f64]) -> PathReport {
    let seconds = finished.duration_since(started).as_secs_f64().max(1e-9);
    PathReport {
        records: latencies.len(),
        seconds,
        records_per_s: records as f64 / seconds,
        latency_p50_ms: percentile(latencies, 50.0),
        latency_p99_ms: percentile(latencies, 99.0),
    }
}

fn line(i: usize) -> String {
    format!("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_{i} terminating")
}

/// Runs both measurements on a fresh embedded broker.
pub async fn run(args: BenchPipelineArgs) -> anyhow::Result<()> {
    let kind = args.broker.kind();
    let dir = std::env::temp_dir().join(format!("opsline-bench-{}", uuid::Uuid::now_v7().simple()));
    let broker = EmbeddedBroker::start(kind, &args.bin_dir, &dir, 0).await?;
    let kafka = broker.config();
    let names = TopicNames::with_prefix("bench.");
    let raw_topic = "bench.raw-ceiling".to_owned();
    let mut specs = names.all_to_create();
    specs.push((raw_topic.clone(), topics::RAW_LOGS));
    opsline_kafka::admin::create_topics(&kafka, &specs).await?;
    let n = args.records;

    // 1. Raw ceiling: the same payload size through our producer, no gateway.
    eprintln!("raw broker ceiling: {n} records ...");
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new()))?;
    let reader = tokio::spawn(timed_read(kafka.clone(), raw_topic.clone(), n, |r| {
        serde_json::from_slice::<serde_json::Value>(r.payload_bytes()).ok()?["sent_us"].as_i64()
    }));
    let started = Instant::now();
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let payload = serde_json::json!({"sent_us": now_us(), "service": "hdfs", "line": line(i)});
        let record = OutRecord::new(raw_topic.clone(), Some("hdfs"), serde_json::to_vec(&payload)?);
        pending.push(producer.enqueue_waiting(&record, Duration::from_secs(30)).await?);
    }
    for delivery in pending {
        delivery.wait().await?;
    }
    let (latencies, finished) = reader.await??;
    let raw = report(n, started, finished, &latencies);

    // 2. The gateway path: HTTP NDJSON -> gateway -> Kafka -> reader.
    eprintln!(
        "gateway pipeline: {n} records in batches of {} x {} concurrent ...",
        args.batch, args.concurrency
    );
    let shutdown = Shutdown::new();
    let (key, client) = super::ingest_key::local_ingest_key("bench")?;
    let gateway_config = GatewayConfig {
        listen: "127.0.0.1:0".to_owned(),
        topic_prefix: "bench.".to_owned(),
        kafka: kafka.clone(),
        keys: vec![key],
        ..GatewayConfig::default()
    };
    let app = Application::<Gateway>::build(gateway_config, (), Metrics::new()).await?;
    let url = format!("http://127.0.0.1:{}/v1/logs", app.port());
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let reader = tokio::spawn(timed_read(kafka.clone(), names.name(&topics::RAW_LOGS), n, |r| {
        r.envelope::<RawLog>()
            .ok()?
            .data
            .attributes
            .get("sent_us")?
            .parse()
            .ok()
    }));
    let started = Instant::now();
    let batches: Vec<(usize, usize)> = (0..n)
        .step_by(args.batch.max(1))
        .map(|s| (s, (s + args.batch.max(1)).min(n)))
        .collect();
    for group in batches.chunks(args.concurrency.max(1)) {
        let requests = group.iter().map(|(from, to)| {
            let body: String = (*from..*to)
                .map(|i| {
                    format!(
                        "{{\"service\":\"hdfs\",\"line\":\"{}\",\"attributes\":{{\"sent_us\":\"{}\"}}}}\n",
                        line(i),
                        now_us()
                    )
                })
                .collect();
            client
                .post(&url)
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
        });
        for response in futures::future::join_all(requests).await {
            let status = response?.status();
            anyhow::ensure!(status.as_u16() == 202, "gateway answered {status}");
        }
    }
    let (latencies, finished) = reader.await??;
    let gateway = report(n, started, finished, &latencies);
    shutdown.cancel();
    server.await??;
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);

    let report = Report {
        broker: kind.binary_name(),
        raw_broker: raw,
        gateway_pipeline: gateway,
    };
    if args.json {
        return super::print_json(&report);
    }
    println!("broker: {}   records: {n}", report.broker);
    println!(
        "{:<22} {:>12} {:>10} {:>12} {:>12}",
        "path", "records/s", "seconds", "p50 ms", "p99 ms"
    );
    for (name, r) in [
        ("raw broker (ceiling)", &report.raw_broker),
        ("gateway -> consumer", &report.gateway_pipeline),
    ] {
        println!(
            "{name:<22} {:>12.0} {:>10.2} {:>12.1} {:>12.1}",
            r.records_per_s, r.seconds, r.latency_p50_ms, r.latency_p99_ms
        );
    }
    Ok(())
}
