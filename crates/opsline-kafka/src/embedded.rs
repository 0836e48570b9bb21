//! Starts and stops a local Kafka-protocol broker process (`opsline up` and the tests).
//!
//! Two brokers are supported, both installed by `scripts/install-brokers.sh`
//! into `.opsline/bin`: `noida-db` (persistent data directory) and `tansu`
//! (memory only). Production uses a real Apache Kafka cluster instead.
//!
//! Idle cost: noida-db (0.1.3, 0.2.2 and 0.2.3, the newest, were tried) answers a Fetch
//! request (v12, the version librdkafka picks with it) on an idle partition at once
//! instead of holding it for `fetch.wait.max.ms`, so every idle consumer's
//! librdkafka broker thread sends thousands of Fetch requests a second: an idle
//! `opsline up` keeps about 1.5 cores busy. No client setting stops this (librdkafka
//! backs off only after errors or a full local queue). Tansu holds an idle Fetch for
//! the full 500 ms. Measure with `opsline bench idle [--broker noida|tansu]`.
//!
//! Tansu with a persistent engine was tried as the default (session 6): `cargo install tansu
//! --version 0.6.0 --features libsql` (about 28 minutes on 2 cores) serves `sqlite://tansu.db`,
//! but reads slow down with the topic's size: with 4 keys on a 6-partition topic a reader
//! took 1.4 s for 100 records, 20.9 s for 10,000, and a fresh reader from offset 0 got
//! nothing within 5 s at 12,100 records and nothing within 20 s at 100,000 (the 100,000-line
//! gateway test). Its `postgres://` engine needs Tansu's PostgreSQL schema, which is not in
//! the published crates (only the SQLite DDL is), so it cannot be installed from the registries.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::KafkaSetupError;
use crate::config::KafkaConfig;

/// Which broker binary to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// noida-db: persistent, transactions; never evicts a SIGKILLed group member;
    /// answers idle Fetch requests at once (idle consumers spin, see the module docs).
    Noida,
    /// Tansu: memory only; evicts dead members in seconds.
    Tansu,
}

impl BrokerKind {
    /// Parses `noida` or `tansu`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "noida" | "noida-db" => Some(Self::Noida),
            "tansu" => Some(Self::Tansu),
            _ => None,
        }
    }

    /// The binary's file name.
    pub fn binary_name(self) -> &'static str {
        match self {
            Self::Noida => "noida-db",
            Self::Tansu => "tansu",
        }
    }

    /// Whether data survives a broker restart.
    pub fn is_persistent(self) -> bool {
        matches!(self, Self::Noida)
    }

    /// Whether the broker evicts a consumer-group member that died without leaving (within
    /// its session timeout); noida-db keeps it until the group is rebuilt.
    pub fn evicts_dead_members(self) -> bool {
        matches!(self, Self::Tansu)
    }
}

/// Errors starting an embedded broker.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The binary is not installed.
    #[error("{0} not found; run scripts/install-brokers.sh")]
    NotInstalled(PathBuf),
    /// The process could not be spawned.
    #[error("cannot start {binary}")]
    Spawn {
        /// Binary path.
        binary: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The broker started but never answered.
    #[error(transparent)]
    Unreachable(#[from] KafkaSetupError),
    /// No free port.
    #[error("no free port: {0}")]
    Port(std::io::Error),
}

/// A broker process owned by this process; killed on drop.
#[derive(Debug)]
pub struct EmbeddedBroker {
    kind: BrokerKind,
    binary: PathBuf,
    port: u16,
    data_dir: PathBuf,
    log_file: PathBuf,
    child: Option<Child>,
}

impl EmbeddedBroker {
    /// Starts `kind` from `bin_dir` on `port` (0 = a free port), keeping data and its log in `data_dir`.
    pub async fn start(kind: BrokerKind, bin_dir: &Path, data_dir: &Path, port: u16) -> Result<Self, EmbeddedError> {
        let binary = bin_dir.join(kind.binary_name());
        if !binary.is_file() {
            return Err(EmbeddedError::NotInstalled(binary));
        }
        let port = if port == 0 {
            free_port().map_err(EmbeddedError::Port)?
        } else {
            port
        };
        let mut broker = Self {
            kind,
            binary,
            port,
            data_dir: data_dir.to_path_buf(),
            log_file: data_dir.join(format!("{}.log", kind.binary_name())),
            child: None,
        };
        broker.spawn().await?;
        Ok(broker)
    }

    async fn spawn(&mut self) -> Result<(), EmbeddedError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|source| EmbeddedError::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .map_err(|source| EmbeddedError::Spawn {
                binary: self.binary.clone(),
                source,
            })?;
        let log_err = log.try_clone().map_err(|source| EmbeddedError::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let mut command = Command::new(&self.binary);
        match self.kind {
            BrokerKind::Noida => {
                command
                    .arg("start")
                    .arg("--only")
                    .arg("kafka")
                    .arg("--host")
                    .arg("127.0.0.1")
                    .arg("--kafka-port")
                    .arg(self.port.to_string())
                    .arg("--data-dir")
                    .arg(self.data_dir.join("noida"));
            }
            BrokerKind::Tansu => {
                let url = format!("tcp://127.0.0.1:{}", self.port);
                command
                    .arg("broker")
                    .arg("--listener-url")
                    .arg(&url)
                    .arg("--advertised-listener-url")
                    .arg(&url)
                    .arg("--storage-engine")
                    .arg("memory://tansu/");
            }
        }
        command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| EmbeddedError::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        self.child = Some(child);
        crate::admin::wait_for_broker(&self.config(), Duration::from_secs(30)).await?;
        tracing::info!(
            broker = self.kind.binary_name(),
            port = self.port,
            "embedded broker ready"
        );
        Ok(())
    }

    /// Client settings pointing at this broker.
    pub fn config(&self) -> KafkaConfig {
        KafkaConfig::with_bootstrap(self.bootstrap())
    }

    /// `127.0.0.1:<port>`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Which broker this is.
    pub fn kind(&self) -> BrokerKind {
        self.kind
    }

    /// Stops the broker gracefully (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            opsline_runtime::shutdown::terminate_child(&mut child, Duration::from_secs(10)).await;
        }
    }

    /// Stops and starts the broker again on the same port and data directory.
    pub async fn restart(&mut self) -> Result<(), EmbeddedError> {
        self.stop().await;
        self.spawn().await
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
