//! `opsline-logintel`: the log intelligence service as a standalone process.
//!
//! Usage: `opsline-logintel [CONFIG.toml]`; every setting can also be given as
//! `OPSLINE_<SECTION>__<KEY>` (see `LogintelConfig`).

use std::path::PathBuf;

use opsline_logintel::{Application, LogintelConfig};
use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Shutdown, shutdown, telemetry};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config_file = std::env::args_os().nth(1).map(PathBuf::from);
    if config_file.as_deref().is_some_and(|p| p == "--help" || p == "-h") {
        println!(
            "usage: opsline-logintel [CONFIG.toml]\nSettings: OPSLINE_LISTEN, OPSLINE_KAFKA__BOOTSTRAP_SERVERS, OPSLINE_DETECTOR__WINDOW_SECS, ..."
        );
        return Ok(());
    }
    let config: LogintelConfig = opsline_runtime::config::load(config_file.as_deref())?;
    let _telemetry = telemetry::init("opsline-logintel", &config.telemetry)?;
    let shutdown = Shutdown::new();
    shutdown::cancel_on_signal(&shutdown);
    let app = Application::build(config, Metrics::new()).await?;
    tracing::info!(port = app.port(), "logintel listening");
    app.run_until_stopped(shutdown).await?;
    Ok(())
}
