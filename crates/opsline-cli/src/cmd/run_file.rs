//! `<data-dir>/run.json`: where a running `opsline up` is, so every other command finds it
//! without flags. Written once every service is up, removed on a clean exit; readable only
//! by its owner (it holds the local console token).
//!
//! How a command finds its target: an explicit flag (or its `OPSLINE_*` variable) wins,
//! then the `--config` file when one is given, then `run.json` under `--data-dir`
//! (default `.opsline/data`), then the built-in default. Every connection error names the
//! address it tried, where that address came from, and the flag that changes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Name of the file under the data directory.
pub const FILE_NAME: &str = "run.json";

/// What `opsline up` writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// The `opsline up` process.
    pub pid: u32,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Kafka bootstrap servers.
    pub broker: String,
    /// Prefix of every topic.
    pub topic_prefix: String,
    /// The gateway's base URL.
    pub gateway: String,
    /// The console's base URL.
    pub console: String,
    /// Every service's base URL, by service name.
    pub services: BTreeMap<String, String>,
    /// The data directory (broker data, this file).
    pub data_dir: PathBuf,
    /// The postmortem index directory, when it is on disk.
    #[serde(default)]
    pub index_dir: Option<PathBuf>,
    /// A console token with the SRE role, made for this run when the console listens on
    /// loopback only; never written otherwise.
    #[serde(default)]
    pub console_token: Option<String>,
    /// The gateway's syslog TCP listener, `host:port` (RFC 5424/3164; octet counting or LF).
    #[serde(default)]
    pub syslog_tcp: Option<String>,
    /// The gateway's syslog UDP listener, `host:port`.
    #[serde(default)]
    pub syslog_udp: Option<String>,
    /// The ingest key `opsline up` made for this run (`local`, every endpoint, no rate limit);
    /// `opsline replay` sends it.
    #[serde(default)]
    pub ingest_key: Option<String>,
}

/// The path of the run file under `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Writes `run` to `<data_dir>/run.json` (owner read/write only).
pub fn write(data_dir: &Path, run: &RunFile) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let file = path(data_dir);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    out.write_all(serde_json::to_string_pretty(run)?.as_bytes())?;
    Ok(file)
}

/// Removes the run file (clean exit).
pub fn remove(file: &Path) {
    if let Err(error) = std::fs::remove_file(file)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("cannot remove {}: {error}", file.display());
    }
}

/// The run file under `data_dir`, if there is one and its process still runs.
pub fn read(data_dir: &Path) -> anyhow::Result<Option<RunFile>> {
    let file = path(data_dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", file.display())),
    };
    let run: RunFile = serde_json::from_str(&text).with_context(|| format!("{} is not a run file", file.display()))?;
    let proc_dir = Path::new("/proc");
    if proc_dir.is_dir() && !proc_dir.join(run.pid.to_string()).exists() {
        // Left behind by a killed `opsline up`.
        return Ok(None);
    }
    Ok(Some(run))
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value.
    pub value: String,
    /// Where it came from (`--bootstrap`, `run.json at ...`, `the default`).
    pub from: String,
}

/// The broker and topic prefix to use.
pub fn kafka_target(
    bootstrap: Option<String>,
    prefix: Option<String>,
    config_file: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<(Found, String)> {
    let config: Option<super::up::UpConfig> = config_file
        .map(|file| opsline_runtime::config::load(Some(file)))
        .transpose()?;
    let run = read(data_dir)?;
    let found = if let Some(value) = bootstrap {
        Found {
            value,
            from: "--bootstrap".into(),
        }
    } else if let (Some(config), Some(file)) = (&config, config_file) {
        Found {
            value: config.kafka.bootstrap_servers.clone(),
            from: format!("kafka.bootstrap_servers of {}", file.display()),
        }
    } else if let Some(run) = &run {
        Found {
            value: run.broker.clone(),
            from: format!("{}", path(data_dir).display()),
        }
    } else {
        Found {
            value: "127.0.0.1:9092".into(),
            from: format!(
                "the default (no running `opsline up` found: no {})",
                path(data_dir).display()
            ),
        }
    };
    let prefix = prefix
        .or_else(|| config.as_ref().map(|c| c.topic_prefix.clone()))
        .or_else(|| run.as_ref().map(|r| r.topic_prefix.clone()))
        .unwrap_or_default();
    Ok((found, prefix))
}

/// The broker (checked to answer, see [`reachable_kafka`]) and the topic names to use: those
/// of the flags, else of the `--config` file, else of a running `opsline up`.
pub async fn connect(
    target: &crate::cli::BrokerTarget,
    config_file: Option<&Path>,
) -> anyhow::Result<(opsline_kafka::KafkaConfig, opsline_events::TopicNames)> {
    let (found, prefix) = kafka_target(
        target.bootstrap.clone(),
        target.prefix.clone(),
        config_file,
        &target.run.data_dir,
    )?;
    let kafka = reachable_kafka(&found).await?;
    Ok((kafka, opsline_events::TopicNames::with_prefix(prefix)))
}

/// Kafka settings for `found`, after checking (for at most 5 s) that a broker answers there.
pub async fn reachable_kafka(found: &Found) -> anyhow::Result<opsline_kafka::KafkaConfig> {
    let kafka = opsline_kafka::KafkaConfig::with_bootstrap(found.value.clone());
    if opsline_kafka::admin::wait_for_broker(&kafka, Duration::from_secs(5))
        .await
        .is_err()
    {
        anyhow::bail!(
            "no Kafka broker answers at {} (from {}); start the pipeline with `opsline up`, or pass \
--bootstrap HOST:PORT, or --data-dir DIR of a running `opsline up`",
            found.value,
            found.from
        );
    }
    Ok(kafka)
}

/// A gateway to post to and the ingest key to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayTarget {
    /// Base URL.
    pub url: String,
    /// Ingest key (`Authorization: Bearer`), if one is known.
    pub key: Option<String>,
}

