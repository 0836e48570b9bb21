//! The workspace's one outbound HTTP client: hyper (through `hyper-util`) with
//! rustls over the `ring` provider, passed explicitly to every connector (no
//! process-global provider is needed, nothing panics when none is installed).
//! It speaks `http` and `https` (HTTP/1.1), never follows redirects, and bounds
//! every call (connect, send, and reading the answer) by one timeout.
//!
//! [`https_connector`] is the shared connector builder: [`OutboundClient`] uses
//! it for JSON webhooks and chat replies, and `opsline-llm`'s transport wraps it
//! under async-openai. Retries are the callers' (they know what is safe to
//! repeat); errors never quote the URL (a Slack `response_url` is a credential).
//!
//! Trust: the system's root certificates, plus, optionally, the CA certificates of
//! one PEM file (`ca_file` in the configs that build a client: a corporate or private
//! CA). The extra file adds trust anchors; it never replaces the system roots.

use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use bytes::Bytes;
pub use http::Method;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How many bytes of an answer's body [`OutboundResponse::body_snippet`] keeps.
pub const BODY_SNIPPET_BYTES: usize = 1024;

/// Why an outbound call failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The request cannot be built (bad URL, scheme or header); retrying will not help.
    #[error("invalid outbound request: {0}")]
    InvalidRequest(String),
    /// The TLS setup failed (no root certificates where they are required, an unusable
    /// `ca_file`), or the server's certificate is not trusted; retrying will not help.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// Connecting, the TLS handshake, sending or reading failed.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No complete answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl OutboundError {
    /// Whether the same request may succeed later (network trouble, timeouts).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Timeout(_))
    }
}

/// The status and the start of the body of an answer (any status, 4xx/5xx included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// At most [`BODY_SNIPPET_BYTES`] of the body, lossily decoded as UTF-8.
    pub body_snippet: String,
    /// The `Retry-After` header in seconds (RFC 9110 delay-seconds; an HTTP date is ignored).
    pub retry_after: Option<Duration>,
}

impl OutboundResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// Whether the status says "try again later" (5xx or 429).
    pub fn is_retryable_status(&self) -> bool {
        self.status.is_server_error() || self.status == StatusCode::TOO_MANY_REQUESTS
    }
}

static CRYPTO_PROVIDER: Once = Once::new();

