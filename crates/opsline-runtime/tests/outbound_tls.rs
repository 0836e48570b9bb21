//! Successful and refused `https` calls through `OutboundClient` against a local TLS
//! server (tokio-rustls, `ring`) whose certificate is issued by a throw-away CA made
//! with `rcgen`: trusted when the CA is the client's `ca_file`, refused with a clear
//! error that does not quote the URL when it is not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opsline_runtime::outbound::{OutboundClient, OutboundError};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A CA (its PEM) and a server certificate for 127.0.0.1 and localhost issued by it.
struct TestPki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn test_pki() -> TestPki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Opsline test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let mut leaf_params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "opsline test helpdesk");
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    TestPki {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    }
}

/// Serves HTTP/1.1 over TLS: every request is answered `200` with `ok:<request body>`.
async fn tls_echo_server(pki: &TestPki) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A failed handshake (an untrusting client) just ends the connection.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let body = read_request_body(&mut tls).await;
                let answer = format!("ok:{body}");
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

/// Reads one request (headers, then `content-length` bytes of body) and returns its body.
async fn read_request_body(stream: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut chunk).await else {
            return String::new();
        };
        if n == 0 {
            return String::new();
        }
        buffer.extend_from_slice(&chunk[..n]);
        let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if buffer.len() >= end + 4 + length {
            return String::from_utf8_lossy(&buffer[end + 4..end + 4 + length]).into_owned();
        }
    }
}

#[tokio::test]
async fn https_call_succeeds_with_the_ca_file() {
    let pki = test_pki();
    let addr = tls_echo_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("corporate-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();

    let client = OutboundClient::with_ca_file(Duration::from_secs(10), Some(&ca_file)).unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/hooks/secret-token", addr.port());
        let answer = client
            .post_json(&url, &serde_json::json!({ "ticket_id": "T-1" }), &[])
            .await
            .unwrap_or_else(|e| panic!("https call to {host} failed: {e}"));
        assert!(answer.is_success(), "{answer:?}");
        assert_eq!(answer.body_snippet, r#"ok:{"ticket_id":"T-1"}"#);
    }
}

#[tokio::test]
async fn https_call_to_an_untrusted_ca_fails_clearly_without_the_url() {
    let pki = test_pki();
    let addr = tls_echo_server(&pki).await;
    let client = OutboundClient::new(Duration::from_secs(10)).unwrap();
    let url = format!("https://127.0.0.1:{}/hooks/secret-token", addr.port());
    let error = client.post_json(&url, &serde_json::json!({}), &[]).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, OutboundError::Tls(_)), "{text}");
    assert!(
        !error.is_retryable(),
        "an untrusted certificate does not fix itself: {text}"
    );
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("ca_file"), "the error says what to configure: {text}");
    assert!(!text.contains("secret-token") && !text.contains("/hooks"), "{text}");
}

#[tokio::test]
async fn a_ca_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("empty.pem");
    std::fs::write(&ca_file, "not a certificate\n").unwrap();
    let error = OutboundClient::with_ca_file(Duration::from_secs(1), Some(&ca_file)).unwrap_err();
    assert!(matches!(error, OutboundError::Tls(_)), "{error}");
    let missing = dir.path().join("missing.pem");
    assert!(OutboundClient::with_ca_file(Duration::from_secs(1), Some(&missing)).is_err());
}
