//! `opsline-postmortem`: the postmortem service as a standalone process.
//!
//! Usage: `opsline-postmortem [CONFIG.toml]`; every setting can also be given as
//! `OPSLINE_<SECTION>__<KEY>` (see `PostmortemConfig`). `opsline-postmortem hash-token` reads a
//! token on standard input and prints the `sha256` value for the configuration.

use std::io::Read;
use std::path::PathBuf;

use opsline_postmortem::{Application, PostmortemConfig, hash_token};
use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Shutdown, shutdown, telemetry};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let first = std::env::args_os().nth(1);
    if first.as_deref().is_some_and(|p| p == "--help" || p == "-h") {
        println!(
            "usage: opsline-postmortem [CONFIG.toml] | opsline-postmortem hash-token < token\n\
Settings: OPSLINE_LISTEN, OPSLINE_KAFKA__BOOTSTRAP_SERVERS, OPSLINE_INDEX_DIR, ... (see README)."
        );
        return Ok(());
    }
    if first.as_deref().is_some_and(|p| p == "hash-token") {
        let mut token = String::new();
        std::io::stdin().read_to_string(&mut token)?;
        println!("{}", hash_token(token.trim_end_matches(['\n', '\r'])));
        return Ok(());
    }
    let config_file = first.map(PathBuf::from);
    let config: PostmortemConfig = opsline_runtime::config::load(config_file.as_deref())?;
    let _telemetry = telemetry::init("opsline-postmortem", &config.telemetry)?;
    let shutdown = Shutdown::new();
    shutdown::cancel_on_signal(&shutdown);
    let app = Application::build(config, Metrics::new()).await?;
    tracing::info!(port = app.port(), "postmortem service listening");
    app.run_until_stopped(shutdown).await?;
    Ok(())
}