/// Installs rustls' `ring` provider as the process default (once; a provider
/// installed earlier is kept). Connectors built here pass `ring` explicitly and do
/// not need this; it keeps any other rustls user in the process on the same stack.
pub fn install_crypto_provider() {
    CRYPTO_PROVIDER.call_once(|| {
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An HTTP-or-HTTPS connector: rustls with the `ring` provider and the system's
/// root certificates, HTTP/1.1, TCP_NODELAY and `connect_timeout`.
///
/// When the system has no root certificates: with `require_roots` this fails,
/// otherwise it logs a warning and trusts no server (plain `http` still works,
/// every `https` handshake fails with a certificate error).
pub fn https_connector(
    connect_timeout: Duration,
    require_roots: bool,
) -> Result<HttpsConnector<HttpConnector>, OutboundError> {
    https_connector_with_ca(connect_timeout, require_roots, None)
}

/// Like [`https_connector`], also trusting the CA certificates in the PEM file `ca_file`
/// (when given) besides the system roots. With a `ca_file`, missing system roots are not an
/// error (the file's CAs are trusted); an unreadable file or one without any certificate is.
pub fn https_connector_with_ca(
    connect_timeout: Duration,
    require_roots: bool,
    ca_file: Option<&Path>,
) -> Result<HttpsConnector<HttpConnector>, OutboundError> {
    if let Some(ca_file) = ca_file {
        let config = client_config(roots_with_ca_file(ca_file)?)?;
        let builder = HttpsConnectorBuilder::new().with_tls_config(config);
        return Ok(builder
            .https_or_http()
            .enable_http1()
            .wrap_connector(http_connector(connect_timeout)));
    }
    let http = http_connector(connect_timeout);
    let builder = match HttpsConnectorBuilder::new().with_provider_and_native_roots(ring_provider()) {
        Ok(builder) => builder,
        Err(error) if require_roots => return Err(OutboundError::Tls(format!("no root certificates: {error}"))),
        Err(error) => {
            tracing::warn!(%error, "no TLS root certificates: outbound https will fail, http works");
            HttpsConnectorBuilder::new().with_tls_config(empty_roots_config()?)
        }
    };
    Ok(builder.https_or_http().enable_http1().wrap_connector(http))
}

fn http_connector(connect_timeout: Duration) -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    http
}

/// The shared loader of [`crate::client_tls`], its error as a TLS error.
fn roots_with_ca_file(ca_file: &Path) -> Result<rustls::RootCertStore, OutboundError> {
    crate::client_tls::roots_with_ca_file(ca_file).map_err(|e| OutboundError::Tls(e.to_string()))
}

/// The `ring` crypto provider every rustls configuration of the workspace uses.
pub(crate) fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn empty_roots_config() -> Result<rustls::ClientConfig, OutboundError> {
    client_config(rustls::RootCertStore::empty())
}

fn client_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, OutboundError> {
    Ok(rustls::ClientConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| OutboundError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Posts JSON to webhooks and chat platforms; cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct OutboundClient {
    client: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl OutboundClient {
    /// A client whose every call (connect, send, read the answer) ends within `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, OutboundError> {
        Self::with_ca_file(timeout, None)
    }

    /// Like [`Self::new`], also trusting the CA certificates in the PEM file `ca_file`
    /// (when given) besides the system roots; fails when that file cannot be used.
    pub fn with_ca_file(timeout: Duration, ca_file: Option<&Path>) -> Result<Self, OutboundError> {
        let timeout = timeout.max(Duration::from_millis(1));
        let connector = https_connector_with_ca(timeout, false, ca_file)?;
        Ok(Self {
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
            timeout,
        })
    }

    /// POSTs `body` as JSON to `url` with `extra_headers`; any answered status is `Ok`.
    pub async fn post_json<T: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        body: &T,
        extra_headers: &[(&str, &str)],
    ) -> Result<OutboundResponse, OutboundError> {
        let bytes = serde_json::to_vec(body).map_err(|e| OutboundError::InvalidRequest(format!("body: {e}")))?;
        self.post(url, "application/json", Bytes::from(bytes), extra_headers)
            .await
    }

    /// POSTs `body` with `content_type` to `url` with `extra_headers`.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Bytes,
        extra_headers: &[(&str, &str)],
    ) -> Result<OutboundResponse, OutboundError> {
        let request = build_request(Method::POST, url, Some(content_type), body, extra_headers)?;
        tokio::time::timeout(self.timeout, self.send(request, BODY_SNIPPET_BYTES, false))
            .await
            .map_err(|_| OutboundError::Timeout(self.timeout))?
    }

    /// GETs `url` with `extra_headers`; the whole body is read into `body_snippet` when it
    /// has at most `max_body` bytes, a longer one is an error. Any answered status is `Ok`.
    pub async fn get(
        &self,
        url: &str,
        extra_headers: &[(&str, &str)],
        max_body: usize,
    ) -> Result<OutboundResponse, OutboundError> {
        let request = build_request(Method::GET, url, None, Bytes::new(), extra_headers)?;
        tokio::time::timeout(self.timeout, self.send(request, max_body, true))
            .await
            .map_err(|_| OutboundError::Timeout(self.timeout))?
    }

    /// Sends `method` to `url` with an optional JSON `body` and `extra_headers` (helpdesk REST
    /// APIs: PUT, PATCH, POST, GET); the whole answer is read when it has at most `max_body`
    /// bytes, a longer one is an error. Any answered status is `Ok`.
    pub async fn request_json(
        &self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
        extra_headers: &[(&str, &str)],
        max_body: usize,
    ) -> Result<OutboundResponse, OutboundError> {
        let (content_type, bytes) = match body {
            Some(body) => {
                let bytes =
                    serde_json::to_vec(body).map_err(|e| OutboundError::InvalidRequest(format!("body: {e}")))?;
                (Some("application/json"), Bytes::from(bytes))
            }
            None => (None, Bytes::new()),
        };
        let request = build_request(method, url, content_type, bytes, extra_headers)?;
        tokio::time::timeout(self.timeout, self.send(request, max_body, true))
            .await
            .map_err(|_| OutboundError::Timeout(self.timeout))?
    }

    /// Sends `request` and keeps at most `limit` bytes of the answer; with `whole`, a longer
    /// answer is an error instead of being cut.
    async fn send(
        &self,
        request: Request<Full<Bytes>>,
        limit: usize,
        whole: bool,
    ) -> Result<OutboundResponse, OutboundError> {
        let response = self.client.request(request).await.map_err(|e| {
            let chain = error_chain(&e);
            if chain.contains(UNTRUSTED_CERTIFICATE) {
                OutboundError::Tls(format!(
                    "the server's certificate is not trusted (a private CA needs `ca_file`): {chain}"
                ))
            } else {
                OutboundError::Unreachable(chain)
            }
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = response.into_body();
        let mut snippet = Vec::new();
        while snippet.len() < limit || whole {
            let Some(frame) = body.frame().await else { break };
            let frame = frame.map_err(|e| OutboundError::Unreachable(format!("reading the answer: {e}")))?;
            if let Ok(data) = frame.into_data() {
                if whole && snippet.len() + data.len() > limit {
                    return Err(OutboundError::Unreachable(format!(
                        "the answer is longer than {limit} bytes"
                    )));
                }
                let room = limit - snippet.len();
                snippet.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        Ok(OutboundResponse {
            status,
            body_snippet: String::from_utf8_lossy(&snippet).into_owned(),
            retry_after,
        })
    }
}

/// The request; errors name what is wrong, never the URL itself.
fn build_request(
    method: Method,
    url: &str,
    content_type: Option<&str>,
    body: Bytes,
    extra_headers: &[(&str, &str)],
) -> Result<Request<Full<Bytes>>, OutboundError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| OutboundError::InvalidRequest("the URL does not parse".to_owned()))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => {}
        _ => {
            return Err(OutboundError::InvalidRequest(
                "the URL needs an http or https scheme and a host".to_owned(),
            ));
        }
    }
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(body))
        .map_err(|e| OutboundError::InvalidRequest(e.to_string()))?;
    let headers = request.headers_mut();
    if let Some(content_type) = content_type {
        let content_type = HeaderValue::from_str(content_type)
            .map_err(|_| OutboundError::InvalidRequest("invalid content type".to_owned()))?;
        headers.insert(CONTENT_TYPE, content_type);
    }
    for (name, value) in extra_headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| OutboundError::InvalidRequest(format!("invalid header name {name:?}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| OutboundError::InvalidRequest(format!("invalid value for header {name}")))?;
        headers.append(name, value);
    }
    Ok(request)
}

/// How rustls describes a certificate it refused (`Error::InvalidCertificate`).
const UNTRUSTED_CERTIFICATE: &str = "invalid peer certificate";

/// `error: cause: cause` (hyper's top-level errors alone say little, e.g. "client error (Connect)").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::Router;
    use axum::http::HeaderMap;
    use axum::routing::post;

    use super::*;

    async fn serve(router: Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        addr
    }

    #[tokio::test]
    async fn gets_a_whole_answer_up_to_a_bound() {
        let big = "x".repeat(5_000);
        let router = Router::new().route(
            "/big",
            axum::routing::get(|headers: HeaderMap| async move {
                let token = headers.get("x-token").and_then(|v| v.to_str().ok()).unwrap_or("");
                format!("{token}{big}")
            }),
        );
        let addr = serve(router).await;
        let client = OutboundClient::new(Duration::from_secs(5)).unwrap();
        let url = format!("http://{addr}/big");
        let answer = client.get(&url, &[("x-token", "t:")], 10_000).await.unwrap();
        assert!(answer.is_success());
        assert_eq!(
            answer.body_snippet.len(),
            5_002,
            "the whole body, beyond the POST snippet"
        );
        assert!(answer.body_snippet.starts_with("t:xx"));
        let cut = client.get(&url, &[], 100).await.unwrap_err();
        assert!(cut.to_string().contains("longer than 100 bytes"), "{cut}");
    }

    #[tokio::test]
    async fn sends_any_method_with_json_and_reads_retry_after() {
        let router = Router::new().route(
            "/ticket/7",
            axum::routing::put(|body: axum::Json<serde_json::Value>| async move {
                let wait = [(axum::http::header::RETRY_AFTER, "3")];
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    wait,
                    format!("queue={}", body.0["Queue"]),
                )
            }),
        );
        let addr = serve(router).await;
        let client = OutboundClient::new(Duration::from_secs(5)).unwrap();
        let body = serde_json::json!({ "Queue": "Hardware" });
        let answer = client
            .request_json(Method::PUT, &format!("http://{addr}/ticket/7"), Some(&body), &[], 1_000)
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(answer.body_snippet, "queue=\"Hardware\"");
    }

    #[tokio::test]
    async fn posts_json_over_http_and_reads_the_answer() {
        let router = Router::new()
            .route(
                "/hook",
                post(|headers: HeaderMap, body: axum::Json<serde_json::Value>| async move {
                    let token = headers.get("x-token").and_then(|v| v.to_str().ok()).unwrap_or("");
                    format!("{token}:{}", body.0["text"].as_str().unwrap_or(""))
                }),
            )
            .route(
                "/busy",
                post(|| async { (axum::http::StatusCode::TOO_MANY_REQUESTS, "later") }),
            );
        let addr = serve(router).await;
        let client = OutboundClient::new(Duration::from_secs(5)).unwrap();
        let body = serde_json::json!({ "text": "hello" });

        let answer = client
            .post_json(&format!("http://{addr}/hook"), &body, &[("x-token", "t1")])
            .await
            .unwrap();
        assert!(answer.is_success());
        assert_eq!(answer.body_snippet, "t1:hello");

        let answer = client
            .post_json(&format!("http://{addr}/busy"), &body, &[])
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(answer.is_retryable_status());
    }

    #[tokio::test]
    async fn https_to_a_closed_port_fails_cleanly() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let client = OutboundClient::new(Duration::from_secs(5)).unwrap();
        let error = client
            .post_json(
                &format!("https://127.0.0.1:{port}/secret-token"),
                &serde_json::json!({}),
                &[],
            )
            .await
            .unwrap_err();
        assert!(error.is_retryable(), "{error}");
        assert!(!error.to_string().contains("secret-token"), "{error}");
    }

    #[tokio::test]
    async fn https_handshake_with_a_plain_http_server_fails_cleanly() {
        let addr = serve(Router::new().route("/", post(|| async { "ok" }))).await;
        let client = OutboundClient::new(Duration::from_secs(5)).unwrap();
        let error = client
            .post_json(&format!("https://{addr}/"), &serde_json::json!({}), &[])
            .await
            .unwrap_err();
        assert!(matches!(error, OutboundError::Unreachable(_)), "{error}");
    }

    #[tokio::test]
    async fn bad_urls_and_headers_are_not_retryable() {
        let client = OutboundClient::new(Duration::from_secs(1)).unwrap();
        for (url, headers) in [
            ("ftp://example.org/x", &[][..]),
            ("not a url", &[][..]),
            ("http://127.0.0.1:9/", &[("bad header", "v")][..]),
        ] {
            let error = client
                .post_json(url, &serde_json::json!({}), headers)
                .await
                .unwrap_err();
            assert!(!error.is_retryable(), "{error}");
        }
    }
}
