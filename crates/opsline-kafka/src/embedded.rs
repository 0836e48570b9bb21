//! Starts and stops a local Kafka-protocol broker process (`opsline up` and the tests).
//!
//! Three brokers are supported, all installed into `.opsline/bin` by `scripts/setup.sh`:
//! `tansu-libsql` (Tansu 0.6.0 with its SQLite engine, one file; `scripts/install-kafka-tls.sh`),
//! `noida-db` (persistent data directory) and `tansu` (memory only; both
//! `scripts/install-brokers.sh`). Production uses a real Apache Kafka cluster instead.
//!
//! Idle cost: noida-db (0.1.3, 0.2.2 and 0.2.3, the newest, were tried) answers a Fetch
//! request (v12, the version librdkafka picks with it) on an idle partition at once
//! instead of holding it for `fetch.wait.max.ms`, so every idle consumer's
//! librdkafka broker thread sends thousands of Fetch requests a second: an idle
//! `opsline up` keeps about 1.5 cores busy. No client setting stops this (librdkafka
//! backs off only after errors or a full local queue). Tansu (either engine) holds an idle
//! Fetch for the full wait. Measure with `opsline bench idle [--broker tansu-sqlite|noida|tansu]`.
//!
//! Tansu's SQLite engine reads a record's headers with a query that scans every header of the
//! file (no index in its schema), so reads of topics whose records carry headers slowed down
//! with the file's size until readers got nothing; the broker is started and then given the
//! missing index ([`crate::embedded_sqlite`]). Its `postgres://` engine is not compiled into
//! the crates.io build used here (`--features libsql` only).

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
    /// Tansu with its SQLite engine (`tansu-libsql`): one file, `tansu/tansu.db` in the data
    /// directory; evicts dead members in seconds.
    TansuSqlite,
}

impl BrokerKind {
    /// Parses `noida`, `tansu` or `tansu-sqlite`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "noida" | "noida-db" => Some(Self::Noida),
            "tansu" => Some(Self::Tansu),
            "tansu-sqlite" | "tansu-libsql" => Some(Self::TansuSqlite),
            _ => None,
        }
    }

    /// The binary's file name.
    pub fn binary_name(self) -> &'static str {
        match self {
            Self::Noida => "noida-db",
            Self::Tansu => "tansu",
            Self::TansuSqlite => "tansu-libsql",
        }
    }

    /// Whether data survives a broker restart.
    pub fn is_persistent(self) -> bool {
        matches!(self, Self::Noida | Self::TansuSqlite)
    }

    /// Whether the broker evicts a consumer-group member that died without leaving (within
    /// its session timeout); noida-db keeps it until the group is rebuilt.
    pub fn evicts_dead_members(self) -> bool {
        matches!(self, Self::Tansu | Self::TansuSqlite)
    }

    /// Whether, once a dead member of a group with several members is evicted, its partitions go
    /// to the members left. Tansu 0.6.0 with SQLite evicts the member but the survivor gets back
    /// only its own share (two consumers on 6 partitions, one SIGKILLed: the other is given
    /// [3, 4, 5] again; in memory [0..=5]); a member alone in its group that is replaced (a
    /// restarted process) does get every partition.
    pub fn hands_over_dead_members_partitions(self) -> bool {
        matches!(self, Self::Tansu)
    }
}

/// Errors starting an embedded broker.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The binary is not installed.
    #[error(
        "{0} not found; run scripts/setup.sh (tansu-libsql: scripts/install-kafka-tls.sh; noida-db, tansu: scripts/install-brokers.sh)"
    )]
    NotInstalled(PathBuf),
    /// The process could not be spawned.
    #[error("cannot start {binary}")]
    Spawn {
        /// Binary path.
        binary: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The embedded Tansu's SQLite file could not be given its header index.
    #[error("cannot add the header index to {file}")]
    Index {
        /// The SQLite file.
        file: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The index task did not finish.
    #[error("the header index task failed")]
    IndexTask(#[from] tokio::task::JoinError),
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
        // Absolute: Tansu with SQLite runs in its data folder (a relative `--bin-dir` would
        // then name nothing).
        let binary = std::path::absolute(&binary).map_err(|source| EmbeddedError::Spawn {
            binary: binary.clone(),
            source,
        })?;
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
            BrokerKind::TansuSqlite => {
                let url = format!("tcp://127.0.0.1:{}", self.port);
                let dir = self.sqlite_dir();
                std::fs::create_dir_all(&dir).map_err(|source| EmbeddedError::Spawn {
                    binary: self.binary.clone(),
                    source,
                })?;
                command
                    .current_dir(dir)
                    .arg("broker")
                    .arg("--listener-url")
                    .arg(&url)
                    .arg("--advertised-listener-url")
                    .arg(&url)
                    .arg("--storage-engine")
                    .arg(format!("sqlite://{}", crate::embedded_sqlite::DB_FILE));
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
        if self.kind == BrokerKind::TansuSqlite {
            // Tansu has created its tables by now; no client of ours writes yet.
            let file = self.sqlite_dir().join(crate::embedded_sqlite::DB_FILE);
            let path = file.clone();
            tokio::task::spawn_blocking(move || crate::embedded_sqlite::add_header_index(&path))
                .await?
                .map_err(|source| EmbeddedError::Index { file, source })?;
        }
        tracing::info!(
            broker = self.kind.binary_name(),
            port = self.port,
            "embedded broker ready"
        );
        Ok(())
    }

    /// Where Tansu's SQLite file lives (its working directory).
    fn sqlite_dir(&self) -> PathBuf {
        self.data_dir.join("tansu")
    }

    /// The SQLite file of a [`BrokerKind::TansuSqlite`] broker (`None` for the others).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        (self.kind == BrokerKind::TansuSqlite).then(|| self.sqlite_dir().join(crate::embedded_sqlite::DB_FILE))
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
