//! `opsline-triage [CONFIG.toml]`: the ticket triage service as a standalone process
//! (`--help` lists how settings are given).

fn main() -> std::process::ExitCode {
    opsline_runtime::service::main::<opsline_triage::Triage>()
}
