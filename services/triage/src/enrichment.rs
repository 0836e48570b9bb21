//! Asynchronous enrichment: each ticket takes a place in the LLM scheduler's queue
//! (`opsline_llm::scheduler`, task `ticket_enrichment`, interactive class: before postmortem
//! narratives) and the worker enriches it ([`crate::enricher`]) when the model is free, then
//! publishes revision 2 of the routed ticket.
//!
//! Never on the routing path: revision 1 is decided and produced without it. When the
//! scheduler refuses the ticket (the task's queue budget is used up), the model is disabled or
//! the call fails, the ticket simply keeps revision 1 (counted in
//! `opsline_triage_enrichments_total{outcome}`; no log line per ticket). A job whose ticket was
//! triaged again meanwhile (a re-routed or replayed ticket) is stale: the scheduler drops it
//! before it is sent (`outcome="stale"`). Revision 2 copies queue, priority, confidence and
//! incident from revision 1; the model's answer only fills the text fields, so a ticket that
//! tries to talk the model into another queue changes nothing but its own summary.
//!
//! Order: a job is queued only after revision 1 was acknowledged (see
//! `processor`), and revision 2 has the same key, so it lands after revision 1 in the
//! same partition without any delay. Consumers keep the highest revision per ticket
//! (a replay may repeat revision 1 after revision 2).
//!
//! Delivery: best effort (revision 2 is produced with `acks=all` but not
//! retried after a replay; a replayed ticket is enriched again, usually from the
//! gateway's cache).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use opsline_events::Envelope;
use opsline_kafka::{OutRecord, Producer};
use opsline_llm::{Admission, LlmError, LlmGateway, StaleCheck};
use opsline_runtime::Shutdown;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::EnrichmentConfig;
use crate::enricher::Enricher;
pub use crate::enricher::{EnrichmentAnswer, EnrichmentJob, PROMPT_ID, TASK, revision_two};
use crate::grounding::{RecentTickets, Runbooks};
use crate::metrics::TriageMetrics;
use crate::webhook::WebhookSender;

/// An admitted job.
#[derive(Debug)]
pub(crate) struct Queued {
    /// The ticket.
    pub(crate) job: EnrichmentJob,
    /// Its place in the scheduler (none in tests without a model).
    pub(crate) admission: Option<Admission>,
    /// Set when a newer job of the same ticket was offered.
    superseded: Arc<AtomicBool>,
}

/// The newest job of each ticket still waiting: an older one is stale.
type Pending = Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>;

/// The producer side, held by the processor: admits jobs into the scheduler, never waits.
#[derive(Debug, Clone)]
pub struct EnrichmentQueue {
    llm: Option<LlmGateway>,
    sender: Option<mpsc::UnboundedSender<Queued>>,
    pending: Pending,
    metrics: TriageMetrics,
}

impl EnrichmentQueue {
    /// A queue without a model and its receiving end, without a worker (tests).
    #[cfg(test)]
    pub(crate) fn detached(metrics: TriageMetrics) -> (Self, mpsc::UnboundedReceiver<Queued>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue = Self {
            llm: None,
            sender: Some(sender),
            pending: Pending::default(),
            metrics,
        };
        (queue, receiver)
    }

    /// Whether jobs are taken at all (the model is enabled).
    pub fn is_enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Offers a job; never waits. Skips (and counts) when disabled or refused by the scheduler.
    /// The channel to the worker holds only admitted jobs, so the scheduler's budget bounds it.
    pub fn offer(&self, job: EnrichmentJob) {
        let Some(sender) = &self.sender else {
            self.metrics.enrichment("disabled");
            return;
        };
        let superseded = Arc::new(AtomicBool::new(false));
        {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(older) = pending.insert(job.routed.ticket_id.clone(), superseded.clone()) {
                older.store(true, Ordering::Relaxed);
            }
        }
        let admission = match &self.llm {
            None => None,
            Some(llm) => {
                let flag = superseded.clone();
                let stale: StaleCheck = Arc::new(move || flag.load(Ordering::Relaxed));
                match llm.admit(TASK, Some(stale)) {
                    Ok(admission) => Some(admission),
                    Err(error) => {
                        self.forget(&job.routed.ticket_id, &superseded);
                        self.metrics.enrichment(match error {
                            LlmError::Refused(_) => "queue_full",
                            LlmError::Disabled => "disabled",
                            _ => "llm_error",
                        });
                        return;
                    }
                }
            }
        };
        let queued = Queued {
            job,
            admission,
            superseded,
        };
        if sender.send(queued).is_err() {
            self.metrics.enrichment("disabled");
        }
    }

