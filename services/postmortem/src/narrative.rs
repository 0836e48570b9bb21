//! The asynchronous narrative: each published draft takes a place in the LLM scheduler's queue
//! (`opsline_llm::scheduler`, task `postmortem_narrative`, narrative class: after the tickets a
//! person is waiting on) and the worker asks the narrative [`Drafter`] (the LLM gateway, prompt
//! `postmortem-narrative`) for the narrative sections when the model is free, then publishes it
//! as the next revision.
//!
//! Never on the drafting path: the deterministic draft (revision 1) is published and indexed
//! without waiting for a model. When the task's queue budget is used up the scheduler refuses
//! the job at once (the incident keeps its deterministic draft;
//! `opsline_postmortem_narratives_total{outcome="queue_full"}` and the scheduler's drop counter,
//! one summary log line a minute at most, never a line per job). A job whose draft was reviewed,
//! published or redrafted while it waited is stale: the scheduler drops it before it is sent
//! (`outcome="stale"`).
//!
//! A job becomes revision `base + 1` only if the narrative passes the citation check and
//! the read model still holds the base revision (same basis, still a draft) when the answer
//! arrives; the worker waits until the indexer has read the base revision from the topic, so
//! the narrative always lands after it in the (single-partition, compacted) postmortems topic.
//! A model outage, an invalid answer or a failed citation check changes nothing but the
//! missing narrative (a warn log and the counter's `drafter_error` or `citations_rejected`).
//!
//! Delivery: best effort. The revision is produced with `acks=all` but jobs still queued at
//! shutdown, refused or failed are not retried; a replayed incident whose
//! postmortem has no narrative yet is queued again. Replays are idempotent: a narrative
//! already published (a higher revision of the same basis) is never asked for again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsline_llm::{Admission, Budget, LlmError, Priority, Scheduler, StaleCheck};
use tokio::task::JoinSet;

use opsline_events::logs::{Alert, Incident};
use opsline_events::ops::{Postmortem, PostmortemStatus};
use opsline_kafka::Producer;
use opsline_runtime::Shutdown;
use tokio::sync::mpsc;

use crate::draft::llm::NARRATIVE_TASK;
use crate::draft::{DraftInput, Drafter, checked_narrative_with, narrated_revision};
use crate::metrics::PostmortemMetrics;
use crate::processor::postmortem_record;
use crate::store::Store;
use crate::timeline::Timeline;

/// How long the worker waits for the indexer to read the base revision before it gives up.
const INDEX_WAIT: Duration = Duration::from_secs(120);
/// How often it looks.
const INDEX_POLL: Duration = Duration::from_millis(100);

/// One published draft waiting for its narrative.
#[derive(Debug, Clone)]
pub(crate) struct NarrativeJob {
    /// The resolved incident.
    pub(crate) incident: Incident,
    /// The alerts it was drafted with.
    pub(crate) alerts: Vec<Alert>,
    /// The published draft the narrative revises.
    pub(crate) base: Postmortem,
}

/// An admitted job and its place in the scheduler.
pub(crate) type Queued = (NarrativeJob, Admission);

/// The producer side, held by the drafter; admits jobs into the scheduler and never waits.
#[derive(Clone)]
pub(crate) struct NarrativeQueue {
    inner: Option<QueueInner>,
    metrics: PostmortemMetrics,
}

#[derive(Clone)]
struct QueueInner {
    drafter: Arc<dyn Drafter>,
    /// The scheduler of drafters that call no gateway (tests); a gateway brings its own.
    local: Scheduler,
    store: Arc<Store>,
    sender: mpsc::UnboundedSender<Queued>,
}

