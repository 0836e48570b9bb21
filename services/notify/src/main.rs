//! `opsline-notify [CONFIG.toml]`: the incident notification service as a standalone process
//! (`--help` lists how settings are given).

fn main() -> std::process::ExitCode {
    opsline_runtime::service::main::<opsline_notify::Notify>()
}
