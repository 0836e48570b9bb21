//! The LLM gateway: the only crate that talks to a language model (and the
//! only one that imports `async-openai`).
//!
//! Callers hand it a task name, a prompt id and already-redacted variables; it
//! renders the versioned prompt from the prompt library (`prompts/`), calls the
//! approved model for the task on an OpenAI-compatible endpoint, checks the
//! answer against the prompt's JSON Schema and returns the typed value with the
//! model and prompt version that produced it. Every call, cached or not, is one
//! [`LlmUsage`] record handed to the [`UsageSink`] (the Kafka usage ledger,
//! [`KafkaUsageSink`]).
//!
//! Delivery: best effort, never on the routing path. A failure is returned to
//! the caller, which carries on without the enrichment; nothing on the routing
//! path waits for a model. Usage records are best effort too (see [`ledger`]).
//!
//! Protection: a per-call timeout, retries with backoff on endpoint errors
//! only, a circuit breaker ([`breaker`]), one [`scheduler`] per endpoint shared by
//! every task of the process (priority classes, per-task budgets, bounded queues,
//! stale work dropped before it is sent), a bounded response cache ([`cache`]) and
//! one repair request for an invalid answer.
//! The gateway never sees unredacted text: callers redact with
//! `opsline-privacy` first; only the sha256 of what was sent is logged.
//!
//! Modules: [`config`] (settings), [`prompts`] (the prompt library),
//! [`endpoint`] (chat call and response-format fallback), [`transport`]
//! (hyper + rustls/ring under async-openai), [`output`] (answer
//! parsing), [`breaker`], [`cache`], [`ledger`], [`scheduler`], [`local`] (the embedded
//! `llama-server` process), `gateway` (the call path).

pub mod breaker;
pub mod cache;
pub mod config;
pub mod endpoint;
mod gateway;
pub mod ledger;
pub mod local;
mod metrics;
pub mod output;
pub mod prompts;
pub mod scheduler;
pub mod schema_text;
pub mod transport;

use std::collections::BTreeMap;

pub use breaker::BreakerState;
pub use config::{BreakerConfig, LlmConfig, PriceConfig, RetryConfig, TaskConfig};
pub use gateway::LlmGateway;
pub use ledger::KafkaUsageSink;
use opsline_events::ops::LlmUsage;
pub use prompts::{Prompt, PromptLibrary};
pub use scheduler::{Admission, Budget, Priority, Scheduler, StaleCheck};

/// A structured-output request; `vars` must already be redacted.
#[derive(Debug, Clone)]
pub struct StructuredRequest<'a> {
    /// Task name (selects model, limits and price).
    pub task: &'a str,
    /// Prompt id in the prompt library.
    pub prompt_id: &'a str,
    /// Template variables, already redacted.
    pub vars: &'a BTreeMap<String, String>,
    /// The job's place in the scheduler, taken earlier with [`LlmGateway::admit`] (a caller
    /// that queues work before it calls); `None`: the call admits itself (and may be refused).
    pub admission: Option<&'a Admission>,
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
    /// The scheduler refused the job: the task's queue is full.
    #[error("refused: {0}")]
    Refused(String),
    /// The job went stale while it waited and was never sent.
    #[error("stale: dropped before it was sent")]
    Stale,
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

/// A sink that keeps records in memory (tests, tools).
#[derive(Debug, Default)]
pub struct MemoryLedger {
    records: std::sync::Mutex<Vec<LlmUsage>>,
}

impl MemoryLedger {
    /// The records so far.
    pub fn records(&self) -> Vec<LlmUsage> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl UsageSink for MemoryLedger {
    fn record(&self, usage: LlmUsage) {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(usage);
    }
}
