//! The HTTP side: one chat completion on the OpenAI-compatible endpoint
//! (this module is the only user of `async-openai` in the workspace).
//!
//! Structured output is requested as `response_format: json_schema` (strict)
//! first; an endpoint that rejects it (HTTP 4xx) is asked again with
//! `json_object`, then with no response format at all. The level that worked
//! is remembered, so the rejection costs one extra request per process.
//! The body goes through async-openai's `byot` call: the typed request flattened beside the
//! schema as written (key order kept) and, with `cache_prompt`, llama.cpp's `cache_prompt: true`,
//! so `llama-server` reuses the KV cache of the prompt prefix shared with the previous request.
//! Errors are classified for the retry policy: connection failures, timeouts,
//! 408, 429 and 5xx are transient; other 4xx are rejections.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, CreateChatCompletionResponse, FinishReason,
    ResponseFormat,
};

use secrecy::ExposeSecret;

use crate::transport::Transport;
pub use crate::transport::install_crypto_provider;
use serde_json::value::RawValue;

/// A message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Instructions.
    System(String),
    /// The request (or the repair request).
    User(String),
    /// An earlier answer (sent back for repair).
    Assistant(String),
}

/// What one call asks for.
#[derive(Debug, Clone)]
pub struct CallSpec<'a> {
    /// Model name.
    pub model: &'a str,
    /// Sampling temperature.
    pub temperature: f32,
    /// Completion token limit.
    pub max_tokens: u32,
    /// Schema name (`a-zA-Z0-9_-`, at most 64 characters).
    pub schema_name: &'a str,
    /// The answer's JSON Schema as written (key order kept, see [`crate::schema_text`]).
    pub schema: &'a str,
    /// Ask llama.cpp to reuse the cached prompt prefix (`cache_prompt: true` in the body).
    pub cache_prompt: bool,
}

/// A completion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    /// The answer text (may be empty).
    pub content: String,
    /// Whether generation stopped at the token limit.
    pub truncated: bool,
    /// Prompt tokens reported by the endpoint.
    pub prompt_tokens: u32,
    /// Completion tokens reported by the endpoint.
    pub completion_tokens: u32,
    /// Prompt tokens the endpoint reused from its cache (`prompt_tokens_details.cached_tokens`).
    pub cached_tokens: u32,
}

/// The request body: the typed OpenAI request, the `json_schema` response format with the
/// schema as written (async-openai's takes a `Value`, which would sort the keys and so change
/// the order the answer is generated in), and llama.cpp's `cache_prompt` when asked for.
#[derive(serde::Serialize)]
struct RequestBody<'a> {
    #[serde(flatten)]
    request: &'a CreateChatCompletionRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<SchemaFormat<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cache_prompt: bool,
}

/// `{"type": "json_schema", "json_schema": {...}}`.
#[derive(serde::Serialize)]
struct SchemaFormat<'a> {
    r#type: &'static str,
    json_schema: NamedSchema<'a>,
}

#[derive(serde::Serialize)]
struct NamedSchema<'a> {
    name: &'a str,
    schema: &'a RawValue,
    strict: bool,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Worth retrying: connection, timeout, 408, 429, 5xx.
    #[error("{0}")]
    Transient(String),
    /// The endpoint refused the request (4xx).
    #[error("{0}")]
    Rejected(String),
}

impl CallError {
    /// Whether the retry policy should try again.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// Response format levels, strongest first.
const JSON_SCHEMA: u8 = 0;
const JSON_OBJECT: u8 = 1;
const PLAIN: u8 = 2;

/// The endpoint client.
#[derive(Debug)]
pub struct Endpoint {
    client: Client<OpenAIConfig>,
    timeout: Duration,
    /// The strongest response format the endpoint accepted so far.
    format_level: AtomicU8,
}

/// Connecting should be quick; a dead endpoint must fail fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Endpoint {
    /// A client for `base_url` with an optional API key, also trusting the CAs in
    /// `ca_file` (PEM) when given. The transport
    /// ([`Transport`]) has no retry layer: retries are the gateway's
    /// (`backon`), so they are counted once and the breaker sees every failure.
    pub fn new(
        base_url: &str,
        api_key: Option<&secrecy::SecretString>,
        timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        let mut config = OpenAIConfig::new().with_api_base(base_url.trim_end_matches('/'));
        config = config.with_api_key(api_key.map(|k| k.expose_secret().to_owned()).unwrap_or_default());
        let transport = Transport::with_ca_file(base_url, timeout.min(CONNECT_TIMEOUT), ca_file)?;
        let client = Client::with_config(config).with_http_service(transport);
        Ok(Self {
            client,
            timeout,
            format_level: AtomicU8::new(JSON_SCHEMA),
        })
    }

