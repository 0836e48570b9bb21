//! Template refinement, the service side (issue 13, item 3): new templates to the model off the
//! hot path, accepted refinements to the refined-templates topic and into the engine.
//!
//! The processor takes the engine's [`RefineRequest`]s (a new template and its first distinct
//! lines, redacted; see [`crate::engine::refine`]) and [`RefineQueue::offer`]s them without
//! waiting: the queue is bounded (`refine.queue`) and a job that does not fit is dropped and
//! counted. The [`RefineWorker`] takes one job at a time: it asks the model through the LLM
//! gateway (task [`TASK`], batch class with its own budget in the endpoint's scheduler, prompt
//! [`PROMPT_ID`]), judges the proposal with `opsline_logmine::refine::judge` against every
//! sample line (and refuses one that keeps a redaction placeholder), and for an accepted one
//! produces a [`TemplateRefined`] event (acknowledged, `acks=all`, keyed `service/template_id`)
//! and then applies it to the engine, so later alerts and incidents quote the refined text.
//!
//! Outcomes are decided once per mined text: a template whose text was decided before (another
//! service, or the same text again) costs no call; an accepted text is checked again against
//! the new template's own lines. Rejections, failures and drops are metrics
//! (`opsline_logintel_refine_*`), never a log line per template.
//!
//! Delivery: best effort, like the gateway. Jobs waiting at shutdown, and templates still
//! collecting lines, are not refined after a restart; an accepted refinement is in the
//! service's next snapshot (the engine marks the service changed), and the event is produced
//! before it is applied, so the topic never lacks a refinement the service uses.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use jiff::Timestamp;
use opsline_events::Envelope;
use opsline_events::refined::TemplateRefined;
use opsline_kafka::{OutRecord, Producer};
use opsline_llm::{LlmError, LlmGateway, StructuredRequest};
use opsline_logmine::refine::{Outcome, judge, numbered_lines, tidy};
use opsline_runtime::Shutdown;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::engine::{Applied, RefineRequest};
use crate::error::LogintelError;
use crate::ids::derived_v7;
use crate::metrics::LogintelMetrics;
use crate::processor::{COMPONENT, SharedState, lock};
use crate::redaction::{EMAIL, REDACTED};

/// The gateway task of template refinement (batch class).
pub const TASK: &str = "template_refinement";
/// The prompt of template refinement (`prompts/template-refinement.md`).
pub const PROMPT_ID: &str = "template-refinement";
/// Mined texts whose outcome is remembered; later ones are decided by the model each time.
pub const MAX_CACHED: usize = 10_000;

/// A model's proposal for the template of some lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The proposed template (`None`: the answer held none).
    pub template: Option<String>,
    /// The model that answered.
    pub model: String,
    /// The prompt it answered (`id@version`).
    pub prompt: String,
}

/// Asks a model for the template of some lines (the gateway in the service, a fake in tests).
pub trait Proposer: Send + Sync + 'static {
    /// The proposal for `samples` (redacted lines of one template), or why there is none (a
    /// short fixed name, used as a metric label).
    fn propose(&self, samples: &[String]) -> impl Future<Output = Result<Proposal, &'static str>> + Send;
}

/// The answer's shape, as the prompt's schema defines it.
#[derive(Debug, Deserialize)]
struct Answer {
    template: String,
}

/// The [`Proposer`] of the service: the LLM gateway, task [`TASK`], prompt [`PROMPT_ID`].
#[derive(Debug, Clone)]
pub struct GatewayProposer {
    gateway: LlmGateway,
}

impl GatewayProposer {
    /// Proposals from `gateway`.
    pub fn new(gateway: LlmGateway) -> Self {
        Self { gateway }
    }
}