impl std::fmt::Debug for NarrativeQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NarrativeQueue")
            .field("enabled", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl NarrativeQueue {
    /// Offers a job; never waits. Counts it and drops it when no model is configured or the
    /// scheduler refuses it (the task's queue is full).
    pub(crate) fn offer(&self, job: NarrativeJob) {
        let Some(inner) = &self.inner else {
            return;
        };
        let (store, base) = (inner.store.clone(), job.base.clone());
        let stale: StaleCheck = Arc::new(move || base_state(&store, &base) == BaseState::Superseded);
        let admitted = match inner.drafter.gateway() {
            Some(gateway) => gateway.admit(NARRATIVE_TASK, Some(stale)),
            None => inner
                .local
                .admit(NARRATIVE_TASK, Priority::Narrative, Budget::default(), Some(stale))
                .map_err(|refused| LlmError::Refused(refused.to_string())),
        };
        match admitted {
            Ok(admission) => {
                if inner.sender.send((job, admission)).is_err() {
                    self.metrics.narrative("stopped");
                }
            }
            Err(LlmError::Refused(_)) => self.metrics.narrative("queue_full"),
            Err(error) => {
                tracing::debug!(postmortem = %job.base.postmortem_id, %error, "narrative not queued");
                self.metrics.narrative("drafter_error");
            }
        }
    }

    /// Whether narratives are asked for at all.
    pub(crate) fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }
}

/// What [`NarrativeWorker::new`] needs.
pub(crate) struct WorkerParts {
    /// The narrative drafter (`None`: no narratives, the queue is disabled).
    pub(crate) drafter: Option<Arc<dyn Drafter>>,
    /// The read model (to know what is published).
    pub(crate) store: Arc<Store>,
    /// Producer of the narrated revisions.
    pub(crate) producer: Producer,
    /// The postmortems topic (full name).
    pub(crate) topic: String,
}

/// The worker: the model call, the citation check, the narrated revision.
pub(crate) struct NarrativeWorker {
    drafter: Arc<dyn Drafter>,
    store: Arc<Store>,
    producer: Producer,
    topic: String,
    metrics: PostmortemMetrics,
}

/// What the worker finds in the read model for a job's base revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BaseState {
    /// The base revision is the current one: the narrative may follow it.
    Current,
    /// The indexer has not read it yet.
    NotYetIndexed,
    /// A later revision (a narrative, a redraft or a review) replaced it.
    Superseded,
}

fn base_state(store: &Store, base: &Postmortem) -> BaseState {
    match store.postmortem(base.postmortem_id) {
        None => BaseState::NotYetIndexed,
        Some(current) if current.status != PostmortemStatus::Draft => BaseState::Superseded,
        Some(current) if current.revision < base.revision => BaseState::NotYetIndexed,
        Some(current) if current.revision == base.revision && current.draft_basis == base.draft_basis => {
            BaseState::Current
        }
        Some(_) => BaseState::Superseded,
    }
}

