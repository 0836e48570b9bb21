//! The HTTP transport under `async-openai`: hyper over the workspace's shared
//! connector ([`opsline_runtime::outbound::https_connector`]: rustls with the
//! `ring` provider, the system's root certificates), plugged in through
//! async-openai's middleware hook. No retry layer (retries are the gateway's)
//! and a connect timeout so a dead endpoint fails fast.
//!
//! reqwest's own TLS stays off for the whole workspace (its `rustls-no-provider`
//! would make every `reqwest::Client::new()` panic without a process-global
//! provider); here reqwest only supplies async-openai's body and response types.

use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
pub use opsline_runtime::outbound::install_crypto_provider;

/// A cloneable tower service executing async-openai's requests.
#[derive(Clone, Debug)]
pub struct Transport {
    client: HyperClient<HttpsConnector<HttpConnector>, reqwest::Body>,
}

impl Transport {
    /// A transport for `base_url`; `https` needs the system's root certificates.
    pub fn new(base_url: &str, connect_timeout: Duration) -> Result<Self, String> {
        Self::with_ca_file(base_url, connect_timeout, None)
    }

    /// Like [`Self::new`], also trusting the CA certificates in the PEM file `ca_file`.
    pub fn with_ca_file(
        base_url: &str,
        connect_timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        install_crypto_provider();
        // Plain http needs no roots (a container without CA certificates).
        let connector =
            opsline_runtime::outbound::https_connector_with_ca(connect_timeout, base_url.starts_with("https"), ca_file)
                .map_err(|error| format!("{base_url}: {error}"))?;
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