impl Proposer for GatewayProposer {
    async fn propose(&self, samples: &[String]) -> Result<Proposal, &'static str> {
        let lines: Vec<&str> = samples.iter().map(String::as_str).collect();
        let vars = BTreeMap::from([("messages".to_owned(), numbered_lines(&lines))]);
        let request = StructuredRequest {
            task: TASK,
            prompt_id: PROMPT_ID,
            vars: &vars,
            admission: None,
        };
        match self.gateway.structured::<Answer>(request).await {
            Ok(output) => Ok(Proposal {
                template: tidy(&output.value.template),
                model: output.model,
                prompt: output.prompt,
            }),
            Err(error) => Err(match error {
                LlmError::Disabled => "disabled",
                LlmError::CircuitOpen => "circuit_open",
                LlmError::Config(_) => "config",
                LlmError::Endpoint(_) => "endpoint",
                LlmError::InvalidOutput(_) => "invalid_output",
                LlmError::Refused(_) => "refused",
                LlmError::Stale => "stale",
            }),
        }
    }
}

/// What a job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The proposal passed: the event to publish (then apply).
    Accept(TemplateRefined),
    /// The proposal was refused, by the named rule.
    Reject(&'static str),
    /// No proposal (the reason).
    Fail(&'static str),
    /// The template is gone or its service unknown.
    Stale,
}

/// An outcome remembered by mined text.
#[derive(Debug, Clone)]
enum Cached {
    Accepted {
        text: String,
        model: String,
        prompt: String,
    },
    Refused(&'static str),
}

/// The worker: one job at a time, the model's outcome remembered by mined text.
pub struct RefineWorker<P> {
    proposer: P,
    shared: SharedState,
    metrics: LogintelMetrics,
    cache: HashMap<String, Cached>,
}

impl<P: Proposer> RefineWorker<P> {
    /// A worker asking `proposer` and applying to the engine in `shared`.
    pub(crate) fn new(proposer: P, shared: SharedState, metrics: LogintelMetrics) -> Self {
        Self {
            proposer,
            shared,
            metrics,
            cache: HashMap::new(),
        }
    }

    /// Decides one job: at most one model call, none when its mined text was decided before.
    pub async fn decide(&mut self, request: &RefineRequest) -> Decision {
        let mined = {
            let shared = lock(&self.shared);
            shared
                .engine
                .service(&request.service)
                .and_then(|s| s.miner.template(request.template_id))
                .map(|t| t.text.to_string())
        };
        let Some(mined) = mined else {
            return Decision::Stale;
        };
        let key = opsline_logmine::refine::check::normalize_space(&mined);
        let samples: Vec<&str> = request.samples.iter().map(String::as_str).collect();
        let (proposal, fresh) = match self.cache.get(&key) {
            Some(Cached::Refused(reason)) => {
                self.metrics.refine_cache_hits.inc();
                return Decision::Reject(reason);
            }
            Some(Cached::Accepted { text, model, prompt }) => {
                self.metrics.refine_cache_hits.inc();
                let proposal = Proposal {
                    template: Some(text.clone()),
                    model: model.clone(),
                    prompt: prompt.clone(),
                };
                (proposal, false)
            }
            None => {
                self.metrics.refine_calls.inc();
                match self.proposer.propose(&request.samples).await {
                    Ok(proposal) => (proposal, true),
                    Err(reason) => return Decision::Fail(reason),
                }
            }
        };
        let verdict = verdict(&mined, proposal.template.as_deref(), &samples);
        if fresh && self.cache.len() < MAX_CACHED {
            let cached = match &verdict {
                Ok(text) => Cached::Accepted {
                    text: text.clone(),
                    model: proposal.model.clone(),
                    prompt: proposal.prompt.clone(),
                },
                Err(reason) => Cached::Refused(reason),
            };
            self.cache.insert(key, cached);
        }
        match verdict {
            Err(reason) => Decision::Reject(reason),
            Ok(text) => Decision::Accept(TemplateRefined {
                service: request.service.clone(),
                template_id: request.template_id,
                previous: mined,
                template: text,
                model: proposal.model,
                prompt: proposal.prompt,
                sample_count: u32::try_from(request.samples.len()).unwrap_or(u32::MAX),
                samples: request.samples.clone(),
            }),
        }
    }

    /// Applies an accepted refinement to the engine; `false` when the mined text changed meanwhile.
    pub fn apply(&self, event: &TemplateRefined) -> bool {
        let mut shared = lock(&self.shared);
        let applied =
            shared
                .engine
                .apply_refinement(&event.service, event.template_id, &event.previous, &event.template);
        applied == Applied::Applied
    }

    /// Runs jobs until shutdown: decide, then for an accepted one produce the event
    /// (acknowledged) and apply it.
    pub(crate) async fn run(
        mut self,
        mut jobs: mpsc::Receiver<RefineRequest>,
        producer: Producer,
        topic: String,
        shutdown: Shutdown,
    ) {
        loop {
            let job = tokio::select! {
                () = shutdown.cancelled() => return,
                job = jobs.recv() => job,
            };
            let Some(job) = job else { return };
            let decision = tokio::select! {
                () = shutdown.cancelled() => return,
                decision = self.decide(&job) => decision,
            };
            let event = match decision {
                Decision::Accept(event) => event,
                Decision::Reject(reason) => {
                    self.metrics.refine_rejection(reason);
                    continue;
                }
                Decision::Fail(reason) => {
                    self.metrics.refine_failure(reason);
                    continue;
                }
                Decision::Stale => {
                    self.metrics.refine_result("stale");
                    continue;
                }
            };
            let still = lock(&self.shared)
                .engine
                .mined_text_is(&event.service, event.template_id, &event.previous);
            if !still {
                self.metrics.refine_result("stale");
                continue;
            }
            let delivered = match refined_record(&event, &topic) {
                Ok(record) => producer.send(&record).await.is_ok(),
                Err(_) => false,
            };
            let outcome = match (delivered, delivered && self.apply(&event)) {
                (false, _) => "not_delivered",
                (true, true) => "accepted",
                (true, false) => "stale",
            };
            self.metrics.refine_result(outcome);
        }
    }
}

/// The verdict on `proposed` for the mined text `mined` and its lines `samples`: the refined
/// text, or the name of the rule that refused it. Besides the check of
/// `opsline_logmine::refine`, a proposal that keeps a redaction placeholder the mined text does
/// not have is refused (`keeps-redacted`): the lines were redacted, the template must not be.
pub fn verdict(mined: &str, proposed: Option<&str>, samples: &[&str]) -> Result<String, &'static str> {
    if let Some(text) = proposed
        && [REDACTED, EMAIL]
            .iter()
            .any(|mark| text.contains(mark) && !mined.contains(mark))
    {
        return Err("keeps-redacted");
    }
    match judge(mined, proposed, samples) {
        Outcome::Accepted(text) => Ok(text),
        Outcome::Rejected(why) => Err(why.name()),
        Outcome::Failed(_) => Err("failed"),
    }
}

/// The record of a refinement: keyed `service/template_id`, envelope id derived from its content.
pub fn refined_record(event: &TemplateRefined, topic: &str) -> Result<OutRecord, LogintelError> {
    let now = Timestamp::now();
    let id = derived_v7(
        now.as_millisecond(),
        &[
            event.service.as_bytes(),
            &event.template_id.to_le_bytes(),
            event.previous.as_bytes(),
            event.template.as_bytes(),
        ],
    );
    let mut envelope = Envelope::new(COMPONENT, event.clone());
    envelope.id = id;
    envelope.occurred_at = now;
    envelope.trace = opsline_kafka::record::current_trace_context();
    let key = format!("{}/{}", event.service, event.template_id);
    Ok(OutRecord::event(topic.to_owned(), &key, &envelope)?)
}

pub(crate) mod queue;

pub use queue::RefineQueue;

#[cfg(test)]
mod tests;
