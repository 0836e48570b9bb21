//! The embedded local model: a `llama-server` child process (llama.cpp,
//! installed by `scripts/install-llm.sh`) serving one GGUF file on loopback.
//!
//! [`LocalServer::start`] spawns it, waits until `/health` answers and hands
//! back the OpenAI-compatible base URL; dropping the [`LocalServer`] kills the
//! process, so a stopped `opsline up` or a finished test leaves nothing behind.
//! The server's own output goes to a log file beside the model cache, never to
//! our logs (it may echo prompts).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// How to start the local server.
#[derive(Debug, Clone)]
pub struct LocalServerSpec {
    /// The `llama-server` binary.
    pub binary: PathBuf,
    /// The GGUF model file.
    pub model: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// CPU threads for generation.
    pub threads: usize,
    /// Context size in tokens.
    pub context: usize,
    /// Where the server's output goes.
    pub log_file: PathBuf,
    /// How long to wait for `/health`.
    pub startup_timeout: Duration,
    /// Extra arguments (e.g. `--repeat-penalty 1.3` for very small models).
    pub extra_args: Vec<String>,
}

impl LocalServerSpec {
    /// The documented defaults (`-c 4096 -t 2 --parallel 1`) for `model` served by `binary`.
    pub fn new(binary: impl Into<PathBuf>, model: impl Into<PathBuf>, log_file: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            model: model.into(),
            port: 0,
            threads: 2,
            context: 4096,
            log_file: log_file.into(),
            startup_timeout: Duration::from_secs(180),
            extra_args: Vec::new(),
        }
    }
}

/// Why the local server could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalServerError {
    /// Binary or model file missing.
    #[error("{0} not found (run scripts/install-llm.sh)")]
    Missing(PathBuf),
    /// The process could not be spawned or exited early.
    #[error("llama-server: {0}")]
    Process(String),
    /// `/health` did not answer in time.
    #[error("llama-server not healthy after {0:?} (see its log)")]
    Timeout(Duration),
}

/// A running `llama-server`; killed on drop.
#[derive(Debug)]
pub struct LocalServer {
    child: Option<Child>,
    port: u16,
    model: PathBuf,
}

impl LocalServer {
    /// Spawns the server and waits until it is healthy.
    pub async fn start(spec: &LocalServerSpec) -> Result<Self, LocalServerError> {
        for path in [&spec.binary, &spec.model] {
            if !path.is_file() {
                return Err(LocalServerError::Missing(path.clone()));
            }
        }
        let port = match spec.port {
            0 => free_port()?,
            port => port,
        };
        let log = std::fs::File::create(&spec.log_file).map_err(|e| LocalServerError::Process(e.to_string()))?;
        let log_err = log.try_clone().map_err(|e| LocalServerError::Process(e.to_string()))?;
        let child = Command::new(&spec.binary)
            .arg("-m")
            .arg(&spec.model)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "-c",
                &spec.context.to_string(),
                "-t",
                &spec.threads.to_string(),
                "--parallel",
                "1",
            ])
            .args(&spec.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| LocalServerError::Process(e.to_string()))?;
        let mut server = Self {
            child: Some(child),
            port,
            model: spec.model.clone(),
        };
        server.wait_healthy(spec.startup_timeout).await?;
        Ok(server)
    }

    /// The OpenAI-compatible base URL, e.g. `http://127.0.0.1:8080/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The model name to configure for tasks: the GGUF file stem.
    pub fn model_name(&self) -> String {
        model_name(&self.model)
    }

    /// Stops the server now (an LLM outage, in tests).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    async fn wait_healthy(&mut self, timeout: Duration) -> Result<(), LocalServerError> {
        let health = format!("http://127.0.0.1:{}/health", self.port);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(LocalServerError::Process(format!("exited with {status}")));
            }
            if let Ok(response) = client.get(&health).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(LocalServerError::Timeout(timeout));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// The model name used in config and the ledger for a GGUF path: its file stem.
pub fn model_name(model: &Path) -> String {
    model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "local".into())
}

fn free_port() -> Result<u16, LocalServerError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| LocalServerError::Process(e.to_string()))
}
