//! Gateway settings (`[llm]` in a service's configuration file, or
//! `OPSLINE_LLM__*` environment variables through `opsline_runtime::config`).
//! The default is disabled: every service works without a model.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scheduler::{Budget, Priority};

/// Settings of one task (e.g. `ticket_enrichment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// The model used for the task; must be in the task's approved list.
    pub model: String,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: f32,
    /// Completion token limit; the prompt's schema may lower it (see
    /// [`Prompt::max_answer_tokens`](crate::Prompt::max_answer_tokens)).
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Priority class in the endpoint's scheduler (default: [`Priority::for_task`]).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Queue and in-flight budget of the task in the scheduler.
    #[serde(default)]
    pub budget: Budget,
}

impl TaskConfig {
    /// Settings for `model` with the defaults (temperature 0, 512 tokens, the task's class, the
    /// default budget).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            temperature: 0.0,
            max_tokens: default_max_tokens(),
            priority: None,
            budget: Budget::default(),
        }
    }

    /// The task's class: the configured one, else the default of its name.
    pub fn class(&self, task: &str) -> Priority {
        self.priority.unwrap_or_else(|| Priority::for_task(task))
    }
}

fn default_max_tokens() -> u32 {
    512
}

/// Price of a model per 1000 tokens (any currency; the ledger just multiplies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriceConfig {
    /// Price per 1000 prompt tokens.
    pub prompt_per_1k: f64,
    /// Price per 1000 completion tokens.
    pub completion_per_1k: f64,
}

impl PriceConfig {
    /// The cost of a call with these token counts.
    pub fn cost(&self, prompt_tokens: u32, completion_tokens: u32) -> f64 {
        f64::from(prompt_tokens) / 1000.0 * self.prompt_per_1k
            + f64::from(completion_tokens) / 1000.0 * self.completion_per_1k
    }
}

/// Circuit breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive failed calls that open the circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before one trial call (half-open).
    pub open_secs: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_secs: 30,
        }
    }
}

/// Retry settings for endpoint errors and timeouts (never for invalid output).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: u32,
    /// First backoff delay, in milliseconds.
    pub min_delay_ms: u64,
    /// Largest backoff delay, in milliseconds.
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            min_delay_ms: 200,
            max_delay_ms: 5_000,
        }
    }
}

/// Gateway settings. The default is disabled: everything works without summaries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Whether a model is configured at all.
    pub enabled: bool,
    /// OpenAI-compatible base URL, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// API key, if the endpoint needs one.
    pub api_key: Option<secrecy::SecretString>,
    /// Per-task model and limits, by task name (`ticket_enrichment`, ...).
    pub tasks: BTreeMap<String, TaskConfig>,
    /// Models approved for each task; a task's model must be listed or the
    /// gateway refuses to start.
    pub approved_models: BTreeMap<String, Vec<String>>,
    /// Time limit of one HTTP call, in seconds.
    pub timeout_secs: u64,
    /// Calls in flight at once on the endpoint, all tasks of the process together (the
    /// scheduler's slots; the first gateway of an endpoint in a process sets it).
    pub max_concurrency: usize,
    /// Send `cache_prompt: true` (llama.cpp's `llama-server`: reuse the KV cache of the prompt
    /// prefix shared with the previous request). Off for other endpoints, which may reject
    /// unknown fields.
    pub cache_prompt: bool,

    /// Prices by model name; models not listed cost 0.
    pub prices: BTreeMap<String, PriceConfig>,
    /// Answers kept in the response cache (0 disables the cache).
    pub cache_capacity: usize,
    /// Circuit breaker.
    pub breaker: BreakerConfig,
    /// Retries on endpoint errors.
    pub retry: RetryConfig,
    /// A directory of prompt files that override or extend the built-in
    /// library (files named `<id>.md`).
    pub prompts_dir: Option<PathBuf>,
    /// A PEM file of extra CA certificates trusted for an `https` endpoint, besides the
    /// system roots (a corporate or private CA).
    pub ca_file: Option<PathBuf>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: String::new(),
            api_key: None,
            tasks: BTreeMap::new(),
            approved_models: BTreeMap::new(),
            timeout_secs: 60,
            max_concurrency: 2,
            cache_prompt: false,
            prices: BTreeMap::new(),
            cache_capacity: 1_000,
            breaker: BreakerConfig::default(),
            retry: RetryConfig::default(),
            prompts_dir: None,
            ca_file: None,
        }
    }
}

impl LlmConfig {
    /// The per-call time limit.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    /// Checks that every task's model is approved for it.
    pub fn check(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.base_url.trim().is_empty() {
            return Err("llm.base_url is empty".into());
        }
        for (task, settings) in &self.tasks {
            let approved = self
                .approved_models
                .get(task)
                .is_some_and(|models| models.contains(&settings.model));
            if !approved {
                return Err(format!("model {:?} is not approved for task {task:?}", settings.model));
            }
        }
        Ok(())
    }
}
