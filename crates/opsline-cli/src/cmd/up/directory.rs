//! The directory of `opsline up`: a private, seeded OpenLDAP slapd (when
//! `slapd` is installed: `scripts/install-ldap.sh`) started with `scripts/start-ldap.sh`
//! beside the broker's data, and the self-service service pointed at it.
//!
//! Without a configured directory URL and password, `opsline up` uses the seeded
//! directory and its seeded service account; one-time codes go to a file only the
//! owner can read (`<data dir>/selfservice-codes.jsonl`) unless a notifier is configured.

use std::path::{Path, PathBuf};
use std::process::Command;

use opsline_selfservice::SelfServiceConfig;
use secrecy::{ExposeSecret, SecretString};

/// The seeded service account's password (deploy/ldap/seed.ldif; demo only).
const SEEDED_SERVICE_PASSWORD: &str = "selfservice-secret";

/// A slapd started by `opsline up`; stopped on drop.
pub struct DirectoryProcess {
    /// `ldap://127.0.0.1:<port>`.
    pub url: String,
    dir: PathBuf,
}

impl Drop for DirectoryProcess {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("slapd.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// Starts the seeded slapd in `<data_dir>/ldap` on a free port, when slapd and the
/// script are there; prints where, or why not.
pub fn start_directory(data_dir: &Path) -> Option<DirectoryProcess> {
    let script = Path::new("scripts/start-ldap.sh");
    let installed = Command::new("sh")
        .args(["-c", "command -v slapd || test -x /usr/sbin/slapd"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !installed || !script.exists() {
        println!("directory   not started (install slapd with scripts/install-ldap.sh; run from the repository root)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()?;
    let dir = data_dir.join("ldap");
    let output = Command::new("bash")
        .arg(script)
        .arg(&dir)
        .arg(port.to_string())
        .output();
    match output {
        Ok(out) if out.status.success() => {
            let url = format!("ldap://127.0.0.1:{port}");
            println!(
                "directory   slapd at {url} (suffix dc=example,dc=org, seeded from deploy/ldap/seed.ldif; data in {})",
                dir.display()
            );
            Some(DirectoryProcess { url, dir })
        }
        Ok(out) => {
            println!(
                "directory   slapd did not start: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            None
        }
        Err(error) => {
            println!("directory   slapd did not start: {error}");
            None
        }
    }
}

/// The self-service configuration pointed at the started directory (plain LDAP on loopback,
/// `allow_insecure`) and its seeded service account when the configuration names none, with one-time codes written to
/// `<data_dir>/selfservice-codes.jsonl` when no notifier is configured.
pub fn seeded_directory(
    mut config: SelfServiceConfig,
    directory: Option<&DirectoryProcess>,
    data_dir: &Path,
) -> SelfServiceConfig {
    if config.directory.url == SelfServiceConfig::default().directory.url {
        // The default and the private slapd are on loopback: plain LDAP is allowed there alone
        // (without a started slapd, resets then fail as "directory unavailable", as before).
        config.directory.allow_insecure = true;
    }
    if let Some(directory) = directory {
        if config.directory.url == SelfServiceConfig::default().directory.url {
            config.directory.url = directory.url.clone();
        }
        if config.directory.bind_password.expose_secret().is_empty() {
            config.directory.bind_password = SecretString::from(SEEDED_SERVICE_PASSWORD);
        }
    }
    if config.notifier.kind == "none" {
        config.notifier.kind = "file".to_owned();
        config.notifier.path = data_dir.join("selfservice-codes.jsonl").display().to_string();
    }
    config
}
