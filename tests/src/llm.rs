//! `spawn_llama`: a real `llama-server` (llama.cpp, built by
//! `scripts/install-llm.sh`) with the small SmolLM2 135M model on a free port,
//! for tests of the LLM gateway and of the services that use it. The server is
//! killed when the [`TestLlm`] is dropped (or by [`TestLlm::kill`]).
//!
//! Tests that need it call [`llm_skipped`] first: with `OPSLINE_SKIP_LLM=1`
//! they return early with a message; otherwise a missing binary or model fails
//! the test with the command that installs it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The small test model (`.opsline/models/`).
pub const SMALL_MODEL_FILE: &str = "smollm2-135m-instruct-q4_1.gguf";
/// The model name tests put in their gateway configuration.
pub const SMALL_MODEL_NAME: &str = "smollm2-135m-instruct-q4_1";

/// Whether LLM tests are switched off (`OPSLINE_SKIP_LLM=1`); prints why.
pub fn llm_skipped(test: &str) -> bool {
    let skipped = std::env::var("OPSLINE_SKIP_LLM").is_ok_and(|v| v == "1");
    if skipped {
        eprintln!("{test}: skipped because OPSLINE_SKIP_LLM=1");
    }
    skipped
}

/// `llama-server`: `OPSLINE_LLAMA_SERVER`, else `.opsline/bin/llama-server`.
pub fn llama_server_path() -> PathBuf {
    std::env::var_os("OPSLINE_LLAMA_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join(".opsline/bin/llama-server"))
}

/// The small model: `OPSLINE_LLM_MODEL`, else `.opsline/models/<SMALL_MODEL_FILE>`.
pub fn small_model_path() -> PathBuf {
    std::env::var_os("OPSLINE_LLM_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join(".opsline/models").join(SMALL_MODEL_FILE))
}

/// A running llama-server owned by one test.
pub struct TestLlm {
    /// OpenAI-compatible base URL, `http://127.0.0.1:<port>/v1`.
    pub base_url: String,
    /// The port.
    pub port: u16,
    child: Option<Child>,
    log: tempfile::NamedTempFile,
}

impl TestLlm {
    /// Kills the server and waits for it to exit (idempotent).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for TestLlm {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts llama-server with the small model on a free port and waits until
/// `/health` answers 200 (up to 120 s; loading is quick, but CI machines are
/// busy). Sampling: `--repeat-penalty 1.3` keeps the tiny model out of loops.
pub async fn spawn_llama() -> TestLlm {
    let server = llama_server_path();
    let model = small_model_path();
    assert!(
        server.is_file() && model.is_file(),
        "llama-server or model missing ({}, {}): run scripts/install-llm.sh, or set OPSLINE_SKIP_LLM=1",
        server.display(),
        model.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let log = tempfile::NamedTempFile::new().expect("log file");
    let child = Command::new(&server)
        .arg("-m")
        .arg(&model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["-c", "4096", "-t", "2", "--parallel", "1", "--repeat-penalty", "1.3"])
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"))
        .spawn()
        .expect("start llama-server");
    let mut llm = TestLlm {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        port,
        child: Some(child),
        log,
    };
    let health = format!("http://127.0.0.1:{port}/health");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(child) = llm.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            panic!("llama-server exited with {status}:\n{}", llm.log());
        }
        if let Ok(response) = client.get(&health).send().await
            && response.status().is_success()
        {
            return llm;
        }
        assert!(
            Instant::now() < deadline,
            "llama-server not healthy after 120 s:\n{}",
            llm.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
