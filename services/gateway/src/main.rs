//! `opsline-gateway [CONFIG.toml]`: the ingest gateway as a standalone process
//! (`--help` lists how settings are given).

fn main() -> std::process::ExitCode {
    opsline_runtime::service::main::<opsline_gateway::Gateway>()
}
