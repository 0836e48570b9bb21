//! The gateway's call path: prompt lookup and rendering, response cache, the
//! endpoint's scheduler (a turn by priority class and budget; stale work dropped),
//! circuit breaker, retries with backoff on endpoint errors, answer parsing and
//! schema validation with one repair request, and one usage record per call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use opsline_events::ops::{LlmUsage, llm_outcome as outcome};
use opsline_runtime::metrics::Metrics;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::breaker::{BreakerState, CircuitBreaker};
use crate::cache::{CacheKey, ResponseCache, cache_key, hex};
use crate::endpoint::{CallSpec, Completion, Endpoint, Message};
use crate::metrics::LlmMetrics;
use crate::output::parse_answer;
use crate::prompts::{Prompt, PromptLibrary};
use crate::scheduler::{Admission, NotStarted, Scheduler, StaleCheck};
use crate::{LlmConfig, LlmError, NoLedger, StructuredOutput, StructuredRequest, TaskConfig, UsageSink};

struct Inner {
    config: LlmConfig,
    prompts: PromptLibrary,
    endpoint: Option<Endpoint>,
    breaker: CircuitBreaker,
    cache: ResponseCache,
    scheduler: Scheduler,
    metrics: LlmMetrics,
}

/// The gateway; cheap to clone.
#[derive(Clone)]
pub struct LlmGateway {
    inner: Arc<Inner>,
    sink: Arc<dyn UsageSink>,
}

impl std::fmt::Debug for LlmGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmGateway")
            .field("enabled", &self.inner.config.enabled)
            .field("base_url", &self.inner.config.base_url)
            .finish_non_exhaustive()
    }
}

impl LlmGateway {
    /// Builds the gateway (loads the prompt library, checks the approved models).
    pub fn new(config: LlmConfig, sink: Arc<dyn UsageSink>) -> Result<Self, LlmError> {
        config.check().map_err(LlmError::Config)?;
        let prompts = PromptLibrary::load(config.prompts_dir.as_deref()).map_err(LlmError::Config)?;
        let endpoint = if config.enabled {
            let endpoint = Endpoint::new(
                &config.base_url,
                config.api_key.as_ref(),
                config.timeout(),
                config.ca_file.as_deref(),
            );
            Some(endpoint.map_err(LlmError::Config)?)
        } else {
            None
        };
        let inner = Inner {
            breaker: CircuitBreaker::new(
                config.breaker.failure_threshold,
                Duration::from_secs(config.breaker.open_secs),
            ),
            cache: ResponseCache::new(config.cache_capacity),
            scheduler: if config.enabled {
                crate::scheduler::shared(&config.base_url, config.max_concurrency)
            } else {
                Scheduler::new(1)
            },
            metrics: LlmMetrics::default(),
            prompts,
            endpoint,
            config,
        };
        Ok(Self {
            inner: Arc::new(inner),
            sink,
        })
    }

    /// A gateway with no model: every call returns [`LlmError::Disabled`].
    pub fn disabled() -> Self {
        let inner = Inner {
            config: LlmConfig::default(),
            prompts: PromptLibrary::default(),
            endpoint: None,
            breaker: CircuitBreaker::new(1, Duration::ZERO),
            cache: ResponseCache::new(0),
            scheduler: Scheduler::new(1),
            metrics: LlmMetrics::default(),
        };
        Self {
            inner: Arc::new(inner),
            sink: Arc::new(NoLedger),
        }
    }

    /// Registers `opsline_llm_calls_total`, `opsline_llm_cache_hits_total` and the
    /// scheduler's `opsline_llm_scheduler_*` metrics in the registry (once per registry).
    pub fn with_metrics(self, metrics: &Metrics) -> Self {
        self.inner.metrics.register(metrics);
        self.inner.scheduler.metrics().register(metrics);
        self
    }

