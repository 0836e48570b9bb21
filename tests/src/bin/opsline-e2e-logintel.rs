//! The log service as its own process, for tests that kill a replica with SIGKILL:
//! `opsline-e2e-logintel [CONFIG.toml]`, settings from `OPSLINE_*` variables like the
//! shipped `opsline-logintel` binary (which lives in another package, so tests cannot name it).

fn main() -> std::process::ExitCode {
    opsline_runtime::service::main::<opsline_logintel::Logintel>()
}
