//! `opsline-logintel [CONFIG.toml]`: the log intelligence service as a standalone
//! process (`--help` lists how settings are given).

fn main() -> std::process::ExitCode {
    opsline_runtime::service::main::<opsline_logintel::Logintel>()
}
