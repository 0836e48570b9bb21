//! A service replica in its own process (the `opsline-e2e-service` binary), for the
//! scale-out tests that kill one with SIGKILL.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use opsline_kafka::KafkaConfig;

/// One replica: a service in its own process, listening on a free loopback port.
pub struct Replica {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Replica {
    /// Starts `service` (`logintel`, `triage`, `postmortem`) from `binary` (the test's
    /// `env!("CARGO_BIN_EXE_opsline-e2e-service")`) on `kafka`, with `settings` as `OPSLINE_*`
    /// variables (e.g. `("OPSLINE_TOPIC_PREFIX", prefix)`).
    pub fn start(binary: &str, service: &str, kafka: &KafkaConfig, settings: &[(&str, String)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("local address")
            .port();
        let mut command = Command::new(binary);
        command
            .env("OPSLINE_E2E_SERVICE", service)
            .env("OPSLINE_LISTEN", format!("127.0.0.1:{port}"))
            .env("OPSLINE_KAFKA__BOOTSTRAP_SERVERS", &kafka.bootstrap_servers)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        for (name, value) in settings {
            command.env(name, value);
        }
        let child = command.spawn().expect("start a replica");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits (at most 60 s) until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(response) = client.get(format!("{}/readyz", self.url)).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("replica at {} not ready", self.url);
    }

    /// Kills the process at once (SIGKILL): no shutdown, no commit, no flush.
    pub fn sigkill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Stops the process gracefully (SIGTERM) and waits for it.
    pub fn sigterm(mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        self.child.wait().expect("stopped");
    }
}

impl Drop for Replica {
    /// A test that fails leaves no replica behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