    /// One completion, degrading the response format on rejection.
    pub async fn complete(&self, spec: &CallSpec<'_>, messages: &[Message]) -> Result<Completion, CallError> {
        let mut level = self.format_level.load(Ordering::Relaxed);
        loop {
            match self.call(spec, messages, level).await {
                Err(CallError::Rejected(reason)) if level < PLAIN => {
                    tracing::debug!(level, %reason, "response format rejected, falling back");
                    level += 1;
                }
                Ok(completion) => {
                    self.format_level.fetch_max(level, Ordering::Relaxed);
                    return Ok(completion);
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn call(&self, spec: &CallSpec<'_>, messages: &[Message], level: u8) -> Result<Completion, CallError> {
        let schema = RawValue::from_string(spec.schema.to_owned())
            .map_err(|e| CallError::Rejected(format!("the prompt's schema is not JSON: {e}")))?;
        let request = CreateChatCompletionRequest {
            model: spec.model.to_owned(),
            messages: messages.iter().map(to_request_message).collect(),
            temperature: Some(spec.temperature),
            max_completion_tokens: Some(spec.max_tokens),
            response_format: (level == JSON_OBJECT).then_some(ResponseFormat::JsonObject),
            ..Default::default()
        };
        let body = RequestBody {
            request: &request,
            response_format: (level == JSON_SCHEMA).then_some(SchemaFormat {
                r#type: "json_schema",
                json_schema: NamedSchema {
                    name: spec.schema_name,
                    schema: &schema,
                    strict: true,
                },
            }),
            cache_prompt: spec.cache_prompt,
        };
        let chat = self.client.chat();
        let call = chat.create_byot::<_, CreateChatCompletionResponse>(body);
        let response = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| CallError::Transient(format!("timed out after {:?}", self.timeout)))?
            .map_err(classify)?;
        let usage = response.usage.as_ref();
        let choice = response.choices.into_iter().next();
        Ok(Completion {
            truncated: choice
                .as_ref()
                .is_some_and(|c| c.finish_reason == Some(FinishReason::Length)),
            content: choice.and_then(|c| c.message.content).unwrap_or_default(),
            prompt_tokens: usage.map_or(0, |u| u.prompt_tokens),
            completion_tokens: usage.map_or(0, |u| u.completion_tokens),
            cached_tokens: usage
                .and_then(|u| u.prompt_tokens_details.as_ref())
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
        })
    }
}

fn to_request_message(message: &Message) -> ChatCompletionRequestMessage {
    match message {
        Message::System(text) => ChatCompletionRequestSystemMessage {
            content: text.clone().into(),
            name: None,
        }
        .into(),
        Message::User(text) => ChatCompletionRequestUserMessage {
            content: text.clone().into(),
            name: None,
        }
        .into(),
        Message::Assistant(text) => ChatCompletionRequestAssistantMessage::from(text.clone()).into(),
    }
}

fn classify(error: OpenAIError) -> CallError {
    match error {
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            let message = format!("HTTP {status}: {}", truncate(&api.api_error.message, 300));
            if status == 408 || status == 429 || status >= 500 {
                CallError::Transient(message)
            } else {
                CallError::Rejected(message)
            }
        }
        OpenAIError::Reqwest(error) => CallError::Transient(format!("http: {error}")),
        // Transport errors (connection refused, reset, TLS): worth a retry.
        OpenAIError::Boxed(error) => CallError::Transient(format!("transport: {error}")),
        // An error body that is not OpenAI-shaped (llama.cpp, proxies) or an
        // unexpected answer shape: treat as a rejection of this request form.
        OpenAIError::JSONDeserialize(error, body) => {
            CallError::Rejected(format!("unexpected response ({error}): {}", truncate(&body, 300)))
        }
        other => CallError::Rejected(other.to_string()),
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
