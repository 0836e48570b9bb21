//! A consumer process for crash tests: `opsline-e2e-relay BOOTSTRAP INPUT OUTPUT GROUP`.
//! Runs the real consumer loop with [`opsline_e2e::relay::Relay`] until SIGTERM (or SIGKILL).

use opsline_kafka::{ConsumerLoop, KafkaConfig, KafkaMetrics, Producer};
use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Shutdown, shutdown};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bootstrap, input, output, group] = args.as_slice() else {
        return Err("usage: opsline-e2e-relay BOOTSTRAP INPUT OUTPUT GROUP".into());
    };
    opsline_e2e::init_logs();
    let config = KafkaConfig::with_bootstrap(bootstrap.clone());
    let metrics = KafkaMetrics::register(&Metrics::new());
    let producer = Producer::new(&config, &metrics)?;
    let stop = Shutdown::new();
    shutdown::cancel_on_signal(&stop);
    let relay = opsline_e2e::relay::Relay { output: output.clone() };
    ConsumerLoop::new(&config, group, vec![input.clone()], producer, &metrics, "e2e-relay")
        .run(relay, stop)
        .await?;
    Ok(())
}
