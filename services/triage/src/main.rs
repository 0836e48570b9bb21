//! `opsline-triage`: the ticket triage service as a standalone process.
//!
//! Usage: `opsline-triage [CONFIG.toml]`; every setting can also be given as
//! `OPSLINE_<SECTION>__<KEY>` (see `TriageConfig`).

use std::path::PathBuf;

use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Shutdown, shutdown, telemetry};
use opsline_triage::{Application, TriageConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config_file = std::env::args_os().nth(1).map(PathBuf::from);
    if config_file.as_deref().is_some_and(|p| p == "--help" || p == "-h") {
        println!(
            "usage: opsline-triage [CONFIG.toml]\nSettings: OPSLINE_LISTEN, OPSLINE_KAFKA__BOOTSTRAP_SERVERS, OPSLINE_CLASSIFIER__MODEL_PATH, OPSLINE_CLASSIFIER__HUMAN_REVIEW_THRESHOLD, OPSLINE_LLM__ENABLED, ..."
        );
        return Ok(());
    }
    let config: TriageConfig = opsline_runtime::config::load(config_file.as_deref())?;
    let _telemetry = telemetry::init("opsline-triage", &config.telemetry)?;
    let shutdown = Shutdown::new();
    shutdown::cancel_on_signal(&shutdown);
    let app = Application::build(config, Metrics::new()).await?;
    tracing::info!(port = app.port(), model = %app.model_version(), "triage listening");
    app.run_until_stopped(shutdown).await?;
    Ok(())
}
