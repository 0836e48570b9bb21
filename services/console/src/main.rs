//! `opsline-console [CONFIG.toml]`: the operations console as a standalone process
//! (`--help` lists how settings are given).

fn main() -> std::process::ExitCode {
    opsline_runtime::service::main::<opsline_console::Console>()
}