    /// The endpoint's scheduler (shared by every gateway of the endpoint in this process).
    pub fn scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }

    /// Takes a place in the scheduler's queue for a job of `task` now, without waiting: the
    /// caller queues its work with it and passes it in [`StructuredRequest::admission`].
    /// `stale` is asked just before the job would be sent. Fails at once with
    /// [`LlmError::Refused`] when the task's queue is full (counted, no log line per job).
    pub fn admit(&self, task: &str, stale: Option<StaleCheck>) -> Result<Admission, LlmError> {
        if !self.is_enabled() {
            return Err(LlmError::Disabled);
        }
        let settings = self
            .inner
            .config
            .tasks
            .get(task)
            .ok_or_else(|| LlmError::Config(format!("no model configured for task {task:?}")))?;
        let admission = self
            .inner
            .scheduler
            .admit(task, settings.class(task), settings.budget, stale);
        admission.map_err(|refused| {
            self.inner.metrics.call(task, outcome::REFUSED, false);
            LlmError::Refused(refused.to_string())
        })
    }

    /// Whether a model is configured.
    pub fn is_enabled(&self) -> bool {
        self.inner.config.enabled && self.inner.endpoint.is_some()
    }

    /// A prompt of the library (for its version and schema).
    pub fn prompt(&self, id: &str) -> Option<&Prompt> {
        self.inner.prompts.get(id)
    }

    /// The circuit breaker's state (for tests and diagnostics).
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// Renders the prompt, calls the model and returns the schema-valid answer.
    pub async fn structured<T: DeserializeOwned>(
        &self,
        request: StructuredRequest<'_>,
    ) -> Result<StructuredOutput<T>, LlmError> {
        let started = Instant::now();
        let Some(endpoint) = self.inner.endpoint.as_ref().filter(|_| self.inner.config.enabled) else {
            return Err(LlmError::Disabled);
        };
        let prompt = self
            .inner
            .prompts
            .get(request.prompt_id)
            .ok_or_else(|| LlmError::Config(format!("unknown prompt {:?}", request.prompt_id)))?;
        if prompt.task != request.task {
            return Err(LlmError::Config(format!(
                "prompt {:?} is for task {:?}, not {:?}",
                prompt.id, prompt.task, request.task
            )));
        }
        let task = self
            .inner
            .config
            .tasks
            .get(request.task)
            .ok_or_else(|| LlmError::Config(format!("no model configured for task {:?}", request.task)))?;
        let system = prompt.system_message();
        let user = prompt.render_user(request.vars).map_err(LlmError::Config)?;
        let reference = prompt.reference();
        let key = cache_key(request.task, &reference, &task.model, &system, &user);
        let mut usage = LlmUsage {
            call_id: uuid::Uuid::now_v7(),
            task: request.task.to_owned(),
            model: task.model.clone(),
            prompt: reference,
            prompt_tokens: 0,
            completion_tokens: 0,
            cached_tokens: 0,
            latency_ms: 0,
            cache_hit: false,
            cost: 0.0,
            outcome: String::new(),
        };
        // Auditable without leaking: the fingerprint of exactly what was sent.
        tracing::debug!(task = request.task, prompt = %usage.prompt, model = %task.model,
            prompt_sha256 = %hex(&key), "llm call");
        let answer = match self.inner.cache.get(&key) {
            Some(value) => {
                usage.cache_hit = true;
                Ok(value)
            }
            None => {
                let call = Call {
                    endpoint,
                    prompt,
                    task,
                    key,
                    system,
                    user,
                };
                self.scheduled_call(call, request.task, request.admission, &mut usage)
                    .await
            }
        };
        let result = answer.and_then(|value| {
            serde_json::from_value::<T>(value)
                .map_err(|e| LlmError::InvalidOutput(format!("answer does not fit the caller's type: {e}")))
        });
        let outcome = match &result {
            Ok(_) => outcome::OK,
            Err(LlmError::InvalidOutput(_)) => outcome::INVALID_OUTPUT,
            Err(LlmError::CircuitOpen) => outcome::CIRCUIT_OPEN,
            Err(LlmError::Stale) => outcome::STALE,
            Err(LlmError::Refused(_)) => {
                // Never sent: counted once in `admit`, no usage record.
                return Err(LlmError::Refused("queue full".into()));
            }
            Err(_) => outcome::ERROR,
        };
        usage.outcome = outcome.to_owned();
        usage.latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        usage.cost = self
            .inner
            .config
            .prices
            .get(&usage.model)
            .map_or(0.0, |price| price.cost(usage.prompt_tokens, usage.completion_tokens));
        self.inner.metrics.call(&usage.task, outcome, usage.cache_hit);
        let (model, prompt_ref, cache_hit) = (usage.model.clone(), usage.prompt.clone(), usage.cache_hit);
        self.sink.record(usage);
        result.map(|value| StructuredOutput {
            value,
            model,
            prompt: prompt_ref,
            cache_hit,
        })
    }

    /// Waits for the job's turn in the endpoint's scheduler (admitting it first when the
    /// caller did not), then calls the model while holding the slot.
    async fn scheduled_call(
        &self,
        call: Call<'_>,
        task_name: &str,
        admission: Option<&Admission>,
        usage: &mut LlmUsage,
    ) -> Result<Value, LlmError> {
        let own;
        let admission = match admission {
            Some(admission) => admission,
            None => {
                own = self.admit(task_name, None)?;
                &own
            }
        };
        let _permit = admission.turn().await.map_err(|error| match error {
            NotStarted::Stale => LlmError::Stale,
            NotStarted::Spent => LlmError::Config("an admission serves one call".into()),
        })?;
        self.call_model(call, usage).await
    }

    /// Breaker, the call, validation and the repair request.
    async fn call_model(&self, call: Call<'_>, usage: &mut LlmUsage) -> Result<Value, LlmError> {
        let Call {
            endpoint,
            prompt,
            task,
            key,
            system,
            user,
        } = call;
        if !self.inner.breaker.try_acquire() {
            return Err(LlmError::CircuitOpen);
        }
        let mut verdict = Verdict {
            breaker: &self.inner.breaker,
            given: false,
        };
        let spec = CallSpec {
            model: &task.model,
            temperature: task.temperature,
            max_tokens: prompt
                .max_answer_tokens()
                .map_or(task.max_tokens, |n| n.min(task.max_tokens)),
            schema_name: &schema_name(&prompt.id),
            schema: &prompt.schema_text,
            cache_prompt: self.inner.config.cache_prompt,
        };
        let mut messages = vec![Message::System(system), Message::User(user)];
        let first = self
            .call_with_retries(endpoint, &spec, &messages, &mut verdict, usage)
            .await?;
        let reason = match check(prompt, &first) {
            Ok(value) => {
                self.inner.cache.put(key, value.clone());
                return Ok(value);
            }
            Err(reason) => reason,
        };
        tracing::debug!(task = %usage.task, %reason, "invalid answer, asking for a repair");
        messages.push(Message::Assistant(first.content));
        messages.push(Message::User(repair_request(&reason)));
        let second = self
            .call_with_retries(endpoint, &spec, &messages, &mut verdict, usage)
            .await?;
        let value = check(prompt, &second).map_err(LlmError::InvalidOutput)?;
        self.inner.cache.put(key, value.clone());
        Ok(value)
    }

    async fn call_with_retries(
        &self,
        endpoint: &Endpoint,
        spec: &CallSpec<'_>,
        messages: &[Message],
        verdict: &mut Verdict<'_>,
        usage: &mut LlmUsage,
    ) -> Result<Completion, LlmError> {
        let retry = &self.inner.config.retry;
        let policy = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(retry.min_delay_ms))
            .with_max_delay(Duration::from_millis(retry.max_delay_ms.max(retry.min_delay_ms)))
            .with_max_times(retry.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        let result = (|| endpoint.complete(spec, messages))
            .retry(policy)
            .when(|e| e.is_transient())
            .notify(|error, delay| tracing::debug!(%error, ?delay, "llm endpoint error, retrying"))
            .await;
        match result {
            Ok(completion) => {
                verdict.success();
                usage.prompt_tokens = usage.prompt_tokens.saturating_add(completion.prompt_tokens);
                usage.completion_tokens = usage.completion_tokens.saturating_add(completion.completion_tokens);
                usage.cached_tokens = usage.cached_tokens.saturating_add(completion.cached_tokens);
                Ok(completion)
            }
            Err(error) => {
                verdict.failure();
                Err(LlmError::Endpoint(error.to_string()))
            }
        }
    }
}

