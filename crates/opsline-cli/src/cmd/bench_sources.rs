//! `opsline bench sources`: records per second through each way into the gateway, on one
//! embedded broker: NDJSON, OTLP/HTTP protobuf, OTLP/JSON (gzip), syslog over TCP (octet
//! counting) and UDP (paced at most 100 datagrams a millisecond), and Alertmanager's webhook. A path's time runs from its first send to
//! the last record read back from its topic by a reader placed at the topic's end before the
//! send; UDP reports what arrived (datagrams may drop).

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opsline_events::{TopicNames, topics};
use opsline_gateway::{Gateway, GatewayConfig};
use opsline_kafka::KafkaConfig;
use opsline_kafka::embedded::EmbeddedBroker;
use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Application, Shutdown};
use prost::Message;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::cli::BenchSourcesArgs;

/// One path's numbers.
#[derive(Debug, Serialize)]
struct PathReport {
    path: &'static str,
    sent: usize,
    arrived: usize,
    seconds: f64,
    records_per_s: f64,
}

fn line(i: usize) -> String {
    format!("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_{i} terminating")
}

/// Starts reading what is written to `topic` from now on: returns how many records arrived,
/// until `expected` did or nothing came for 10 s, and when the last one did.
async fn start_reader(
    kafka: &KafkaConfig,
    topic: &str,
    expected: usize,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<(usize, Instant)>>> {
    let ends = opsline_kafka::reader::end_offsets(kafka, topic).await?;
    let (kafka, topic) = (kafka.clone(), topic.to_owned());
    Ok(tokio::spawn(async move {
        let mut last = Instant::now();
        let records = opsline_kafka::reader::read_from(
            &kafka,
            &topic,
            &ends,
            |records| {
                last = Instant::now();
                records.len() >= expected
            },
            Duration::from_secs(10),
            Duration::from_secs(600),
        )
        .await?;
        Ok((records.len(), last))
    }))
}

fn otlp_export(from: usize, to: usize) -> ExportLogsServiceRequest {
    let text = |s: String| AnyValue {
        value: Some(any_value::Value::StringValue(s)),
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(text("hdfs".into())),
                    ..KeyValue::default()
                }],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: (from..to)
                    .map(|i| LogRecord {
                        time_unix_nano: 1_764_979_200_000_000_000 + i as u64,
                        severity_text: "INFO".into(),
                        body: Some(text(line(i))),
                        ..LogRecord::default()
                    })
                    .collect(),
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// Runs every path on a fresh embedded broker and prints the table.
pub async fn run(args: BenchSourcesArgs) -> anyhow::Result<()> {
    let kind = args.broker.kind();
    let dir = std::env::temp_dir().join(format!("opsline-bench-{}", uuid::Uuid::now_v7().simple()));
    let broker = EmbeddedBroker::start(kind, &args.bin_dir, &dir, 0).await?;
    let kafka = broker.config();
    let names = TopicNames::with_prefix("bench.");
    opsline_kafka::admin::create_topics(&kafka, &names.all_to_create()).await?;
    let (key, client) = super::ingest_key::local_ingest_key("bench")?;
    let mut config = GatewayConfig {
        listen: "127.0.0.1:0".to_owned(),
        topic_prefix: "bench.".to_owned(),
        kafka: kafka.clone(),
        keys: vec![key],
        ..GatewayConfig::default()
    };
    config.syslog.tcp = Some("127.0.0.1:0".to_owned());
    config.syslog.udp = Some("127.0.0.1:0".to_owned());
    let app = Application::<Gateway>::build(config, (), Metrics::new()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let syslog = app.handle().syslog;
    let shutdown = Shutdown::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let raw = names.name(&topics::RAW_LOGS);
    let (n, batch) = (args.records, args.batch.max(1));
    let batches: Vec<(usize, usize)> = (0..n).step_by(batch).map(|s| (s, (s + batch).min(n))).collect();
    let mut reports = Vec::new();

    let measure = async |path: &'static str,
                         sent: usize,
                         started: Instant,
                         reader: tokio::task::JoinHandle<anyhow::Result<(usize, Instant)>>| {
        let (count, last) = reader.await??;
        let seconds = last.duration_since(started).as_secs_f64().max(1e-9);
        eprintln!("{path}: {count} of {sent} in {seconds:.2}s");
        anyhow::Ok(PathReport {
            path,
            sent,
            arrived: count,
            seconds,
            records_per_s: count as f64 / seconds,
        })
    };

    eprintln!("NDJSON: {n} records in requests of {batch} ...");
    let reader = start_reader(&kafka, &raw, n).await?;
    let started = Instant::now();
    for (from, to) in &batches {
        let body: String = (*from..*to)
            .map(|i| format!("{{\"service\":\"hdfs\",\"line\":\"{}\"}}\n", line(i)))
            .collect();
        let status = client
            .post(format!("{base}/v1/logs"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await?
            .status();
        anyhow::ensure!(status.as_u16() == 202, "gateway answered {status}");
    }
    reports.push(measure("ndjson", n, started, reader).await?);

    for (path, json) in [("otlp protobuf", false), ("otlp json gzip", true)] {
        eprintln!("{path}: {n} records in exports of {batch} ...");
        let reader = start_reader(&kafka, &raw, n).await?;
        let started = Instant::now();
        for (from, to) in &batches {
            let export = otlp_export(*from, *to);
            let request = if json {
                client
                    .post(format!("{base}/v1/logs"))
                    .header("content-type", "application/json")
                    .header("content-encoding", "gzip")
                    .body(gzip(&serde_json::to_vec(&export)?)?)
            } else {
                client
                    .post(format!("{base}/v1/logs"))
                    .header("content-type", "application/x-protobuf")
                    .body(export.encode_to_vec())
            };
            let status = request.send().await?.status();
            anyhow::ensure!(status.is_success(), "gateway answered {status} to {path}");
        }
        reports.push(measure(path, n, started, reader).await?);
    }

    if let Some(tcp) = syslog.tcp {
        eprintln!("syslog tcp: {n} messages, octet counting ...");
        let reader = start_reader(&kafka, &raw, n).await?;
        let started = Instant::now();
        let mut stream = tokio::net::TcpStream::connect(tcp).await?;
        for (from, to) in &batches {
            let mut chunk = Vec::new();
            for i in *from..*to {
                let message = format!("<134>1 2026-03-10T11:00:00Z node-1 hdfs 42 - - {}", line(i));
                chunk.extend_from_slice(format!("{} {message}", message.len()).as_bytes());
            }
            stream.write_all(&chunk).await?;
        }
        stream.shutdown().await?;
        reports.push(measure("syslog tcp", n, started, reader).await?);
    }
    if let Some(udp) = syslog.udp {
        eprintln!("syslog udp: {n} datagrams ...");
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
        let reader = start_reader(&kafka, &raw, n).await?;
        let started = Instant::now();
        for i in 0..n {
            let message = format!("<134>Mar 10 11:00:00 node-1 hdfs[42]: {}", line(i));
            socket.send_to(message.as_bytes(), udp).await?;
            // Paced like a busy host (at most 100 datagrams a millisecond): unpaced, loopback
            // overruns any receiver's socket buffer and the bench measures the kernel.
            if i % 100 == 99 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        reports.push(measure("syslog udp", n, started, reader).await?);
        let metrics = client.get(format!("{base}/metrics")).send().await?.text().await?;
        let counted: f64 = metrics
            .lines()
            .filter(|l| l.starts_with("opsline_gateway_syslog_dropped_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        eprintln!("syslog udp: the gateway counted {counted} dropped datagrams (the rest of any loss is the kernel's)");
    }

    let alerts = (n / 10).max(1);
    eprintln!("alertmanager: {alerts} alerts in notifications of 100 ...");
    let external = names.name(&topics::EXTERNAL_ALERTS);
    let reader = start_reader(&kafka, &external, alerts).await?;
    let started = Instant::now();
    for from in (0..alerts).step_by(100) {
        let group: Vec<serde_json::Value> = (from..(from + 100).min(alerts))
            .map(|i| {
                serde_json::json!({"status": "firing", "labels": {"alertname": "Load", "service": "hdfs", "instance": format!("node-{i}:9100")},
                    "annotations": {"summary": "load high"}, "startsAt": "2026-03-10T11:00:00Z", "fingerprint": format!("{i:016x}")})
            })
            .collect();
        let body = serde_json::json!({"version": "4", "status": "firing", "alerts": group});
        let status = client
            .post(format!("{base}/v1/alerts/alertmanager"))
            .json(&body)
            .send()
            .await?
            .status();
        anyhow::ensure!(status.as_u16() == 202, "gateway answered {status} to alertmanager");
    }
    reports.push(measure("alertmanager", alerts, started, reader).await?);

    shutdown.cancel();
    server.await??;
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
    if args.json {
        return super::print_json(&reports);
    }
    println!(
        "broker: {}   records per path: {n} (alerts: {alerts})",
        kind.binary_name()
    );
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>12}",
        "path", "sent", "arrived", "seconds", "records/s"
    );
    for r in &reports {
        println!(
            "{:<16} {:>9} {:>9} {:>9.2} {:>12.0}",
            r.path, r.sent, r.arrived, r.seconds, r.records_per_s
        );
    }
    Ok(())
}
