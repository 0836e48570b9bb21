//! `opsline up`: every service in one process, on an embedded broker by default.
//!
//! With `--demo` it replays sample data from the reference folder through the
//! gateway, prints what arrived on each topic, and exits.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use opsline_events::{TopicNames, topics};
use opsline_gateway::{Application, GatewayConfig};
use opsline_kafka::KafkaConfig;
use opsline_kafka::embedded::{BrokerKind, EmbeddedBroker};
use opsline_runtime::metrics::Metrics;
use opsline_runtime::telemetry::TelemetryConfig;
use opsline_runtime::{Shutdown, shutdown, telemetry};
use serde::{Deserialize, Serialize};

use crate::cli::{BrokerChoice, UpArgs};

/// The configuration file of `opsline up`: shared sections plus one per service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpConfig {
    /// Kafka settings shared by every service (the embedded broker overrides the address).
    pub kafka: KafkaConfig,
    /// Prefix of every topic.
    pub topic_prefix: String,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// The ingest gateway (its own `kafka`/`topic_prefix` are replaced by the shared ones).
    pub gateway: GatewayConfig,
}

/// Runs the pipeline until Ctrl-C / SIGTERM, or through the demo.
pub async fn run(args: UpArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let mut config: UpConfig = opsline_runtime::config::load(config_file)?;
    let _telemetry = telemetry::init("opsline", &config.telemetry)?;
    let shutdown = Shutdown::new();
    shutdown::cancel_on_signal(&shutdown);

    let mut broker = None;
    if let Some(bootstrap) = &args.bootstrap {
        config.kafka.bootstrap_servers = bootstrap.clone();
    } else {
        let kind = match args.broker {
            BrokerChoice::Noida => BrokerKind::Noida,
            BrokerChoice::Tansu => BrokerKind::Tansu,
        };
        // The demo starts from an empty broker so that its counts describe this run only.
        let data_dir = if args.demo {
            args.data_dir.join("demo")
        } else {
            args.data_dir.clone()
        };
        if args.demo && data_dir.exists() {
            std::fs::remove_dir_all(&data_dir).with_context(|| format!("cannot clear {}", data_dir.display()))?;
        }
        let started = EmbeddedBroker::start(kind, &args.bin_dir, &data_dir, args.broker_port)
            .await
            .context("cannot start the embedded broker (run scripts/install-brokers.sh, or pass --bootstrap)")?;
        config.kafka.bootstrap_servers = started.bootstrap();
        println!(
            "broker      {} at {} (data in {})",
            kind.binary_name(),
            started.bootstrap(),
            data_dir.display()
        );
        broker = Some(started);
    }
    opsline_kafka::admin::wait_for_broker(&config.kafka, Duration::from_secs(30)).await?;
    let names = TopicNames::with_prefix(config.topic_prefix.clone());
    let created = opsline_kafka::admin::create_topics(&config.kafka, &names.all_to_create()).await?;
    println!(
        "topics      {} ready ({} created now)",
        names.all_to_create().len(),
        created.len()
    );

    let metrics = Metrics::new();
    let gateway_config = GatewayConfig {
        listen: args.listen.clone(),
        kafka: KafkaConfig {
            client_id: "opsline-gateway".to_owned(),
            ..config.kafka.clone()
        },
        topic_prefix: config.topic_prefix.clone(),
        ..config.gateway.clone()
    };
    let gateway = Application::build(gateway_config, metrics.clone()).await?;
    let gateway_url = format!("http://127.0.0.1:{}", gateway.port());
    println!("gateway     {gateway_url}  (POST /v1/logs, POST /v1/tickets; GET /healthz /readyz /metrics)");
    let gateway_task = tokio::spawn(gateway.run_until_stopped(shutdown.clone()));

    let outcome = if args.demo {
        let result = demo(&gateway_url, &args.data, args.demo_tickets, &config.kafka, &names).await;
        shutdown.cancel();
        result
    } else {
        println!("running; Ctrl-C to stop");
        shutdown.cancelled().await;
        Ok(())
    };
    gateway_task.await.context("gateway task")??;
    if let Some(mut broker) = broker {
        broker.stop().await;
    }
    println!("stopped");
    outcome
}

/// Replays sample logs and tickets and prints what arrived where.
async fn demo(
    gateway: &str,
    data: &Path,
    tickets: usize,
    kafka: &KafkaConfig,
    names: &TopicNames,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let loghub = data.join("loghub");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&loghub)
        .with_context(|| format!("reference data not found at {}", loghub.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|dir| {
            let name = dir.file_name()?.to_string_lossy().into_owned();
            let file = dir.join(format!("{name}_2k.log"));
            file.is_file().then_some(file)
        })
        .collect();
    files.sort();
    println!(
        "\n== demo: replaying {} LogHub files and {tickets} tickets through the gateway",
        files.len()
    );
    let logs = super::replay::replay_log_files(gateway, &files, None, 1000).await?;
    let ticket_file = data.join("tickets/topic-train.csv");
    let tickets = super::replay::replay_ticket_file(gateway, &ticket_file, &[], Some(tickets), 100).await?;
    println!(
        "sent        {} log lines ({} accepted, {} rejected)",
        logs.sent, logs.accepted, logs.rejected
    );
    println!(
        "sent        {} tickets ({} accepted, {} rejected)",
        tickets.sent, tickets.accepted, tickets.rejected
    );

    println!("\n== what is on the bus");
    println!("{:<44} {:>9}", "topic", "records");
    for spec in [
        topics::RAW_LOGS,
        topics::RAW_TICKETS,
        topics::INGEST_REJECTED,
        topics::TEMPLATES,
        topics::ALERTS,
        topics::INCIDENTS,
    ] {
        let topic = names.name(&spec);
        let records = opsline_kafka::reader::read_topic(
            kafka,
            &topic,
            |_| false,
            Duration::from_secs(2),
            Duration::from_secs(60),
        )
        .await?;
        println!("{topic:<44} {:>9}", records.len());
    }
    println!("\ndemo finished in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}
