//! Syslog into the gateway from real senders (installed by `scripts/install-sources.sh` from
//! Debian): util-linux `logger` over TCP (RFC 5424, octet counting and LF framing) and UDP
//! (RFC 3164), and rsyslog forwarding a file over TCP and over TLS (its OpenSSL driver,
//! verifying the gateway's certificate from a test CA). The lines arrive once, with host, app
//! and severity; 100,000 forwarded lines lose nothing; a message that is not syslog is
//! dead-lettered with its reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::spawn::Spawned;
use opsline_events::logs::RawLog;
use opsline_events::ops::DeadLetter;
use opsline_events::topics;
use opsline_gateway::Gateway;

async fn syslog_gateway(kafka: opsline_kafka::KafkaConfig, test: &str) -> (Spawned<Gateway>, SocketAddr, SocketAddr) {
    let gateway = spawn_gateway(kafka, test, |config| {
        config.syslog.tcp = Some("127.0.0.1:0".to_owned());
        config.syslog.udp = Some("127.0.0.1:0".to_owned());
    })
    .await;
    let tcp = gateway.handle.syslog.tcp.expect("tcp listener");
    let udp = gateway.handle.syslog.udp.expect("udp listener");
    (gateway, tcp, udp)
}

fn this_host() -> String {
    let out = std::process::Command::new("hostname").output().expect("hostname");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs util-linux `logger` with `args` against `address`.
fn logger(address: SocketAddr, args: &[&str]) {
    let status = std::process::Command::new("logger")
        .args([
            "--server",
            &address.ip().to_string(),
            "--port",
            &address.port().to_string(),
        ])
        .args(args)
        .status()
        .expect("logger is missing: run scripts/install-sources.sh");
    assert!(status.success(), "logger {args:?}");
}

fn logs(records: &[opsline_kafka::InRecord]) -> Vec<RawLog> {
    records.iter().map(|r| r.envelope::<RawLog>().unwrap().data).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logger_over_tcp_and_udp_arrives_once_with_host_app_and_severity() {
    let broker = opsline_e2e::spawn_broker().await;
    let (gateway, tcp, udp) = syslog_gateway(broker.config(), "syslogger").await;
    logger(
        tcp,
        &[
            "--tcp",
            "--rfc5424",
            "--octet-count",
            "--tag",
            "webapp",
            "--priority",
            "local3.err",
            "--sd-id",
            "order@32473",
            "--sd-param",
            "id=\"17\"",
            "checkout failed for order 17",
        ],
    );
    logger(
        tcp,
        &[
            "--tcp",
            "--rfc5424",
            "--tag",
            "webapp",
            "--priority",
            "local3.warning",
            "slow checkout for order 18",
        ],
    );
    logger(
        udp,
        &[
            "--udp",
            "--rfc3164",
            "--tag",
            "sshd",
            "--priority",
            "auth.notice",
            "session opened for user deploy",
        ],
    );

    let raw = gateway.names.name(&topics::RAW_LOGS);
    let records = opsline_e2e::read_n(&gateway.kafka, &raw, 3, Duration::from_secs(60)).await;
    let got = logs(&records);
    assert_eq!(got.len(), 3, "{got:?}");
    let find = |text: &str| {
        got.iter()
            .find(|l| l.line == text)
            .unwrap_or_else(|| panic!("{text}: {got:?}"))
    };
    let host = this_host();

    let counted = find("checkout failed for order 17");
    assert_eq!(counted.service, "webapp");
    assert_eq!(counted.source, "syslog");
    assert_eq!(counted.attributes["host.name"], host);
    assert_eq!(counted.attributes["severity"], "err");
    assert_eq!(counted.attributes["facility"], "local3");
    assert_eq!(counted.attributes["syslog.format"], "rfc5424");
    assert_eq!(counted.attributes["sd.order@32473.id"], "17");
    assert!(counted.timestamp.is_some());

    let lf = find("slow checkout for order 18");
    assert_eq!(lf.attributes["severity"], "warning");

    let bsd = find("session opened for user deploy");
    assert_eq!(bsd.service, "sshd");
    assert_eq!(bsd.attributes["host.name"], host);
    assert_eq!(bsd.attributes["severity"], "notice");
    assert_eq!(bsd.attributes["facility"], "auth");
    assert_eq!(bsd.attributes["syslog.format"], "rfc3164");

    // Not syslog at all: dead-lettered with the reason, the connection goes on.
    let mut stream = tokio::net::TcpStream::connect(tcp).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"hello, this is not syslog\n<14>1 - - after - - - still here\n",
    )
    .await
    .unwrap();
    drop(stream);
    let letters = opsline_e2e::read_n(
        &gateway.kafka,
        &gateway.names.name(&topics::INGEST_REJECTED),
        1,
        Duration::from_secs(60),
    )
    .await;
    let letter = letters[0].envelope::<DeadLetter>().unwrap().data;
    assert_eq!(letter.error_code, "not_syslog");
    assert!(letter.reason.contains("<PRI>"), "{}", letter.reason);
    let more = opsline_e2e::read_n(&gateway.kafka, &raw, 4, Duration::from_secs(60)).await;
    assert!(
        logs(&more)
            .iter()
            .any(|l| l.line == "still here" && l.service == "after")
    );

    let metrics = opsline_e2e::scrape_metrics(&gateway.url).await;
    assert!(
        metrics.contains("syslog/tcp") && metrics.contains("syslog/udp"),
        "{metrics}"
    );
}

/// Starts rsyslogd (foreground, its own configuration and work directory) forwarding `file`
/// to `tcp`, tagged `billing`; over TLS (its OpenSSL driver, verifying the gateway's chain
/// against `ca`) when given.
fn start_rsyslog(dir: &Path, file: &Path, tcp: SocketAddr, ca: Option<&Path>) -> tokio::process::Child {
    let config = dir.join("rsyslog.conf");
    let (global_tls, action_tls) = match ca {
        Some(ca) => (
            format!(
                r#" defaultNetstreamDriver="ossl" defaultNetstreamDriverCAFile="{}""#,
                ca.display()
            ),
            r#" streamDriver="ossl" streamDriverMode="1" streamDriverAuthMode="x509/certvalid""#.to_owned(),
        ),
        None => (String::new(), String::new()),
    };
    std::fs::write(
        &config,
        format!(
            r#"global(workDirectory="{work}"{global_tls})
module(load="imfile")
input(type="imfile" file="{file}" tag="billing" severity="info" facility="local0")
action(type="omfwd" target="{ip}" port="{port}" protocol="tcp" tcp_framing="octet-counted"
       template="RSYSLOG_SyslogProtocol23Format"{action_tls}
       queue.type="linkedList" queue.size="200000" action.resumeRetryCount="-1")
"#,
            work = dir.display(),
            file = file.display(),
            ip = tcp.ip(),
            port = tcp.port(),
        ),
    )
    .unwrap();
    let rsyslogd = ["/usr/sbin/rsyslogd", "rsyslogd"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap_or("rsyslogd");
    tokio::process::Command::new(rsyslogd)
        .args(["-n", "-f"])
        .arg(&config)
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .kill_on_drop(true)
        .spawn()
        .expect("rsyslogd is missing: run scripts/install-sources.sh")
}

/// A test CA and a server certificate for 127.0.0.1 signed by it (openssl CLI); returns the
/// CA file, the chain and the key.
fn test_pki(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=opsline test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsyslog_over_tls_arrives() {
    const LINES: usize = 1_000;
    let broker = opsline_e2e::spawn_broker().await;
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki(dir.path());
    let gateway = spawn_gateway(broker.config(), "syslogtls", |config| {
        config.syslog.tcp = Some("127.0.0.1:0".to_owned());
        config.syslog.tls = Some(opsline_gateway::syslog::SyslogTls {
            cert_file: cert.clone(),
            key_file: key.clone(),
        });
    })
    .await;
    let tcp = gateway.handle.syslog.tcp.expect("tcp listener");
    let file = dir.path().join("billing.log");
    let text: String = (0..LINES).map(|i| format!("invoice {i} posted to ledger\n")).collect();
    std::fs::write(&file, text).unwrap();
    let _rsyslog = start_rsyslog(dir.path(), &file, tcp, Some(&ca));

    let raw = gateway.names.name(&topics::RAW_LOGS);
    let got = logs(&opsline_e2e::read_n(&gateway.kafka, &raw, LINES, Duration::from_secs(120)).await);
    let numbers: HashSet<&str> = got.iter().filter_map(|l| l.line.split(' ').nth(1)).collect();
    assert_eq!(
        numbers.len(),
        LINES,
        "every line arrived over TLS ({} records)",
        got.len()
    );

    // A plain-text sender cannot talk to the TLS listener: nothing of it is produced.
    let mut plain = tokio::net::TcpStream::connect(tcp).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut plain, b"<14>1 - - plain - - - not over tls\n")
        .await
        .unwrap();
    drop(plain);
    let after = logs(&opsline_e2e::read_n(&gateway.kafka, &raw, LINES + 1, Duration::from_secs(5)).await);
    assert!(after.iter().all(|l| l.line != "not over tls"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsyslog_forwards_a_hundred_thousand_lines_without_loss() {
    const LINES: usize = 100_000;
    let broker = opsline_e2e::spawn_broker().await;
    let (gateway, tcp, _) = syslog_gateway(broker.config(), "rsyslog").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("billing.log");
    let text: String = (0..LINES).map(|i| format!("invoice {i} posted to ledger\n")).collect();
    std::fs::write(&file, text).unwrap();

    let _rsyslog = start_rsyslog(dir.path(), &file, tcp, None);
    let raw = gateway.names.name(&topics::RAW_LOGS);
    let records = opsline_e2e::read_n(&gateway.kafka, &raw, LINES, Duration::from_secs(600)).await;
    let got = logs(&records);
    let numbers: HashSet<usize> = got
        .iter()
        .filter_map(|l| l.line.strip_prefix("invoice ")?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(numbers.len(), LINES, "every line arrived ({} records)", got.len());
    let host = this_host();
    for log in got.iter().take(100) {
        assert_eq!(log.service, "billing");
        assert_eq!(log.attributes["host.name"], host);
        assert_eq!(log.attributes["severity"], "info");
        assert_eq!(log.attributes["facility"], "local0");
    }
}
