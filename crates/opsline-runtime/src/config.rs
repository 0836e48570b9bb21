//! Typed configuration: defaults, then a TOML file, then environment variables.
//!
//! Environment variables are `OPSLINE_<SECTION>__<KEY>` (double underscore
//! between nesting levels), e.g. `OPSLINE_KAFKA__BOOTSTRAP_SERVERS=host:9092`.
//! Config structs use `#[serde(deny_unknown_fields)]`, so a typo in the file
//! is an error at start-up, not a silently ignored setting. Environment
//! variables are taken only when their first segment names a top-level
//! setting of the config, so unrelated `OPSLINE_*` variables (tool settings
//! such as `OPSLINE_BIN_DIR`, or Kubernetes service links such as
//! `OPSLINE_GATEWAY_PORT`) never stop a service.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The environment variable prefix of every Opsline setting.
pub const ENV_PREFIX: &str = "OPSLINE_";

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

/// Loads `T` from its defaults, the optional TOML `file`, and `OPSLINE_*` variables.
pub fn load<T>(file: Option<&Path>) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError(Box::new(figment::Error::from(format!(
                "config file {} does not exist",
                path.display()
            )))));
        }
        figment = figment.merge(Toml::file(path));
    }
    let top_level: Vec<String> = match serde_json::to_value(T::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let env = Env::prefixed(ENV_PREFIX).filter(move |key| {
        let first = key.as_str().split("__").next().unwrap_or_default().to_ascii_lowercase();
        top_level.contains(&first)
    });
    figment = figment.merge(env.split("__"));
    figment.extract().map_err(|e| ConfigError(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Demo {
        name: String,
        kafka: Inner,
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Inner {
        bootstrap_servers: String,
    }

    #[test]
    fn file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "name = \"x\"\n[kafka]\nbootstrap_servers = \"a:1\"\n").unwrap();
        let cfg: Demo = load(Some(&path)).unwrap();
        assert_eq!(cfg.name, "x");
        assert_eq!(cfg.kafka.bootstrap_servers, "a:1");
    }

    #[test]
    fn unknown_field_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "nmae = \"typo\"\n").unwrap();
        assert!(load::<Demo>(Some(&path)).is_err());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn unrelated_env_vars_are_ignored_and_known_ones_apply() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("OPSLINE_BIN_DIR", "/somewhere");
            jail.set_env("OPSLINE_GATEWAY_PORT", "tcp://10.0.0.1:8088");
            jail.set_env("OPSLINE_KAFKA__BOOTSTRAP_SERVERS", "k:9092");
            let cfg: Demo = load(None).map_err(|e| e.to_string())?;
            assert_eq!(cfg.kafka.bootstrap_servers, "k:9092");
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(load::<Demo>(Some(Path::new("/nonexistent/opsline.toml"))).is_err());
    }
}
