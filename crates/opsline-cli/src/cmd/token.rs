//! `opsline token create`: a new API token for the console and the postmortem pages. The
//! token is printed once; only its SHA-256 goes into the configuration: appended to the
//! `--config` file as `[[console.tokens]]` and `[[postmortem.tokens]]` (the file is checked
//! to still load, else left as it was), or printed to add by hand.

use std::path::Path;

use anyhow::Context;
use opsline_auth::{Role, TokenConfig, generate_token, hash_token};

use crate::cli_ops::TokenCreateArgs;

fn parse_role(role: &str) -> anyhow::Result<Role> {
    match role.trim().to_ascii_lowercase().as_str() {
        "sre" => Ok(Role::Sre),
        "helpdesk" => Ok(Role::Helpdesk),
        "viewer" => Ok(Role::Viewer),
        other => anyhow::bail!("role {other:?}: use sre, helpdesk or viewer"),
    }
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The configuration lines that grant `config` on the console and the postmortem pages.
fn config_lines(config: &TokenConfig) -> String {
    let teams: Vec<String> = config.teams.iter().map(|t| toml_string(t)).collect();
    let role = opsline_auth::role_name(config.role);
    ["console", "postmortem"]
        .iter()
        .map(|section| {
            format!(
                "\n[[{section}.tokens]]\nname = {}\nrole = \"{role}\"\nteams = [{}]\nsha256 = \"{}\"\n",
                toml_string(&config.name),
                teams.join(", "),
                config.sha256
            )
        })
        .collect()
}

/// Creates a token and prints it.
pub fn create(args: TokenCreateArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let name = args.name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 128,
        "--name must be 1 to 128 characters"
    );
    let role = parse_role(&args.role)?;
    let token = generate_token().map_err(|e| anyhow::anyhow!("OS random source: {e}"))?;
    let config = TokenConfig {
        name: name.to_owned(),
        role,
        teams: args
            .team
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        sha256: hash_token(&token),
    };
    let lines = config_lines(&config);
    println!("token for {name} ({}): {token}", opsline_auth::role_name(role));
    println!("(shown once: only its hash is kept)");
    match config_file {
        Some(file) => {
            let before = std::fs::read_to_string(file).unwrap_or_default();
            std::fs::write(file, format!("{before}{lines}"))
                .with_context(|| format!("cannot write {}", file.display()))?;
            if let Err(error) = opsline_runtime::config::load::<super::up::UpConfig>(Some(file)) {
                std::fs::write(file, before).with_context(|| format!("cannot restore {}", file.display()))?;
                anyhow::bail!(
                    "{} would no longer load with the new lines ({error}); add them by hand:{lines}",
                    file.display()
                );
            }
            println!("added to {} (restart `opsline up` to use it)", file.display());
        }
        None => println!("add to the configuration file of `opsline up` (or pass --config FILE to do it):{lines}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_load_into_the_configuration() {
        let config = TokenConfig {
            name: "dana \"d\"".into(),
            role: Role::Helpdesk,
            teams: vec!["finance".into()],
            sha256: hash_token("x"),
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("opsline.toml");
        std::fs::write(&file, format!("topic_prefix = \"p.\"\n{}", config_lines(&config))).unwrap();
        let loaded: super::super::up::UpConfig = opsline_runtime::config::load(Some(&file)).unwrap();
        assert_eq!(loaded.console.tokens, vec![config.clone()]);
        assert_eq!(loaded.postmortem.tokens, vec![config]);
        assert!(parse_role("SRE").is_ok() && parse_role("root").is_err());
    }

    #[test]
    fn create_appends_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("opsline.toml");
        std::fs::write(&file, "[console]\nlisten = \"127.0.0.1:0\"\n").unwrap();
        let args = TokenCreateArgs {
            name: "sam".into(),
            role: "sre".into(),
            team: vec![],
        };
        create(args, Some(&file)).unwrap();
        let loaded: super::super::up::UpConfig = opsline_runtime::config::load(Some(&file)).unwrap();
        assert_eq!(loaded.console.tokens.len(), 1);
        assert_eq!(loaded.console.listen, "127.0.0.1:0");
    }
}
