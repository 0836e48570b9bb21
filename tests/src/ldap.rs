//! `spawn_ldap`: a private OpenLDAP slapd per test (own temp dir, free port), seeded from
//! `deploy/ldap/seed.ldif` by `scripts/start-ldap.sh`, stopped on drop. `stop()`/`start()`
//! simulate a directory outage; `binds()` checks credentials with `ldapwhoami`.
//! `spawn_ldap_tls`: the same with a test CA and server certificate made with `rcgen`:
//! StartTLS on `ldap://`, an `ldaps://` listener, and simple binds refused without TLS.

use std::path::PathBuf;
use std::process::Command;

/// The directory's suffix.
pub const SUFFIX: &str = "dc=example,dc=org";
/// The self-service account and its password (seeded).
pub const SERVICE_DN: &str = "cn=selfservice,ou=services,dc=example,dc=org";
/// The self-service account's password (seeded).
pub const SERVICE_PASSWORD: &str = "selfservice-secret";
/// The root DN of the test directory.
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
/// The root DN's password.
pub const ADMIN_PASSWORD: &str = "admin-secret";

/// A seeded user: (uid, chat user id, mail, initial password).
pub const USERS: [(&str, &str, &str, &str); 4] = [
    ("alice", "U0ALICE", "alice@example.org", "alice-old-Pass1"),
    ("bob", "U0BOB", "bob@example.org", "bob-old-Pass1"),
    ("carol", "U0CAROL", "carol@example.org", "carol-old-Pass1"),
    ("admin", "U0ADMIN", "admin@example.org", "admin-old-Pass1"),
];

/// The DN of seeded user `uid`.
pub fn user_dn(uid: &str) -> String {
    format!("uid={uid},ou=people,{SUFFIX}")
}

/// A slapd owned by one test.
pub struct TestLdap {
    /// `ldap://127.0.0.1:<port>`.
    pub url: String,
    /// The port.
    pub port: u16,
    /// `ldaps://127.0.0.1:<port>` when started with TLS.
    pub ldaps_url: Option<String>,
    /// The test CA (PEM) that signed the server certificate, when started with TLS.
    pub ca_file: Option<PathBuf>,
    /// Configuration, data and pid file; removed on drop.
    pub dir: tempfile::TempDir,
}

fn script() -> PathBuf {
    crate::repo_root().join("scripts/start-ldap.sh")
}

/// Whether slapd is installed (scripts/install-ldap.sh).
pub fn slapd_installed() -> bool {
    Command::new("sh")
        .args(["-c", "command -v slapd || test -x /usr/sbin/slapd"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Starts a seeded slapd on a free port (panics when slapd is missing: run scripts/install-ldap.sh).
pub fn spawn_ldap() -> TestLdap {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let ldap = TestLdap {
        url: format!("ldap://127.0.0.1:{port}"),
        port,
        ldaps_url: None,
        ca_file: None,
        dir,
    };
    ldap.start();
    ldap
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A test CA (PEM) and a server certificate for `127.0.0.1` and `localhost` signed by it
/// (certificate PEM, PKCS#8 key PEM).
pub fn test_pki() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Opsline test directory CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let server = params.signed_by(&key, &ca).unwrap();
    (ca.pem(), server.pem(), key.serialize_pem())
}

/// Starts a seeded slapd with TLS from a fresh test CA: StartTLS on `url`, LDAPS on
/// `ldaps_url`, simple binds refused without TLS (`security simple_bind=64`).
pub fn spawn_ldap_tls() -> TestLdap {
    let dir = tempfile::tempdir().expect("tempdir");
    let tls = dir.path().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let (ca, server, key) = test_pki();
    std::fs::write(tls.join("ca.pem"), ca).unwrap();
    std::fs::write(tls.join("server.pem"), server).unwrap();
    std::fs::write(tls.join("server.key"), key).unwrap();
    let port = free_port();
    let ldaps_port = free_port();
    let ldap = TestLdap {
        url: format!("ldap://127.0.0.1:{port}"),
        port,
        ldaps_url: Some(format!("ldaps://127.0.0.1:{ldaps_port}")),
        ca_file: Some(tls.join("ca.pem")),
        dir,
    };
    ldap.start();
    ldap
}

impl TestLdap {
    /// (Re)starts slapd on the same port and data.
    pub fn start(&self) {
        let ldaps_port = self
            .ldaps_url
            .as_deref()
            .and_then(|url| url.rsplit(':').next())
            .unwrap_or_default();
        let out = Command::new("bash")
            .arg(script())
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .arg(ldaps_port)
            .output()
            .expect("run scripts/start-ldap.sh");
        assert!(
            out.status.success(),
            "start-ldap.sh failed (run scripts/install-ldap.sh): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops slapd (a directory outage) and waits until it is gone.
    pub fn stop(&self) {
        let pid_file = self.dir.path().join("slapd.pid");
        let Ok(pid) = std::fs::read_to_string(&pid_file) else {
            return;
        };
        let pid = pid.trim().to_owned();
        let _ = Command::new("kill").arg(&pid).status();
        for _ in 0..100 {
            let alive = Command::new("kill")
                .args(["-0", &pid])
                .status()
                .is_ok_and(|s| s.success());
            if !alive {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = std::fs::remove_file(pid_file);
    }

    /// Whether a simple bind as `dn` with `password` succeeds.
    pub fn binds(&self, dn: &str, password: &str) -> bool {
        self.client("ldapwhoami")
            .args(["-x", "-H", &self.url, "-D", dn, "-w", password])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Attributes of `dn` (operational ones too) as LDIF text, read as the root DN.
    pub fn read_entry(&self, dn: &str) -> String {
        let out = self
            .client("ldapsearch")
            .args([
                "-x",
                "-LLL",
                "-H",
                &self.url,
                "-D",
                ADMIN_DN,
                "-w",
                ADMIN_PASSWORD,
                "-b",
                dn,
                "-s",
                "base",
                "*",
                "+",
            ])
            .output()
            .expect("ldapsearch");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl TestLdap {
    /// An OpenLDAP client command; with TLS it uses StartTLS (`-ZZ`) and trusts the test CA.
    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        if let Some(ca) = &self.ca_file {
            command
                .env("LDAPTLS_CACERT", ca)
                .env("LDAPTLS_REQCERT", "demand")
                .arg("-ZZ");
        }
        command
    }
}

impl Drop for TestLdap {
    fn drop(&mut self) {
        self.stop();
    }
}
