//! The LLM gateway: the only crate that talks to a language model.
//!
//! Callers hand it a task name, a prompt id and already-redacted variables; it
//! renders the versioned prompt from the prompt library (`prompts/`), calls the
//! approved model for the task on an OpenAI-compatible endpoint, checks the
//! answer against the prompt's JSON Schema and returns the typed value with the
//! model and prompt version that produced it. Every call, cached or not, is one
//! [`LlmUsage`] record handed to the [`UsageSink`] (the Kafka usage ledger).
//!
//! Delivery: best effort. A failure is returned to the caller, which carries on
//! without the enrichment; nothing on the routing path waits for a model.
//!
//! SKELETON: being implemented; the API below is the contract.

use std::collections::BTreeMap;
use std::sync::Arc;

use opsline_events::ops::LlmUsage;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Settings of one task (e.g. `ticket_enrichment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// The model used for the task; must be in the task's approved list.
    pub model: String,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: f32,
    /// Completion token limit.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
}

fn default_max_tokens() -> u32 {
    512
}

/// Gateway settings. The default is disabled: everything works without summaries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Whether a model is configured at all.
    pub enabled: bool,
    /// OpenAI-compatible base URL, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// API key, if the endpoint needs one.
    pub api_key: Option<secrecy::SecretString>,
}

/// A structured-output request; `vars` must already be redacted.
#[derive(Debug, Clone)]
pub struct StructuredRequest<'a> {
    /// Task name (selects model, limits and price).
    pub task: &'a str,
    /// Prompt id in the prompt library.
    pub prompt_id: &'a str,
    /// Template variables, already redacted.
    pub vars: &'a BTreeMap<String, String>,
}

/// A validated answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredOutput<T> {
    /// The parsed, schema-valid value.
    pub value: T,
    /// The model that produced it.
    pub model: String,
    /// `prompt_id@version`.
    pub prompt: String,
    /// Whether it came from the response cache.
    pub cache_hit: bool,
}

/// Why a call gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No model is configured.
    #[error("no model configured")]
    Disabled,
    /// The circuit breaker is open after repeated failures.
    #[error("circuit open")]
    CircuitOpen,
    /// Unknown prompt id or task, or a model not approved for the task.
    #[error("configuration: {0}")]
    Config(String),
    /// The endpoint failed or timed out after the retries.
    #[error("endpoint: {0}")]
    Endpoint(String),
    /// The answer was not valid after the repair retry.
    #[error("invalid output: {0}")]
    InvalidOutput(String),
}

/// Where usage records go (the Kafka ledger in services, a vector in tests).
pub trait UsageSink: Send + Sync {
    /// Records one call; must not block.
    fn record(&self, usage: LlmUsage);
}

/// A sink that drops records (for tools that keep no ledger).
#[derive(Debug, Default)]
pub struct NoLedger;

impl UsageSink for NoLedger {
    fn record(&self, _usage: LlmUsage) {}
}

/// The gateway; cheap to clone.
#[derive(Clone)]
pub struct LlmGateway {
    config: Arc<LlmConfig>,
    sink: Arc<dyn UsageSink>,
}

impl std::fmt::Debug for LlmGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmGateway").field("enabled", &self.config.enabled).finish()
    }
}

impl LlmGateway {
    /// Builds the gateway (loads the prompt library, checks the approved models).
    pub fn new(config: LlmConfig, sink: Arc<dyn UsageSink>) -> Result<Self, LlmError> {
        Ok(Self { config: Arc::new(config), sink })
    }

    /// A gateway with no model: every call returns [`LlmError::Disabled`].
    pub fn disabled() -> Self {
        Self { config: Arc::new(LlmConfig::default()), sink: Arc::new(NoLedger) }
    }

    /// Whether a model is configured.
    pub fn is_enabled(&self) -> bool {
        self.config.enabled
    }

    /// Renders the prompt, calls the model and returns the schema-valid answer.
    pub async fn structured<T: DeserializeOwned>(
        &self,
        request: StructuredRequest<'_>,
    ) -> Result<StructuredOutput<T>, LlmError> {
        let _ = (&self.sink, request);
        Err(LlmError::Disabled)
    }
}
