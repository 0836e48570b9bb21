//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, installed by
//! `scripts/install-sources.sh`) whose webhook receiver points at a gateway, and the one way
//! tests make it fire and resolve alerts (its API, `/api/v2/alerts`).

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

/// An Alertmanager process on a free port, killed on drop.
pub struct TestAlertmanager {
    /// Its base URL.
    pub url: String,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

/// Starts Alertmanager sending every alert to `webhook` (with `bearer` as its
/// `http_config.authorization` credentials when given), grouping by `alertname` with 1 s waits.
pub async fn spawn_alertmanager(webhook: &str, bearer: Option<&str>) -> TestAlertmanager {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let authorization = bearer
        .map(|token| format!("    http_config:\n      authorization:\n        credentials: {token}\n"))
        .unwrap_or_default();
    let config = format!(
        "route:\n  receiver: opsline\n  group_by: [alertname, service]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
receivers:\n- name: opsline\n  webhook_configs:\n  - url: {webhook}\n    send_resolved: true\n{authorization}"
    );
    let config_file = dir.path().join("alertmanager.yml");
    std::fs::write(&config_file, config).expect("write alertmanager.yml");
    let binary = ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .expect("prometheus-alertmanager is missing: run scripts/install-sources.sh");
    let child = tokio::process::Command::new(binary)
        .arg(format!("--config.file={}", config_file.display()))
        .arg(format!("--storage.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start alertmanager");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client
            .get(format!("{url}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return TestAlertmanager {
                url,
                _child: child,
                _dir: dir,
            };
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("alertmanager did not become ready at {url}");
}

impl TestAlertmanager {
    /// Posts one alert to Alertmanager's API; `ends_at` in the past resolves it.
    pub async fn post(&self, labels: Value, annotations: Value, starts_at: &str, ends_at: Option<&str>) {
        let mut alert = json!({
            "labels": labels,
            "annotations": annotations,
            "startsAt": starts_at,
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        });
        if let Some(end) = ends_at {
            alert["endsAt"] = json!(end);
        }
        let response = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&json!([alert]))
            .send()
            .await
            .expect("post to alertmanager");
        assert!(
            response.status().is_success(),
            "alertmanager answered {}",
            response.status()
        );
    }
}
