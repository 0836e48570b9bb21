//! The Kafka of `opsline up`: the one given with `--bootstrap`, or an embedded broker.

use std::time::Duration;

use anyhow::Context;
use opsline_kafka::KafkaConfig;
use opsline_kafka::embedded::{BrokerKind, EmbeddedBroker};

use crate::cli::{BrokerChoice, UpArgs};

/// Points `kafka` at the broker to use, starting the embedded one unless `--bootstrap`
/// names another (then `None`), and waits until it answers.
pub async fn start(kafka: &mut KafkaConfig, args: &UpArgs) -> anyhow::Result<Option<EmbeddedBroker>> {
    let mut started = None;
    if let Some(bootstrap) = &args.bootstrap {
        kafka.bootstrap_servers = bootstrap.clone();
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
        let broker = EmbeddedBroker::start(kind, &args.bin_dir, &data_dir, args.broker_port)
            .await
            .context("cannot start the embedded broker (run scripts/install-brokers.sh, or pass --bootstrap)")?;
        kafka.bootstrap_servers = broker.bootstrap();
        println!(
            "broker      {} at {} (data in {})",
            kind.binary_name(),
            broker.bootstrap(),
            data_dir.display()
        );
        started = Some(broker);
    }
    opsline_kafka::admin::wait_for_broker(kafka, Duration::from_secs(30))
        .await
        .with_context(|| format!("no Kafka answers at {}", kafka.bootstrap_servers))?;
    Ok(started)
}