/// The gateway's URL: the flag, else that of a running `opsline up`, else
/// `http://127.0.0.1:8088`; its key: the flag, else that of a running `opsline up`.
pub fn gateway_target(url: Option<String>, key: Option<String>, data_dir: &Path) -> anyhow::Result<GatewayTarget> {
    let run = read(data_dir)?;
    let key = key.or_else(|| run.as_ref().and_then(|run| run.ingest_key.clone()));
    let url = url.unwrap_or_else(|| run.map_or_else(|| "http://127.0.0.1:8088".to_owned(), |run| run.gateway));
    Ok(GatewayTarget { url, key })
}

/// The console's URL and token: flags first, then the run file, then the `--config` file's
/// `console.listen` (URL only), then `http://127.0.0.1:8094`.
pub fn console_target(
    url: Option<String>,
    token: Option<String>,
    config_file: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<(Found, Option<String>)> {
    let run = read(data_dir)?;
    let config: Option<super::up::UpConfig> = config_file
        .map(|file| opsline_runtime::config::load(Some(file)))
        .transpose()?;
    let found = if let Some(value) = url {
        Found {
            value,
            from: "--console".into(),
        }
    } else if let (Some(config), Some(file)) = (&config, config_file) {
        Found {
            value: format!("http://{}", config.console.listen),
            from: format!("console.listen of {}", file.display()),
        }
    } else if let Some(run) = &run {
        Found {
            value: run.console.clone(),
            from: format!("{}", path(data_dir).display()),
        }
    } else {
        Found {
            value: "http://127.0.0.1:8094".into(),
            from: format!(
                "the default (no running `opsline up` found: no {})",
                path(data_dir).display()
            ),
        }
    };
    let token = token.or_else(|| run.and_then(|r| r.console_token));
    Ok((found, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_are_read_back_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFile {
            pid: std::process::id(),
            broker: "127.0.0.1:1234".into(),
            console: "http://127.0.0.1:9".into(),
            console_token: Some("t".into()),
            gateway: "http://127.0.0.1:8".into(),
            ingest_key: Some("k".into()),
            ..RunFile::default()
        };
        let file = write(dir.path(), &run).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read(dir.path()).unwrap(), Some(run.clone()));
        let (found, prefix) = kafka_target(None, None, None, dir.path()).unwrap();
        assert_eq!((found.value.as_str(), prefix.as_str()), ("127.0.0.1:1234", ""));
        let (found, _) = kafka_target(Some("h:1".into()), None, None, dir.path()).unwrap();
        assert_eq!(found.from, "--bootstrap");
        let (console, token) = console_target(None, None, None, dir.path()).unwrap();
        assert_eq!(
            (console.value.as_str(), token.as_deref()),
            ("http://127.0.0.1:9", Some("t"))
        );
        let gateway = gateway_target(None, None, dir.path()).unwrap();
        assert_eq!(
            (gateway.url.as_str(), gateway.key.as_deref()),
            ("http://127.0.0.1:8", Some("k"))
        );
        let flagged = gateway_target(None, Some("mine".into()), dir.path()).unwrap();
        assert_eq!(flagged.key.as_deref(), Some("mine"));
        remove(&file);
        assert_eq!(read(dir.path()).unwrap(), None);
        let (found, _) = kafka_target(None, None, None, dir.path()).unwrap();
        assert_eq!(found.value, "127.0.0.1:9092");
        assert!(found.from.contains("no running"));
    }

    #[test]
    fn a_dead_process_leaves_no_target() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFile {
            pid: u32::MAX - 1,
            broker: "127.0.0.1:1234".into(),
            ..RunFile::default()
        };
        write(dir.path(), &run).unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
    }

    #[test]
    fn the_config_file_applies() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("opsline.toml");
        std::fs::write(
            &file,
            "topic_prefix = \"staging.\"\n[kafka]\nbootstrap_servers = \"kafka:9092\"\n[console]\nlisten = \"0.0.0.0:9999\"\n",
        )
        .unwrap();
        let (found, prefix) = kafka_target(None, None, Some(&file), dir.path()).unwrap();
        assert_eq!((found.value.as_str(), prefix.as_str()), ("kafka:9092", "staging."));
        let (console, _) = console_target(None, None, Some(&file), dir.path()).unwrap();
        assert_eq!(console.value, "http://0.0.0.0:9999");
    }
}
