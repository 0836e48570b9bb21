//! TLS and SASL settings of the Kafka clients (`[kafka]`'s `security_protocol`, `[kafka.tls]`
//! and `[kafka.sasl]`), turned into librdkafka properties.
//!
//! librdkafka's TLS is OpenSSL (Debian's `libssl`, through rdkafka's `ssl` feature): the one
//! exception to the workspace's rustls-only rule, because librdkafka supports no other TLS
//! library. SCRAM-SHA-256/512 and PLAIN need nothing more (no cyrus-sasl; GSSAPI is not built).
//!
//! The password is a [`SecretString`] taken from `sasl.password` (best from the environment,
//! `OPSLINE_KAFKA__SASL__PASSWORD`) or read from `sasl.password_file` (a mounted Kubernetes
//! secret); it is never serialized and its `Debug` is redacted.

use std::path::{Path, PathBuf};

use rdkafka::ClientConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::KafkaSetupError;

/// How the clients talk to the brokers (librdkafka's `security.protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// No TLS, no authentication (the local brokers of `opsline up` and the tests).
    #[default]
    Plaintext,
    /// TLS, no SASL (client certificates may authenticate).
    Ssl,
    /// SASL without TLS: the password mechanisms send secrets in clear; loopback only.
    SaslPlaintext,
    /// SASL over TLS (production: Strimzi's SCRAM-SHA-512 listener).
    SaslSsl,
}

impl SecurityProtocol {
    /// librdkafka's name of the protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// A SASL mechanism librdkafka is built with here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaslMechanism {
    /// SCRAM with SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM with SHA-512 (Strimzi's `scram-sha-512`).
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    /// The password itself, in the SASL exchange (use only over TLS).
    #[serde(rename = "PLAIN")]
    Plain,
}

impl SaslMechanism {
    /// The mechanism's name, as brokers and librdkafka spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::Plain => "PLAIN",
        }
    }
}

/// TLS settings (`[kafka.tls]`), used when `security_protocol` is `ssl` or `sasl_ssl`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaTls {
    /// PEM file of the CA(s) that signed the brokers' certificates (unset: the system's roots).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for brokers that authenticate clients by certificate.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Password of an encrypted `key_file` (`OPSLINE_KAFKA__TLS__KEY_PASSWORD`).
    #[serde(skip_serializing, deserialize_with = "scalar_secret")]
    pub key_password: Option<SecretString>,
}

impl PartialEq for KafkaTls {
    fn eq(&self, other: &Self) -> bool {
        self.ca_file == other.ca_file
            && self.cert_file == other.cert_file
            && self.key_file == other.key_file
            && same_secret(self.key_password.as_ref(), other.key_password.as_ref())
    }
}

/// SASL settings (`[kafka.sasl]`), used when `security_protocol` is `sasl_plaintext` or `sasl_ssl`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSasl {
    /// `SCRAM-SHA-512`, `SCRAM-SHA-256` or `PLAIN`.
    pub mechanism: Option<SaslMechanism>,
    /// The user (a Strimzi `KafkaUser`'s name).
    pub username: String,
    /// The password (`OPSLINE_KAFKA__SASL__PASSWORD`); or give `password_file`.
    #[serde(skip_serializing, deserialize_with = "scalar_secret")]
    pub password: Option<SecretString>,
    /// A file holding the password (trailing line break ignored), e.g. a mounted secret.
    pub password_file: Option<PathBuf>,
}

impl PartialEq for KafkaSasl {
    fn eq(&self, other: &Self) -> bool {
        self.mechanism == other.mechanism
            && self.username == other.username
            && same_secret(self.password.as_ref(), other.password.as_ref())
            && self.password_file == other.password_file
    }
}

/// A secret from any scalar: the environment loader reads `OPSLINE_..._PASSWORD=123456` as a
/// number, and a numeric password must load as the string it is. A number the loader does not
/// print back the same way (`007` becomes `7`) is beyond repair here: use `password_file`.
fn scalar_secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<SecretString>, D::Error> {
    struct Scalar;
    impl serde::de::Visitor<'_> for Scalar {
        type Value = Option<SecretString>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a password (a string, or a number read from the environment)")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(SecretString::from(v.to_owned())))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Scalar)
}

fn same_secret(a: Option<&SecretString>, b: Option<&SecretString>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
        (None, None) => true,
        _ => false,
    }
}

impl KafkaSasl {
    /// The password, from `password` or read from `password_file` (exactly one must be set).
    pub fn resolve_password(&self) -> Result<SecretString, KafkaSetupError> {
        match (&self.password, &self.password_file) {
            (Some(password), None) => Ok(password.clone()),
            (None, Some(file)) => read_secret(file),
            (Some(_), Some(_)) => Err(security(
                "set kafka.sasl.password or kafka.sasl.password_file, not both",
            )),
            (None, None) => Err(security(
                "SASL needs a password: set kafka.sasl.password (OPSLINE_KAFKA__SASL__PASSWORD) or kafka.sasl.password_file",
            )),
        }
    }
}

fn read_secret(file: &Path) -> Result<SecretString, KafkaSetupError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| security(format!("cannot read kafka.sasl.password_file {}: {e}", file.display())))?;
    let password = text.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(security(format!(
            "kafka.sasl.password_file {} is empty",
            file.display()
        )));
    }
    Ok(SecretString::from(password.to_owned()))
}

fn security(reason: impl Into<String>) -> KafkaSetupError {
    KafkaSetupError::Security(reason.into())
}

fn set_path(
    config: &mut ClientConfig,
    key: &str,
    path: Option<&PathBuf>,
    setting: &str,
) -> Result<(), KafkaSetupError> {
    if let Some(path) = path {
        if !path.is_file() {
            return Err(security(format!("{setting} {} is not a file", path.display())));
        }
        config.set(key, path.display().to_string());
    }
    Ok(())
}

