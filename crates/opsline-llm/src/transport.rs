//! The HTTP transport under `async-openai`: hyper with rustls (`ring`
//! provider, the system's root certificates), plugged in through
//! async-openai's middleware hook. No retry layer (retries are the gateway's)
//! and a connect timeout so a dead endpoint fails fast.
//!
//! Why not reqwest's own TLS: its `rustls-no-provider` feature is global to
//! the build and makes every `reqwest::Client::new()` in the process panic
//! unless a crypto provider was installed first; keeping reqwest TLS-free and
//! owning the TLS here keeps the rest of the workspace unaffected.

use std::sync::Once;
use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

static CRYPTO_PROVIDER: Once = Once::new();

/// Installs rustls' `ring` provider as the process default (once; a provider
/// installed earlier is kept). The transport passes `ring` explicitly anyway;
/// this keeps any other rustls user in the process on the same stack.
pub fn install_crypto_provider() {
    CRYPTO_PROVIDER.call_once(|| {
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A cloneable tower service executing async-openai's requests.
#[derive(Clone, Debug)]
pub struct Transport {
    client: HyperClient<HttpsConnector<HttpConnector>, reqwest::Body>,
}

impl Transport {
    /// A transport for `base_url`; `https` needs the system's root certificates.
    pub fn new(base_url: &str, connect_timeout: Duration) -> Result<Self, String> {
        install_crypto_provider();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        let builder = match HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        {
            Ok(builder) => builder,
            Err(error) if base_url.starts_with("https") => {
                return Err(format!("no TLS root certificates for {base_url}: {error}"));
            }
            // Plain http needs no roots (a container without CA certificates).
            Err(_) => HttpsConnectorBuilder::new().with_tls_config(empty_roots_config()?),
        };
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        Ok(Self {
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Sends one request built by async-openai.
    pub async fn execute(&self, factory: HttpRequestFactory) -> Result<reqwest::Response, OpenAIError> {
        let request = factory.build().await?;
        let request: http::Request<reqwest::Body> = request.try_into().map_err(OpenAIError::Reqwest)?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| OpenAIError::Boxed(Box::new(e)))?;
        let (parts, body) = response.into_parts();
        Ok(reqwest::Response::from(http::Response::from_parts(
            parts,
            reqwest::Body::wrap(body),
        )))
    }
}

fn empty_roots_config() -> Result<rustls::ClientConfig, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

impl tower::Service<HttpRequestFactory> for Transport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let transport = self.clone();
        Box::pin(async move { transport.execute(factory).await })
    }
}
