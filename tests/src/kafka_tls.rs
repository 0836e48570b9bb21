//! `spawn_secure_tansu`: a Tansu broker that serves only SCRAM-authenticated clients
//! over TLS, with the users a test asks for, and `SecureBroker::client`: the Kafka settings
//! of one of those users (CA file, mechanism, user, password from a file or the value).
//!
//! Two gaps of Tansu 0.6.0 shape this helper (both read in its source and seen here):
//! - **TLS**: `tansu broker --cert --key` cannot be given both (clap puts them in one
//!   exclusive group) and the broker never uses its TLS acceptor, so Tansu serves plain TCP
//!   only. TLS is therefore terminated in front of it by a rustls proxy of this process (the
//!   workspace's `opsline_runtime::inbound_tls`, a certificate for 127.0.0.1 from an `rcgen` CA);
//!   Tansu advertises the proxy's port, so every client connection, bootstrap and metadata,
//!   goes through TLS and librdkafka verifies the certificate against the CA file.
//! - **Users**: the memory engine cannot hold SCRAM users: with `--authentication` Tansu
//!   refuses every request before SASL (AlterUserScramCredentials too, so `tansu user create`
//!   fails) and offers no PLAIN to bootstrap with. Tansu built with SQLite
//!   (`.opsline/bin/tansu-libsql`, from `scripts/install-kafka-tls.sh`) keeps them: the users
//!   are created on an open broker, which is then stopped and started again on the same file
//!   with `--authentication`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use opsline_kafka::KafkaConfig;
use opsline_kafka::security::{KafkaSasl, KafkaTls, SaslMechanism, SecurityProtocol};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use secrecy::SecretString;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// Where a client's password comes from.
pub enum Password<'a> {
    /// `kafka.sasl.password` (what `OPSLINE_KAFKA__SASL__PASSWORD` sets).
    Value(&'a str),
    /// `kafka.sasl.password_file`, a file holding it.
    File(&'a str),
}

/// A TLS + SCRAM Tansu owned by one test; the broker is killed and the proxy stopped on drop.
pub struct SecureBroker {
    /// `127.0.0.1:<port>` of the TLS listener (the only address clients learn).
    pub bootstrap: String,
    /// PEM of the CA that signed the listener's certificate.
    pub ca_file: PathBuf,
    /// Temporary directory: certificates, the SQLite file, password files, the broker's log.
    pub dir: tempfile::TempDir,
    broker: Child,
    proxy: tokio::task::JoinHandle<()>,
}

impl Drop for SecureBroker {
    fn drop(&mut self) {
        self.proxy.abort();
        let _ = self.broker.start_kill();
    }
}

impl SecureBroker {
    /// Kafka settings of `user` over `sasl_ssl` with SCRAM-SHA-512, trusting the test CA.
    pub fn client(&self, user: &str, password: Password<'_>) -> KafkaConfig {
        let (password, password_file) = match password {
            Password::Value(value) => (Some(SecretString::from(value.to_owned())), None),
            Password::File(value) => {
                let file = self
                    .dir
                    .path()
                    .join(format!("{user}-{}.password", uuid::Uuid::now_v7().simple()));
                std::fs::write(&file, format!("{value}\n")).expect("write password file");
                (None, Some(file))
            }
        };
        KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            tls: KafkaTls {
                ca_file: Some(self.ca_file.clone()),
                ..KafkaTls::default()
            },
            sasl: KafkaSasl {
                mechanism: Some(SaslMechanism::ScramSha512),
                username: user.to_owned(),
                password,
                password_file,
            },
            ..KafkaConfig::with_bootstrap(self.bootstrap.clone())
        }
    }

    /// The broker's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tansu.log")).unwrap_or_default()
    }
}

/// The SQLite-backed Tansu binary (`scripts/install-kafka-tls.sh`).
fn tansu_libsql() -> PathBuf {
    let bin = std::env::var_os("OPSLINE_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join(".opsline/bin"));
    let binary = bin.join("tansu-libsql");
    assert!(
        binary.is_file(),
        "{} is missing: run scripts/install-kafka-tls.sh (Tansu with its SQLite engine holds SCRAM users; the memory-only one cannot)",
        binary.display()
    );
    binary
}

/// Writes a test CA (`ca.pem`) and a certificate for 127.0.0.1 and localhost issued by it
/// (`cert.pem`, `key.pem`) into `dir`.
fn write_pki(dir: &Path) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Opsline test Kafka CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key")).expect("CA");
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("leaf params");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "opsline test kafka");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf certificate");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
    std::fs::write(dir.join("cert.pem"), leaf.pem()).expect("write cert.pem");
    std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).expect("write key.pem");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts Tansu on plain `port` (advertising `advertised`) over the SQLite file in `dir`.
fn start_tansu(binary: &Path, dir: &Path, port: u16, advertised: SocketAddr, authentication: bool) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("tansu.log"))
        .expect("open tansu.log");
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .args(["broker", "--silent", "--storage-engine", "sqlite://tansu.db"])
        .args(["--listener-url", &format!("tcp://127.0.0.1:{port}")])
        .args(["--advertised-listener-url", &format!("tcp://{advertised}")]);
    if authentication {
        command.arg("--authentication");
    }
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start tansu-libsql")
}

/// Creates `user` with `mechanism` (`scram256`, `scram512`) on the open broker at `port`
/// (retried while it starts).
async fn create_user(binary: &Path, port: u16, mechanism: &str, user: &str, password: &str) {
    let mut last = String::new();
    for _ in 0..150 {
        let output = Command::new(binary)
            .args(["user", "create", "--mechanism", mechanism])
            .args(["--broker", &format!("tcp://127.0.0.1:{port}"), user, password])
            .stdin(Stdio::null())
            .output()
            .await
            .expect("run tansu user create");
        if output.status.success() {
            return;
        }
        last = String::from_utf8_lossy(&output.stderr).into_owned();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("tansu user create {user} failed: {last}");
}

/// Terminates TLS on `listener` and relays each connection to Tansu's plain `port`.
async fn tls_proxy(listener: TcpListener, cert: PathBuf, key: PathBuf, port: u16) {
    let acceptor = opsline_runtime::inbound_tls::acceptor(&cert, &key).expect("TLS acceptor");
    while let Ok((tcp, _)) = listener.accept().await {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // A failed handshake (a client that does not trust the CA) just ends the connection.
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let Ok(mut plain) = TcpStream::connect(("127.0.0.1", port)).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        });
    }
}

/// Starts a Tansu that requires SCRAM over TLS, holding `users` (name, password) for both
/// SCRAM-SHA-512 and SCRAM-SHA-256.
pub async fn spawn_secure_tansu(users: &[(&str, &str)]) -> SecureBroker {
    crate::init_logs();
    let binary = tansu_libsql();
    let dir = tempfile::tempdir().expect("tempdir");
    write_pki(dir.path());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind TLS port");
    let advertised = listener.local_addr().expect("TLS address");
    let port = free_port();

    let mut open = start_tansu(&binary, dir.path(), port, advertised, false);
    for (user, password) in users {
        for mechanism in ["scram512", "scram256"] {
            create_user(&binary, port, mechanism, user, password).await;
        }
    }
    open.kill().await.expect("stop the open broker");

    let broker = start_tansu(&binary, dir.path(), port, advertised, true);
    let proxy = tokio::spawn(tls_proxy(
        listener,
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        port,
    ));
    SecureBroker {
        bootstrap: advertised.to_string(),
        ca_file: dir.path().join("ca.pem"),
        dir,
        broker,
        proxy,
    }
}
