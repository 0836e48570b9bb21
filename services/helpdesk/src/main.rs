//! `opsline-helpdesk [CONFIG.toml]`: the helpdesk connector service as a standalone process
//! (`--help` lists how settings are given).

fn main() -> std::process::ExitCode {
    opsline_runtime::service::main::<opsline_helpdesk::Helpdesk>()
}
