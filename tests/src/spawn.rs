//! `spawn::<S>(config, extras)`: any service, started the one way services start
//! (`opsline_runtime::Application`), on port 0, owned by one test.

use std::time::Duration;

use opsline_events::TopicNames;
use opsline_kafka::{KafkaConfig, KafkaServiceConfig};
use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Application, Readiness, RunError, Service, ServiceConfig, Shutdown};

/// A running service owned by one test; dropping it cancels its shutdown token.
pub struct Spawned<S: Service> {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// What the service shows once built (see `Service::Handle`).
    pub handle: S::Handle,
    /// Its readiness.
    pub readiness: Readiness,
    /// Its topic names.
    pub names: TopicNames,
    /// Its Kafka settings.
    pub kafka: KafkaConfig,
    /// Stops the service when cancelled (also on drop).
    pub shutdown: Shutdown,
    /// The service task.
    pub task: tokio::task::JoinHandle<Result<(), RunError>>,
}

impl<S: Service> Drop for Spawned<S> {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl<S: Service> Spawned<S> {
    /// Stops the service and waits (at most 30 s) for its outcome.
    pub async fn stop(mut self) -> Result<(), RunError> {
        self.shutdown.cancel();
        let task = std::mem::replace(&mut self.task, tokio::spawn(async { Ok(()) }));
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .unwrap_or_else(|_| panic!("{} stops within 30 s", S::NAME))
            .unwrap_or_else(|e| panic!("{} task joins: {e}", S::NAME))
    }

    /// Stops the service abruptly, like a killed process (no drain, no commit, no stop steps).
    pub async fn kill(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async { Ok(()) }));
        task.abort();
        let _ = task.await;
    }

    /// Waits (at most `max`) until `/readyz` would answer 200.
    pub async fn wait_ready(&self, max: Duration) {
        let deadline = tokio::time::Instant::now() + max;
        while !self.readiness.is_ready() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} not ready within {max:?}: {:?}",
                S::NAME,
                self.readiness.state()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Builds service `S` from `config` (bound to port 0) and `extras`, and runs it.
pub async fn spawn<S: Service>(config: S::Config, extras: S::Extras) -> Spawned<S>
where
    S::Config: KafkaServiceConfig,
{
    spawn_on::<S>(config, extras, "127.0.0.1:0").await
}

/// A loopback address with a port that was free a moment ago, for two services that must
/// know each other's URL before both are built (the console and the postmortem pages link to
/// each other): build one with [`spawn_on`] at this address, the other with its URL.
pub fn reserve_loopback() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let address = listener.local_addr().expect("local address");
    address.to_string()
}

/// [`spawn`] on `listen` (`host:port`) instead of port 0.
pub async fn spawn_on<S: Service>(mut config: S::Config, extras: S::Extras, listen: &str) -> Spawned<S>
where
    S::Config: KafkaServiceConfig,
{
    crate::init_logs();
    config.set_listen(listen.to_owned());
    let names = TopicNames::with_prefix(config.topic_prefix().to_owned());
    let kafka = config.kafka().clone();
    let app = Application::<S>::build(config, extras, Metrics::new())
        .await
        .unwrap_or_else(|e| panic!("build {}: {}", S::NAME, opsline_runtime::error::chain(&e)));
    let url = app.local_url();
    let handle = app.handle().clone();
    let readiness = app.readiness();
    let shutdown = Shutdown::new();
    let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    Spawned {
        url,
        handle,
        readiness,
        names,
        kafka,
        shutdown,
        task,
    }
}
