//! Client-side TLS trust shared by every outbound connection of the workspace: the HTTP(S)
//! client of [`crate::outbound`] and the services' non-HTTP clients (the self-service LDAP
//! client over LDAPS or StartTLS). One loader of `ca_file`: the system roots that parse plus
//! every certificate of one PEM file (a corporate or private CA adds trust, never replaces
//! the system roots), rustls over the `ring` provider.
//!
//! Also the one rule for plain (unencrypted) transports: [`is_loopback_url`] tells whether a
//! URL points at this host, the only place where `http://` or `ldap://` may be accepted.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Why a client TLS configuration cannot be built (a start-up error: fix the file and restart).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientTlsError(String);

/// The system roots (those that parse) plus every certificate in the PEM file `ca_file`.
/// An unreadable file, or one without any certificate, is an error naming `ca_file`.
pub fn roots_with_ca_file(ca_file: &Path) -> Result<RootCertStore, ClientTlsError> {
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    let (system_added, _unparsable) = roots.add_parsable_certificates(system.certs);
    let file = ca_file.display();
    let extra = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| ClientTlsError(format!("ca_file {file}: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientTlsError(format!("ca_file {file}: {e}")))?;
    if extra.is_empty() {
        return Err(ClientTlsError(format!("ca_file {file}: no certificate in the file")));
    }
    let extra_count = extra.len();
    for certificate in extra {
        roots
            .add(certificate)
            .map_err(|e| ClientTlsError(format!("ca_file {file}: {e}")))?;
    }
    tracing::debug!(system_added, extra_count, "client TLS trust anchors loaded");
    Ok(roots)
}

/// A rustls client configuration (`ring`, safe protocol versions, no client certificate)
/// trusting the system roots plus, when given, the CA certificates in `ca_file`. Without a
/// `ca_file`, a system without any root certificate is an error (nothing could be trusted).
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, ClientTlsError> {
    let roots = match ca_file {
        Some(ca_file) => roots_with_ca_file(ca_file)?,
        None => {
            let mut roots = RootCertStore::empty();
            let (added, _unparsable) = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if added == 0 {
                return Err(ClientTlsError(
                    "no system root certificates: set ca_file to the server's CA".to_owned(),
                ));
            }
            roots
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(crate::outbound::ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientTlsError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The scheme (lower case) and host of `url` (`scheme://[user@]host[:port][/...]`, IPv6 hosts
/// in brackets, returned without them); `None` when `url` has no `scheme://` or no host.
pub fn scheme_and_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if scheme.is_empty() || host.is_empty() {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), host.to_owned()))
}

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `::1`): the only place
/// a plain transport (`http://`, `ldap://`) may be allowed.
pub fn is_loopback_url(url: &str) -> bool {
    scheme_and_host(url).is_some_and(|(_, host)| {
        host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_loopback_hosts_apart() {
        assert!(is_loopback_url("http://127.0.0.1:8080/x"));
        assert!(is_loopback_url("ldap://localhost"));
        assert!(is_loopback_url("http://[::1]:9/"));
        assert!(is_loopback_url("http://user@127.0.0.2/"));
        assert!(!is_loopback_url("http://mail-relay.identity.svc:8080/v1/otp"));
        assert!(!is_loopback_url("ldap://10.0.0.1:389"));
        assert!(!is_loopback_url("http://127.0.0.1.example.org/"));
        assert!(!is_loopback_url("not a url"));
        assert_eq!(
            scheme_and_host("LDAPS://ldap.example.org:636"),
            Some(("ldaps".to_owned(), "ldap.example.org".to_owned()))
        );
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("empty.pem");
        std::fs::write(&file, "no pem here").unwrap();
        let error = client_config(Some(&file)).unwrap_err().to_string();
        assert!(error.contains("no certificate"), "{error}");
    }
}