/// Sets the security properties of `protocol`, `tls` and `sasl` on `config`, after checking
/// that they fit together (a mechanism without SASL, or TLS files without TLS, are errors,
/// not silently ignored settings).
pub(crate) fn apply(
    config: &mut ClientConfig,
    protocol: SecurityProtocol,
    tls: &KafkaTls,
    sasl: &KafkaSasl,
) -> Result<(), KafkaSetupError> {
    config.set("security.protocol", protocol.as_str());
    let tls_given = tls.ca_file.is_some() || tls.cert_file.is_some() || tls.key_file.is_some();
    if protocol.uses_tls() {
        set_path(config, "ssl.ca.location", tls.ca_file.as_ref(), "kafka.tls.ca_file")?;
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            return Err(security("kafka.tls.cert_file and kafka.tls.key_file go together"));
        }
        set_path(
            config,
            "ssl.certificate.location",
            tls.cert_file.as_ref(),
            "kafka.tls.cert_file",
        )?;
        set_path(config, "ssl.key.location", tls.key_file.as_ref(), "kafka.tls.key_file")?;
        if let Some(password) = &tls.key_password {
            config.set("ssl.key.password", password.expose_secret());
        }
    } else if tls_given {
        return Err(security(format!(
            "kafka.tls is set but kafka.security_protocol is {}: use ssl or sasl_ssl",
            protocol.as_str()
        )));
    }
    match (protocol.uses_sasl(), sasl.mechanism) {
        (true, Some(mechanism)) => {
            if sasl.username.is_empty() {
                return Err(security("kafka.sasl.username is empty"));
            }
            let password = sasl.resolve_password()?;
            config
                .set("sasl.mechanisms", mechanism.as_str())
                .set("sasl.username", &sasl.username)
                .set("sasl.password", password.expose_secret());
        }
        (true, None) => {
            return Err(security(format!(
                "kafka.security_protocol {} needs kafka.sasl.mechanism (SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN)",
                protocol.as_str()
            )));
        }
        (false, Some(_)) => {
            return Err(security(format!(
                "kafka.sasl.mechanism is set but kafka.security_protocol is {}: use sasl_ssl",
                protocol.as_str()
            )));
        }
        (false, None) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sasl(password: Option<&str>, file: Option<PathBuf>) -> KafkaSasl {
        KafkaSasl {
            mechanism: Some(SaslMechanism::ScramSha512),
            username: "gateway".to_owned(),
            password: password.map(|p| SecretString::from(p.to_owned())),
            password_file: file,
        }
    }

    #[test]
    fn scram_over_tls_sets_librdkafka_properties() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "pem").unwrap();
        let tls = KafkaTls {
            ca_file: Some(ca.clone()),
            ..KafkaTls::default()
        };
        let mut config = ClientConfig::new();
        apply(
            &mut config,
            SecurityProtocol::SaslSsl,
            &tls,
            &sasl(Some("s3cret"), None),
        )
        .unwrap();
        assert_eq!(config.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(config.get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("sasl.username"), Some("gateway"));
        assert_eq!(config.get("sasl.password"), Some("s3cret"));
        assert_eq!(config.get("ssl.ca.location"), Some(ca.display().to_string().as_str()));
    }

    #[test]
    fn the_password_comes_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "from-file\n").unwrap();
        let password = sasl(None, Some(file)).resolve_password().unwrap();
        assert_eq!(password.expose_secret(), "from-file");
    }

    #[test]
    fn settings_that_do_not_fit_are_refused() {
        let none = KafkaTls::default();
        let mut config = ClientConfig::new();
        let no_password = apply(&mut config, SecurityProtocol::SaslSsl, &none, &sasl(None, None));
        assert!(no_password.unwrap_err().to_string().contains("password"));
        let no_sasl = apply(&mut config, SecurityProtocol::Plaintext, &none, &sasl(Some("x"), None));
        assert!(no_sasl.unwrap_err().to_string().contains("sasl_ssl"));
        let no_mechanism = apply(&mut config, SecurityProtocol::SaslSsl, &none, &KafkaSasl::default());
        assert!(no_mechanism.unwrap_err().to_string().contains("mechanism"));
    }

    /// A service's configuration, as far as Kafka goes.
    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Service {
        kafka: crate::KafkaConfig,
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn the_password_comes_from_the_environment_even_when_it_looks_like_a_number() {
        for password in ["from-env", "123456"] {
            figment::Jail::expect_with(|jail| {
                jail.set_env("OPSLINE_KAFKA__SECURITY_PROTOCOL", "sasl_ssl");
                jail.set_env("OPSLINE_KAFKA__SASL__MECHANISM", "SCRAM-SHA-512");
                jail.set_env("OPSLINE_KAFKA__SASL__USERNAME", "gateway");
                jail.set_env("OPSLINE_KAFKA__SASL__PASSWORD", password);
                let service: Service = opsline_runtime::config::load(None).map_err(|e| e.to_string())?;
                assert_eq!(service.kafka.security_protocol, SecurityProtocol::SaslSsl);
                assert_eq!(service.kafka.sasl.mechanism, Some(SaslMechanism::ScramSha512));
                let resolved = service.kafka.sasl.resolve_password().map_err(|e| e.to_string())?;
                assert_eq!(resolved.expose_secret(), password);
                Ok(())
            });
        }
    }

    #[test]
    fn the_password_is_neither_serialized_nor_shown() {
        let settings = sasl(Some("hunter2"), None);
        assert!(!format!("{settings:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&settings).unwrap().contains("hunter2"));
    }
}
