//! `opsline-selfservice`: the chat self-service as a standalone process.
//!
//! Usage: `opsline-selfservice [CONFIG.toml]`; every setting can also be given as
//! `OPSLINE_<SECTION>__<KEY>` (see `SelfServiceConfig`), e.g. the directory's service
//! password as `OPSLINE_DIRECTORY__BIND_PASSWORD`.

use std::path::PathBuf;

use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Shutdown, shutdown, telemetry};
use opsline_selfservice::{Application, SelfServiceConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config_file = std::env::args_os().nth(1).map(PathBuf::from);
    if config_file.as_deref().is_some_and(|p| p == "--help" || p == "-h") {
        println!(
            "usage: opsline-selfservice [CONFIG.toml]\nSettings: OPSLINE_KAFKA__BOOTSTRAP_SERVERS, OPSLINE_DIRECTORY__URL, OPSLINE_DIRECTORY__BIND_PASSWORD, OPSLINE_REPLY__WEBHOOK_URL, ..."
        );
        return Ok(());
    }
    let config: SelfServiceConfig = opsline_runtime::config::load(config_file.as_deref())?;
    let _telemetry = telemetry::init("opsline-selfservice", &config.telemetry)?;
    let shutdown = Shutdown::new();
    shutdown::cancel_on_signal(&shutdown);
    let app = Application::build(config, Metrics::new()).await?;
    tracing::info!(port = app.port(), "selfservice listening");
    app.run_until_stopped(shutdown).await?;
    Ok(())
}
