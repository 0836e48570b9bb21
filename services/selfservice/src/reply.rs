//! Private replies posted straight to the chat platform: Slack's `response_url`
//! (an ephemeral message, `https`) or the configured outbound webhook (`https`; plain `http`
//! only to a loopback host, see [`crate::transport`]), through
//! the workspace's [`OutboundClient`] (`http` and `https`, no redirects) with `backon`
//! retries on connection errors, timeouts, 429 and 5xx; the caller dead-letters a reply
//! that still failed (with the redacted text only). The reply text is a `SecretString`
//! (it may carry a temporary password): it is never logged and no error quotes it (nor
//! the URL: a response URL is a credential).
//!
//! `reply.use_response_url = false` sends every reply to `reply.webhook_url` instead,
//! e.g. an in-cluster relay when egress to the platform is not allowed.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use opsline_events::ops::ChatMessage;
use opsline_runtime::outbound::OutboundClient;
use secrecy::{ExposeSecret, SecretString};

use crate::config::ReplyConfig;
use crate::error::SelfServiceError;

/// Posts private replies to the platform.
#[derive(Debug, Clone)]
pub struct ReplySender {
    client: OutboundClient,
    config: ReplyConfig,
}

struct Failure {
    retryable: bool,
    reason: String,
}

impl ReplySender {
    /// A sender with `config`.
    /// Refuses a `webhook_url` that is not `https` outside loopback.
    pub fn new(config: ReplyConfig) -> Result<Self, SelfServiceError> {
        if !config.webhook_url.is_empty() {
            crate::transport::require_https("reply.webhook_url", &config.webhook_url)?;
        }
        let client = OutboundClient::with_ca_file(
            Duration::from_millis(config.timeout_ms.max(100)),
            config.ca_file.as_deref(),
        )
        .map_err(|e| SelfServiceError::Startup(format!("HTTP client: {e}")))?;
        Ok(Self { client, config })
    }

    /// Where a reply to `message` goes: its response URL (if allowed) or the outbound webhook.
    fn target(&self, message: &ChatMessage) -> Result<String, SelfServiceError> {
        if let Some(url) = message.response_url.as_ref().filter(|_| self.config.use_response_url) {
            let allowed = self.config.allowed_url_prefixes.is_empty()
                || self.config.allowed_url_prefixes.iter().any(|p| url.starts_with(p));
            if allowed {
                // A response URL is a credential: never sent in clear outside loopback.
                crate::transport::require_https("the response URL", url)
                    .map_err(|_| SelfServiceError::Reply("response URL is not https".to_owned()))?;
                return Ok(url.clone());
            }
            return Err(SelfServiceError::Reply(
                "response URL not in allowed_url_prefixes".to_owned(),
            ));
        }
        if self.config.webhook_url.is_empty() {
            return Err(SelfServiceError::Reply(
                "no response URL and no reply.webhook_url configured".to_owned(),
            ));
        }
        Ok(self.config.webhook_url.clone())
    }

    /// Posts `text` privately to the author of `message`, retrying transient failures.
    pub async fn deliver(&self, message: &ChatMessage, text: &SecretString) -> Result<(), SelfServiceError> {
        let url = self.target(message)?;
        let body = if message.response_url.is_some() && message.platform == "slack" {
            serde_json::json!({
                "response_type": "ephemeral",
                "replace_original": false,
                "text": text.expose_secret(),
            })
        } else {
            serde_json::json!({
                "user_id": message.user_id,
                "channel_id": message.channel_id,
                "private": true,
                "text": text.expose_secret(),
            })
        };
        let attempt = || async {
            let response = self.client.post_json(&url, &body, &[]).await.map_err(|e| Failure {
                retryable: e.is_retryable(),
                reason: format!("platform unreachable: {e}"),
            })?;
            if response.is_success() {
                Ok(())
            } else {
                Err(Failure {
                    retryable: response.is_retryable_status(),
                    reason: format!("platform answered {}", response.status),
                })
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.config.retry_delay_ms.max(1)))
            .with_max_delay(Duration::from_secs(1))
            .with_max_times(self.config.attempts.max(1) - 1);
        attempt
            .retry(backoff)
            .when(|failure: &Failure| failure.retryable)
            .await
            .map_err(|failure| SelfServiceError::Reply(failure.reason))
    }
}
