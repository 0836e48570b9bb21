//! Which transports self-service accepts, decided once at start-up from the configuration:
//! the directory over LDAPS or StartTLS (plain `ldap://` only with `allow_insecure = true` to a
//! loopback host), and the one-time-code notifier and reply relays over `https` (plain `http`
//! only to a loopback host). Passwords and one-time codes never cross a network in clear.

use opsline_runtime::client_tls::{is_loopback_url, scheme_and_host};

use crate::config::DirectoryConfig;
use crate::error::SelfServiceError;

/// How the directory connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapTransport {
    /// `ldaps://`: TLS from the first byte.
    Ldaps,
    /// `ldap://` upgraded with StartTLS before the bind.
    StartTls,
    /// Plain `ldap://` to a loopback host, allowed by `allow_insecure`.
    PlainLoopback,
}

/// The transport `config` asks for, or why it is refused.
pub fn ldap_transport(config: &DirectoryConfig) -> Result<LdapTransport, SelfServiceError> {
    let Some((scheme, _host)) = scheme_and_host(&config.url) else {
        return Err(SelfServiceError::Startup(format!(
            "directory.url {:?} is not an ldaps:// or ldap:// URL with a host",
            config.url
        )));
    };
    match (scheme.as_str(), config.starttls) {
        ("ldaps", false) => Ok(LdapTransport::Ldaps),
        ("ldaps", true) => Err(SelfServiceError::Startup(
            "directory.starttls applies to ldap:// URLs; an ldaps:// URL is already TLS".to_owned(),
        )),
        ("ldap", true) => Ok(LdapTransport::StartTls),
        ("ldap", false) if config.allow_insecure && is_loopback_url(&config.url) => Ok(LdapTransport::PlainLoopback),
        ("ldap", false) if config.allow_insecure => Err(SelfServiceError::Startup(format!(
            "directory.url {}: plain ldap:// is allowed only to a loopback host, even with allow_insecure; \
             use ldaps:// or starttls = true",
            config.url
        ))),
        ("ldap", false) => Err(SelfServiceError::Startup(format!(
            "directory.url {}: plain ldap:// sends passwords in clear; use ldaps:// or starttls = true \
             (allow_insecure = true allows plain LDAP to a loopback host only)",
            config.url
        ))),
        (other, _) => Err(SelfServiceError::Startup(format!(
            "directory.url scheme {other:?} is not supported (ldaps, or ldap with starttls)"
        ))),
    }
}

/// Refuses an `http(s)` endpoint `url` (named `setting` in the error) that is not `https`,
/// unless it is plain `http` to a loopback host.
pub fn require_https(setting: &str, url: &str) -> Result<(), SelfServiceError> {
    match scheme_and_host(url) {
        Some((scheme, _)) if scheme == "https" => Ok(()),
        Some((scheme, _)) if scheme == "http" && is_loopback_url(url) => Ok(()),
        Some((scheme, _)) if scheme == "http" => Err(SelfServiceError::Startup(format!(
            "{setting} must be https:// (plain http:// is allowed only to a loopback host)"
        ))),
        _ => Err(SelfServiceError::Startup(format!(
            "{setting} is not an https:// URL with a host"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(url: &str, starttls: bool, allow_insecure: bool) -> DirectoryConfig {
        DirectoryConfig {
            url: url.to_owned(),
            starttls,
            allow_insecure,
            ..DirectoryConfig::default()
        }
    }

    /// Issue 16 item 2: plain `ldap://` is refused unless `allow_insecure = true` on loopback.
    #[test]
    fn ldaps_and_starttls_plain_ldap_refused_unless_insecure_on_loopback() {
        assert_eq!(
            ldap_transport(&directory("ldaps://dc1.corp.example:636", false, false)).unwrap(),
            LdapTransport::Ldaps
        );
        assert_eq!(
            ldap_transport(&directory("ldap://ldap.identity.svc:389", true, false)).unwrap(),
            LdapTransport::StartTls
        );
        assert_eq!(
            ldap_transport(&directory("ldap://127.0.0.1:3389", false, true)).unwrap(),
            LdapTransport::PlainLoopback
        );
        let refused = ldap_transport(&directory("ldap://127.0.0.1:3389", false, false)).unwrap_err();
        assert!(refused.to_string().contains("allow_insecure"), "{refused}");
        let remote = ldap_transport(&directory("ldap://ldap.identity.svc:389", false, true)).unwrap_err();
        assert!(remote.to_string().contains("loopback"), "{remote}");
        assert!(ldap_transport(&directory("ldaps://h", true, false)).is_err());
        assert!(ldap_transport(&directory("ldapi:///run/slapd.sock", false, true)).is_err());
        assert!(ldap_transport(&directory("nonsense", false, true)).is_err());
    }

    /// Issue 16 item 2: the OTP notifier and reply relays must be HTTPS or refused outside loopback.
    #[test]
    fn relays_must_be_https_outside_loopback() {
        assert!(require_https("notifier.url", "https://mail-relay.identity.svc/v1/otp").is_ok());
        assert!(require_https("notifier.url", "http://127.0.0.1:8080/v1/otp").is_ok());
        assert!(require_https("notifier.url", "http://localhost/v1/otp").is_ok());
        let refused = require_https("notifier.url", "http://mail-relay.identity.svc:8080/v1/otp").unwrap_err();
        assert!(refused.to_string().contains("notifier.url must be https"), "{refused}");
        assert!(require_https("reply.webhook_url", "ftp://relay/").is_err());
        assert!(require_https("reply.webhook_url", "relay").is_err());
    }
}
