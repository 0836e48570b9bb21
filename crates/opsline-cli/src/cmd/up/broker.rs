//! The Kafka of `opsline up`: the one given with `--bootstrap`, or an embedded broker.

use std::time::Duration;

use anyhow::Context;
use opsline_kafka::KafkaConfig;
use opsline_kafka::embedded::EmbeddedBroker;

use crate::cli::UpArgs;

/// How long consumers' fetches wait on the embedded broker unless configured
/// (`kafka.fetch_wait_max_ms`). Tansu answers an empty fetch only when the wait ends, so every
/// idle consumer costs it one request per wait (with librdkafka's 500 ms, a Tansu build with
/// SQLite storage took 11.7% of a core idle, with 5 s 2.7 to 3.8%: `opsline bench idle`). The
/// price: on Tansu a record reaching an idle consumer waits up to this long per hop. noida-db
/// answers every fetch at once, so the setting changes nothing there.
pub const EMBEDDED_FETCH_WAIT_MS: u32 = 5_000;

/// Partitions of each topic `opsline up` creates on its embedded broker unless configured
/// (`kafka.topic_partitions`): one process runs one member of each group, so more partitions
/// add no parallelism, while Tansu re-reads every partition a waiting fetch asks for, several
/// times per wait (`opsline bench idle`, README "Idle pipeline").
pub const EMBEDDED_TOPIC_PARTITIONS: i32 = 1;

/// Points `kafka` at the broker to use, starting the embedded one unless `--bootstrap`
/// names another (then `None`), and waits until it answers.
pub async fn start(kafka: &mut KafkaConfig, args: &UpArgs) -> anyhow::Result<Option<EmbeddedBroker>> {
    let mut started = None;
    if let Some(bootstrap) = &args.bootstrap {
        kafka.bootstrap_servers = bootstrap.clone();
    } else {
        let kind = args.broker.kind();
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
            .context(
                "cannot start the embedded broker (run scripts/setup.sh, or pass --bootstrap or another --broker)",
            )?;
        kafka.bootstrap_servers = broker.bootstrap();
        kafka.fetch_wait_max_ms.get_or_insert(EMBEDDED_FETCH_WAIT_MS);
        kafka.topic_partitions.get_or_insert(EMBEDDED_TOPIC_PARTITIONS);
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
