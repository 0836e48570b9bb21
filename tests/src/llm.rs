//! `spawn_llama`: a real `llama-server` (llama.cpp, built by
//! `scripts/install-llm.sh`) with the small SmolLM2 135M model on a free port,
//! for tests of the LLM gateway and of the services that use it. The server is
//! killed when the [`TestLlm`] is dropped (or by [`TestLlm::kill`]).
//!
//! Tests that need it call [`llm_skipped`] first: with `OPSLINE_SKIP_LLM=1`
//! they return early with a message; otherwise a missing binary or model fails
//! the test with the command that installs it.

use std::path::PathBuf;
use std::time::Duration;

use opsline_llm::local::{LocalServer, LocalServerSpec};

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

/// A running llama-server owned by one test (an [`opsline_llm::local::LocalServer`],
/// the same supervisor `opsline up` uses).
pub struct TestLlm {
    /// OpenAI-compatible base URL, `http://127.0.0.1:<port>/v1`.
    pub base_url: String,
    /// The port.
    pub port: u16,
    server: Option<LocalServer>,
    log: tempfile::NamedTempFile,
}

impl TestLlm {
    /// Kills the server (idempotent): an LLM outage.
    pub fn kill(&mut self) {
        // Dropping the server kills the process (kill_on_drop); give it a moment to go.
        if self.server.take().is_some() {
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

/// Starts llama-server with the small model on a free port and waits until
/// `/health` answers (up to 180 s; loading is quick, but CI machines are busy).
/// Sampling: `--repeat-penalty 1.3` keeps the tiny model out of loops.
pub async fn spawn_llama() -> TestLlm {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut spec = LocalServerSpec::new(llama_server_path(), small_model_path(), log.path());
    spec.extra_args = vec!["--repeat-penalty".into(), "1.3".into()];
    let server = match LocalServer::start(&spec).await {
        Ok(server) => server,
        Err(error) => panic!(
            "{error}: run scripts/install-llm.sh, or set OPSLINE_SKIP_LLM=1\n{}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        ),
    };
    TestLlm {
        base_url: server.base_url(),
        port: server.port(),
        server: Some(server),
        log,
    }
}