/// What one model call needs.
struct Call<'a> {
    endpoint: &'a Endpoint,
    prompt: &'a Prompt,
    task: &'a TaskConfig,
    key: CacheKey,
    system: String,
    user: String,
}

/// Gives the breaker its verdict exactly once; a call dropped half-way
/// (cancelled by the caller) releases its permit without one.
struct Verdict<'a> {
    breaker: &'a CircuitBreaker,
    given: bool,
}

impl Verdict<'_> {
    fn success(&mut self) {
        self.breaker.on_success();
        self.given = true;
    }

    fn failure(&mut self) {
        self.breaker.on_failure();
        self.given = true;
    }
}

impl Drop for Verdict<'_> {
    fn drop(&mut self) {
        if !self.given {
            self.breaker.release();
        }
    }
}

/// Why a completion is unusable, or its schema-valid value.
fn check(prompt: &Prompt, completion: &Completion) -> Result<Value, String> {
    if completion.truncated {
        return Err("the answer was cut off at the token limit; answer again with a much shorter JSON object".into());
    }
    let value = parse_answer(&completion.content)?;
    let violations = prompt.violations(&value);
    if violations.is_empty() {
        Ok(value)
    } else {
        Err(format!("schema violations: {}", violations.join("; ")))
    }
}

fn repair_request(reason: &str) -> String {
    format!(
        "Your previous answer was not valid: {reason}. Reply again with only one JSON object that matches the \
         schema exactly: no Markdown, no explanations, no extra fields."
    )
}

/// `a-zA-Z0-9_-`, at most 64 characters, as response formats require.
fn schema_name(id: &str) -> String {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() { "answer".to_owned() } else { name }
}
