//! TLS for the services' own listeners (the gateway's syslog over TLS, RFC 5425): rustls over
//! the `ring` provider, the one TLS stack of the workspace (see [`crate::outbound`]), from a PEM
//! certificate chain and key. No client certificates are asked for.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
pub use tokio_rustls::TlsAcceptor;

/// Why the listener's TLS cannot be set up (a start-up error: fix the files and restart).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InboundTlsError(String);

/// A server configuration presenting the chain in `cert_file` with the key in `key_file`.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<rustls::ServerConfig>, InboundTlsError> {
    let shown = cert_file.display();
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| InboundTlsError(format!("cert_file {shown}: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| InboundTlsError(format!("cert_file {shown}: {e}")))?;
    if chain.is_empty() {
        return Err(InboundTlsError(format!(
            "cert_file {shown}: no certificate in the file"
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| InboundTlsError(format!("key_file {}: {e}", key_file.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(crate::outbound::ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| InboundTlsError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| InboundTlsError(format!("cert_file {shown} with its key: {e}")))?;
    Ok(Arc::new(config))
}

/// An acceptor for [`server_config`].
pub fn acceptor(cert_file: &Path, key_file: &Path) -> Result<TlsAcceptor, InboundTlsError> {
    server_config(cert_file, key_file).map(TlsAcceptor::from)
}
