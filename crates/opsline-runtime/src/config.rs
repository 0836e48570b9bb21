//! Typed configuration: defaults, then a TOML file, then environment variables.
//!
//! Environment variables are `OPSLINE_<SECTION>__<KEY>` (double underscore
//! between nesting levels), e.g. `OPSLINE_KAFKA__BOOTSTRAP_SERVERS=host:9092`.
//! Config structs use `#[serde(deny_unknown_fields)]`, so a typo in the file
//! is an error at start-up, not a silently ignored setting. Environment
//! variables are taken only when their first segment names a top-level
//! setting of the config (a field its `Deserialize` declares, even one never
//! serialized because it holds a secret), so unrelated `OPSLINE_*` variables (tool settings
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
    let top_level = top_level_settings::<T>();
    let env = Env::prefixed(ENV_PREFIX).filter(move |key| {
        let first = key.as_str().split("__").next().unwrap_or_default().to_ascii_lowercase();
        top_level.contains(&first)
    });
    for (key, raw) in env.split("__").iter() {
        figment = figment.merge((key.as_str().to_owned(), env_value(&raw)));
    }
    // Variables arrive as strings; a number or a boolean is read from one where the setting is one.
    figment.extract_lossy().map_err(|e| ConfigError(Box::new(e)))
}

/// The value of an environment variable: a list or table written in it (`[a, b]`) is parsed,
/// a scalar stays the string it was, so `OPSLINE_DIRECTORY__BIND_PASSWORD=0012345` is the
/// password `0012345`, not the number 12345 (a string setting refuses a number).
fn env_value(raw: &str) -> figment::value::Value {
    use figment::value::Value;
    match raw.parse::<Value>() {
        Ok(value @ (Value::Array(..) | Value::Dict(..))) => value,
        _ => Value::from(raw.to_owned()),
    }
}

/// The top-level setting names of `T` (what an `OPSLINE_<NAME>__...` variable may start with): the fields its derived `Deserialize` declares (this
/// includes fields kept out of serialization because they hold secrets, such as `llm`), plus the
/// keys of its serialized default (for types that deserialize through a map, e.g. flattened ones).
pub fn top_level_settings<T: Serialize + DeserializeOwned + Default>() -> Vec<String> {
    let mut declared: Option<&'static [&'static str]> = None;
    // The probe always stops with an error once it has seen the field list.
    let _ = T::deserialize(FieldProbe(&mut declared));
    let mut names: Vec<String> = declared.unwrap_or_default().iter().map(|f| (*f).to_owned()).collect();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(T::default()) {
        names.extend(map.keys().cloned());
    }
    names.sort();
    names.dedup();
    names
}

/// A deserializer that records the field list a derived `Deserialize` passes to
/// `deserialize_struct` and then stops.
struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

/// The probe's way of stopping deserialization.
#[derive(Debug)]
struct ProbeStop;

impl std::fmt::Display for ProbeStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field probe")
    }
}

impl std::error::Error for ProbeStop {}

impl serde::de::Error for ProbeStop {
    fn custom<M: std::fmt::Display>(_message: M) -> Self {
        ProbeStop
    }
}

impl<'de> serde::Deserializer<'de> for FieldProbe<'_> {
    type Error = ProbeStop;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ProbeStop> {
        Err(ProbeStop)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ProbeStop> {
        *self.0 = Some(fields);
        Err(ProbeStop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
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

    /// A section kept out of serialization (it holds a secret) still takes its variables.
    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct WithSecretSection {
        name: String,
        #[serde(skip_serializing)]
        llm: Inner,
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn env_reaches_a_section_that_is_not_serialized() {
        assert_eq!(
            top_level_settings::<WithSecretSection>(),
            vec!["llm".to_owned(), "name".to_owned()]
        );
        figment::Jail::expect_with(|jail| {
            jail.set_env("OPSLINE_LLM__BOOTSTRAP_SERVERS", "secret-bearing");
            jail.set_env("OPSLINE_LLM_MODEL", "a CLI flag, not a setting");
            let cfg: WithSecretSection = load(None).map_err(|e| e.to_string())?;
            assert_eq!(cfg.llm.bootstrap_servers, "secret-bearing");
            Ok(())
        });
    }

    /// A section holding a secret, as the services declare them.
    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct WithPassword {
        #[serde(skip_serializing)]
        directory: Secrets,
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Secrets {
        #[serde(skip_serializing)]
        bind_password: Option<secrecy::SecretString>,
        user: String,
        port: u16,
        tls: bool,
        hosts: Vec<String>,
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn env_secrets_are_read_as_strings_so_a_numeric_password_loads() {
        use secrecy::ExposeSecret;
        figment::Jail::expect_with(|jail| {
            jail.set_env("OPSLINE_DIRECTORY__BIND_PASSWORD", "0012345");
            jail.set_env("OPSLINE_DIRECTORY__USER", "true");
            jail.set_env("OPSLINE_DIRECTORY__PORT", "636");
            jail.set_env("OPSLINE_DIRECTORY__TLS", "true");
            jail.set_env("OPSLINE_DIRECTORY__HOSTS", "[a, b]");
            let cfg: WithPassword = load(None).map_err(|e| e.to_string())?;
            assert_eq!((cfg.directory.port, cfg.directory.tls), (636, true));
            assert_eq!(cfg.directory.hosts, ["a", "b"]);
            let password = cfg
                .directory
                .bind_password
                .as_ref()
                .map(|p| p.expose_secret().to_owned());
            assert_eq!(password.as_deref(), Some("0012345"));
            assert_eq!(cfg.directory.user, "true");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn a_bad_env_value_names_its_setting() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("OPSLINE_DIRECTORY__PORT", "ldaps");
            let error = load::<WithPassword>(None).map(|_| ()).unwrap_err().to_string();
            assert!(
                error.contains("directory.port") || error.contains("DIRECTORY.PORT"),
                "{error}"
            );
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(load::<Demo>(Some(Path::new("/nonexistent/opsline.toml"))).is_err());
    }
}
