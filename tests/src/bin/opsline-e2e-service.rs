//! An Opsline service as its own process, for tests that kill a replica with SIGKILL:
//! `OPSLINE_E2E_SERVICE=logintel|triage|postmortem opsline-e2e-service [CONFIG.toml]`, settings
//! from `OPSLINE_*` variables like the shipped service binaries (which live in other packages,
//! so tests cannot name them).

use std::process::ExitCode;

use opsline_runtime::service::main as run;

fn main() -> ExitCode {
    match std::env::var("OPSLINE_E2E_SERVICE").as_deref() {
        Ok("logintel") => run::<opsline_logintel::Logintel>(),
        Ok("triage") => run::<opsline_triage::Triage>(),
        Ok("postmortem") => run::<opsline_postmortem::PostmortemService>(),
        other => {
            eprintln!("opsline-e2e-service: set OPSLINE_E2E_SERVICE to logintel, triage or postmortem (got {other:?})");
            ExitCode::from(2)
        }
    }
}
