//! `opsline-postmortem [CONFIG.toml]`: the postmortem service as a standalone process
//! (`--help` lists how settings are given). `opsline-postmortem hash-token < token`
//! prints the `sha256` value of a token for the `[[tokens]]` configuration.

fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("hash-token") {
        let token = std::io::read_to_string(std::io::stdin()).unwrap_or_default();
        println!(
            "{}",
            opsline_postmortem::hash_token(token.trim_end_matches(['\n', '\r']))
        );
        return std::process::ExitCode::SUCCESS;
    }
    opsline_runtime::service::main::<opsline_postmortem::PostmortemService>()
}