    /// Removes the ticket's entry if it is still `flag` (a newer job keeps its own).
    fn forget(&self, ticket_id: &str, flag: &Arc<AtomicBool>) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.get(ticket_id).is_some_and(|f| Arc::ptr_eq(f, flag)) {
            pending.remove(ticket_id);
        }
    }
}

/// The worker: one task per admitted job (each waits for its turn in the scheduler), then
/// revision 2 and the webhook.
pub struct EnrichmentWorker {
    enricher: Enricher,
    producer: Producer,
    routed_topic: String,
    metrics: TriageMetrics,
    webhook: Option<WebhookSender>,
    pending: Pending,
}

impl std::fmt::Debug for EnrichmentWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrichmentWorker")
            .field("enricher", &self.enricher)
            .field("routed_topic", &self.routed_topic)
            .finish_non_exhaustive()
    }
}

/// What [`EnrichmentWorker::new`] needs.
pub struct WorkerParts {
    /// The LLM gateway.
    pub llm: LlmGateway,
    /// The runbook index.
    pub runbooks: Runbooks,
    /// Recently routed tickets (shared with the processor).
    pub recent: Arc<Mutex<RecentTickets>>,
    /// Producer of revision 2.
    pub producer: Producer,
    /// The routed-tickets topic (full name).
    pub routed_topic: String,
    /// Settings.
    pub config: EnrichmentConfig,
    /// The optional helpdesk webhook.
    pub webhook: Option<WebhookSender>,
}

impl EnrichmentWorker {
    /// The queue (for the processor) and the worker (to run); no worker when the model is disabled.
    pub(crate) fn new(
        parts: WorkerParts,
        metrics: TriageMetrics,
    ) -> (EnrichmentQueue, Option<(Self, mpsc::UnboundedReceiver<Queued>)>) {
        let pending = Pending::default();
        if !parts.llm.is_enabled() {
            let queue = EnrichmentQueue {
                llm: None,
                sender: None,
                pending,
                metrics,
            };
            return (queue, None);
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue = EnrichmentQueue {
            llm: Some(parts.llm.clone()),
            sender: Some(sender),
            pending: pending.clone(),
            metrics: metrics.clone(),
        };
        let worker = Self {
            enricher: Enricher {
                llm: parts.llm,
                runbooks: parts.runbooks,
                recent: parts.recent,
                config: parts.config,
            },
            producer: parts.producer,
            routed_topic: parts.routed_topic,
            metrics,
            webhook: parts.webhook,
            pending,
        };
        (queue, Some((worker, receiver)))
    }

    /// Enriches admitted tickets until `shutdown`; jobs still waiting then are dropped.
    pub(crate) async fn run(self, mut jobs: mpsc::UnboundedReceiver<Queued>, shutdown: Shutdown) {
        let worker = Arc::new(self);
        let mut running = JoinSet::new();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
                job = jobs.recv() => {
                    let Some(queued) = job else { break };
                    let worker = worker.clone();
                    running.spawn(async move {
                        let outcome = worker.enrich(&queued).await;
                        worker.metrics.enrichment(outcome);
                    });
                }
            }
        }
        running.shutdown().await;
    }

    async fn enrich(&self, queued: &Queued) -> &'static str {
        let answer = self.enricher.enrich(&queued.job, queued.admission.as_ref()).await;
        let ticket_id = &queued.job.routed.ticket_id;
        {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if pending
                .get(ticket_id)
                .is_some_and(|f| Arc::ptr_eq(f, &queued.superseded))
            {
                pending.remove(ticket_id);
            }
        }
        let revision = match answer {
            Ok(enriched) => enriched.revision,
            Err(LlmError::Disabled) => return "disabled",
            Err(LlmError::Stale) => return "stale",
            Err(LlmError::Refused(_)) => return "queue_full",
            Err(error) => {
                tracing::info!(ticket = %ticket_id, %error, "enrichment skipped");
                return "llm_error";
            }
        };
        let envelope = Envelope::new(crate::processor::COMPONENT, revision.clone());
        let record = match OutRecord::event(self.routed_topic.clone(), &revision.ticket_id, &envelope) {
            Ok(record) => record,
            Err(_) => return "produce_error",
        };
        if let Err(error) = self.producer.send(&record).await {
            tracing::warn!(ticket = %revision.ticket_id, %error, "revision 2 not produced");
            return "produce_error";
        }
        if let Some(webhook) = &self.webhook {
            webhook.offer(revision).await;
        }
        "ok"
    }
}