impl NarrativeWorker {
    /// The queue (for the drafter) and the worker (to run); no worker without a drafter.
    pub(crate) fn new(
        parts: WorkerParts,
        metrics: PostmortemMetrics,
    ) -> (NarrativeQueue, Option<(Self, mpsc::UnboundedReceiver<Queued>)>) {
        let Some(drafter) = parts.drafter else {
            return (NarrativeQueue { inner: None, metrics }, None);
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue = NarrativeQueue {
            inner: Some(QueueInner {
                drafter: drafter.clone(),
                local: Scheduler::new(1),
                store: parts.store.clone(),
                sender,
            }),
            metrics: metrics.clone(),
        };
        let worker = Self {
            drafter,
            store: parts.store,
            producer: parts.producer,
            topic: parts.topic,
            metrics,
        };
        (queue, Some((worker, receiver)))
    }

    /// Narrates admitted drafts (one task each, waiting for its turn in the scheduler) until
    /// `shutdown`; jobs still waiting then are dropped.
    pub(crate) async fn run(self, mut jobs: mpsc::UnboundedReceiver<Queued>, shutdown: Shutdown) {
        let worker = Arc::new(self);
        let mut running = JoinSet::new();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
                job = jobs.recv() => {
                    let Some((job, admission)) = job else { break };
                    let (worker, shutdown) = (worker.clone(), shutdown.clone());
                    running.spawn(async move {
                        let outcome = worker.narrate(job, admission, &shutdown).await;
                        worker.metrics.narrative(outcome);
                    });
                }
            }
        }
        running.shutdown().await;
    }

    async fn narrate(&self, job: NarrativeJob, admission: Admission, shutdown: &Shutdown) -> &'static str {
        let id = job.base.postmortem_id;
        if base_state(&self.store, &job.base) == BaseState::Superseded {
            return "superseded";
        }
        let timeline = Timeline::build(&job.incident, &job.alerts);
        let input = DraftInput {
            incident: &job.incident,
            timeline: &timeline,
        };
        let started = Instant::now();
        // A drafter without a gateway does not wait in a scheduler: its turn is taken here.
        let _permit = match self.drafter.gateway() {
            Some(_) => None,
            None => match admission.turn().await {
                Ok(permit) => Some(permit),
                Err(_) => return "stale",
            },
        };
        let answer = tokio::select! {
            () = shutdown.cancelled() => return "cancelled",
            (answer, _) = checked_narrative_with(self.drafter.as_ref(), input, Some(&admission)) => answer,
        };
        let narrative = match answer {
            Ok(narrative) => narrative,
            Err(crate::draft::NarrativeError::Drafter(error)) if error.0.starts_with("stale") => return "stale",
            Err(error) => {
                tracing::warn!(postmortem = %id, model = self.drafter.model(), %error, "no narrative; the draft keeps its deterministic text");
                return error.outcome();
            }
        };
        match self.wait_for_base(&job.base, shutdown).await {
            BaseState::Current => {}
            BaseState::Superseded => return "superseded",
            BaseState::NotYetIndexed => {
                tracing::warn!(postmortem = %id, "base revision never indexed; narrative not published");
                return "base_not_indexed";
            }
        }
        let revision = narrated_revision(&job.base, &job.incident, &timeline, &narrative);
        let record = match postmortem_record(&self.topic, revision.clone()) {
            Ok(record) => record,
            Err(_) => return "produce_error",
        };
        if let Err(error) = self.producer.send(&record).await {
            tracing::warn!(postmortem = %id, %error, "narrated revision not produced");
            return "produce_error";
        }
        tracing::info!(
            postmortem = %id,
            revision = revision.revision,
            model = %revision.model,
            prompt = %revision.prompt,
            seconds = started.elapsed().as_secs_f64(),
            "narrative published"
        );
        "published"
    }

    /// Waits (at most [`INDEX_WAIT`]) until the base revision is in the read model, so the
    /// narrated revision is produced after it.
    async fn wait_for_base(&self, base: &Postmortem, shutdown: &Shutdown) -> BaseState {
        let deadline = Instant::now() + INDEX_WAIT;
        loop {
            let state = base_state(&self.store, base);
            if state != BaseState::NotYetIndexed || Instant::now() >= deadline || shutdown.is_cancelled() {
                return state;
            }
            tokio::time::sleep(INDEX_POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::deterministic_draft;
    use crate::timeline::tests::fixture;

    #[test]
    fn the_base_is_current_only_while_it_is_the_latest_draft() {
        let store = Store::new(
            opsline_search::SearchIndex::in_memory().unwrap(),
            PostmortemMetrics::default(),
        );
        let (incident, alerts) = fixture();
        let base = deterministic_draft(&incident, &Timeline::build(&incident, &alerts));
        assert_eq!(base_state(&store, &base), BaseState::NotYetIndexed);
        store.apply(base.clone()).unwrap();
        assert_eq!(base_state(&store, &base), BaseState::Current);
        let mut narrated = base.clone();
        narrated.revision = 2;
        store.apply(narrated).unwrap();
        assert_eq!(base_state(&store, &base), BaseState::Superseded);
        let mut other = base.clone();
        other.draft_basis = Some("another".into());
        assert_eq!(base_state(&store, &other), BaseState::Superseded);
    }
}
