//! Test helpers for Opsline's end-to-end tests.
//!
//! Each test starts its own broker on a free port (`spawn_broker`) and the services it
//! needs with `spawn::spawn::<S>(config, extras)` on port 0 under its own topic prefix
//! (`spawn_gateway` and friends build those configurations), so tests never share state. The broker is chosen by
//! `OPSLINE_TEST_BROKER` (`noida`, the default, `tansu` or `tansu-sqlite`); CI runs the suite
//! once per broker so that Opsline depends on the Kafka protocol, not on one broker.

// Test-support crate: failing loudly (expect) is the right behaviour here.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod alertmanager;
pub mod chromium;
pub mod console;
pub mod gateway;
pub mod kafka_tls;
pub mod ldap;
pub mod llm;
pub mod postmortem;
pub mod receiver;
pub mod relay;
pub mod replica;
pub mod rt;
pub mod selfservice;
pub mod session;
pub mod spawn;

use std::path::PathBuf;
use std::time::Duration;

use opsline_kafka::KafkaConfig;
use opsline_kafka::embedded::{BrokerKind, EmbeddedBroker};
use opsline_kafka::record::InRecord;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared reference data folder (`../shared/data` beside the repo).
pub fn shared_data() -> PathBuf {
    std::env::var_os("OPSLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"))
}

/// The broker kind selected by `OPSLINE_TEST_BROKER`.
pub fn broker_kind() -> BrokerKind {
    std::env::var("OPSLINE_TEST_BROKER")
        .ok()
        .and_then(|v| BrokerKind::parse(&v))
        .unwrap_or(BrokerKind::Noida)
}

/// A broker owned by one test, with its temporary data directory.
pub struct TestBroker {
    /// The broker process.
    pub broker: EmbeddedBroker,
    /// Keeps the data directory alive.
    pub dir: tempfile::TempDir,
}

impl TestBroker {
    /// Client settings for this broker.
    pub fn config(&self) -> KafkaConfig {
        self.broker.config()
    }

    /// The consumer groups the broker holds. On Tansu with SQLite they are read from its file:
    /// librdkafka's listing sends DescribeGroups, which that engine fails for every existing
    /// group (see `opsline_kafka::embedded_sqlite`).
    pub async fn group_names(&self) -> Vec<String> {
        match self.broker.sqlite_file() {
            Some(file) => opsline_kafka::embedded_sqlite::group_names(&file).expect("groups in the SQLite file"),
            None => opsline_kafka::admin::list_groups(&self.config())
                .await
                .expect("list groups"),
        }
    }
}

/// Starts the selected broker on a free port.
pub async fn spawn_broker() -> TestBroker {
    spawn_broker_of(broker_kind()).await
}

/// Starts a broker of `kind` on a free port, whatever `OPSLINE_TEST_BROKER` says.
pub async fn spawn_broker_of(kind: BrokerKind) -> TestBroker {
    init_logs();
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = std::env::var_os("OPSLINE_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".opsline/bin"));
    let broker = EmbeddedBroker::start(kind, &bin, dir.path(), 0)
        .await
        .expect("start broker (run scripts/install-brokers.sh and scripts/install-kafka-tls.sh)");
    TestBroker { broker, dir }
}

/// A unique topic prefix for one test.
pub fn unique_prefix(test: &str) -> String {
    format!("t{}.{test}.", &uuid::Uuid::now_v7().simple().to_string()[20..])
}

/// Installs a test log subscriber once (respects `RUST_LOG`).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
}

/// Reads `topic` until `count` records arrived (or `max_wait` passed).
pub async fn read_n(config: &KafkaConfig, topic: &str, count: usize, max_wait: Duration) -> Vec<InRecord> {
    opsline_kafka::reader::read_topic(config, topic, |r| r.len() >= count, Duration::from_secs(20), max_wait)
        .await
        .expect("read topic")
}

/// The Prometheus text a service serves at `<base_url>/metrics`.
pub async fn scrape_metrics(base_url: &str) -> String {
    reqwest::get(format!("{base_url}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body")
}

/// Latest value per key of an event topic (read from the beginning until it is idle).
pub async fn latest<T: opsline_events::Event, K: Ord>(
    kafka: &KafkaConfig,
    topic: &str,
    key: impl Fn(&T) -> K,
) -> std::collections::BTreeMap<K, T> {
    let records = opsline_kafka::reader::read_until_idle(kafka, topic, Duration::from_secs(2), Duration::from_secs(60))
        .await
        .expect("read");
    records
        .iter()
        .filter_map(|r| r.envelope::<T>().ok())
        .map(|e| (key(&e.data), e.data))
        .collect()
}

/// The SRE token every log service of the tests accepts on its API (`POST /v1/incidents/...`,
/// `/v1/admin/flush`): configure [`logintel_tokens`], send it with [`logintel_client`].
pub const LOGINTEL_TOKEN: &str = "opsline-e2e-logintel-sre";

/// The log service's `tokens` holding [`LOGINTEL_TOKEN`] (role `sre`, name `e2e-sre`).
pub fn logintel_tokens() -> Vec<opsline_auth::TokenConfig> {
    vec![opsline_auth::TokenConfig {
        name: "e2e-sre".to_owned(),
        role: opsline_auth::Role::Sre,
        teams: Vec::new(),
        sha256: opsline_auth::hash_token(LOGINTEL_TOKEN),
    }]
}

/// A client sending [`LOGINTEL_TOKEN`] with every request (for calls to the log service).
pub fn logintel_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {LOGINTEL_TOKEN}")).expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Polls `check` every 500 ms until it gives a value; panics once `max` passed.
pub async fn wait_for<T, F, Fut>(max: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + max;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
