//! Delivery: one task and one bounded queue per target, so a slow or failing target never
//! stalls the others or the incident consumer. A notification is retried with `backon`'s
//! exponential backoff (a `Retry-After` the target sent is waited instead, up to
//! `delivery.max_delay_ms`) while its failure is retryable and attempts remain; then, or at
//! once for a failure retrying cannot fix (401, 404, Slack's `invalid_auth`), it is written as
//! a dead letter (`opsline.incidents.v1.dlq`, consumer `notify:<target>`, with the reason). A
//! full queue dead-letters at once.
//!
//! Delivery guarantee: **at least once** per target and transition. The input's commit is held
//! until its notification was sent or dead-lettered; then its state record (thread `ts`
//! included) is written to `opsline.notify.state.v1`, which a restart reads back, so only a
//! notification sent but not yet recorded when the process died can be sent twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use opsline_events::notify::NotificationOutcome;
use opsline_kafka::{OutRecord, Producer};
use opsline_runtime::Shutdown;
use tokio::sync::mpsc;

use crate::config::DeliveryConfig;
use crate::metrics::NotifyMetrics;
use crate::sinks::{Failure, Notification, Progress, Sink};
use crate::state::{Input, Shared, dead_letter, state_of, state_record, thread_of};
use crate::transitions::Told;

/// One notification for one target.
#[derive(Debug, Clone)]
pub struct Job {
    /// The transition and the incident revision.
    pub notification: Notification,
    /// What the target knows once it is handled.
    pub told: Told,
    /// Where the revision was read.
    pub input: Arc<Input>,
    /// When it was queued.
    pub queued_at: Instant,
}

/// Hands jobs to one target's task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Dispatch {
    sender: mpsc::Sender<Job>,
    target: String,
    kind: &'static str,
    state_topic: String,
    shared: Arc<Shared>,
    metrics: NotifyMetrics,
    producer: Producer,
}

impl Dispatch {
    /// The target's kind (metrics label).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Produces `records` (a held job's dead letter when the queue was full at release).
    pub async fn produce_all(&self, records: &[OutRecord]) {
        for record in records {
            if let Err(error) = self.producer.send(record).await {
                tracing::error!(%error, topic = %record.topic, "notify record not produced");
            }
        }
    }

    /// Queues `job`, holding its input's commit until it is handled; when the queue is full,
    /// returns its dead letter and state records instead (to produce as the input's outputs).
    pub fn offer(&self, job: Job) -> Vec<OutRecord> {
        let (partition, offset) = (job.input.partition, job.input.offset);
        self.shared.hold(partition, offset);
        match self.sender.try_send(job) {
            Ok(()) => Vec::new(),
            Err(mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job)) => {
                self.shared.release(partition, offset);
                self.metrics.dead_lettered(&self.target, self.kind, "queue_full", None);
                let reason = format!("the queue of target {} is full", self.target);
                let state = self.dead_lettered_state(&job);
                dead_letter(&job.input, &self.target, "queue_full", reason, true)
                    .into_iter()
                    .chain(state_record(&self.state_topic, &state))
                    .collect()
            }
        }
    }

    fn dead_lettered_state(&self, job: &Job) -> opsline_events::notify::NotificationState {
        let incident = &job.notification.incident;
        let known = self.shared.told(incident.incident_id, &self.target);
        let thread = known.as_ref().and_then(thread_of);
        let state = state_of(
            incident,
            &self.target,
            job.notification.transition,
            job.told,
            NotificationOutcome::DeadLettered,
            thread.as_ref(),
        );
        self.shared.remember(state.clone());
        state
    }
}

/// One target's delivery task.
pub struct Worker {
    sink: Sink,
    config: DeliveryConfig,
    producer: Producer,
    state_topic: String,
    shared: Arc<Shared>,
    metrics: NotifyMetrics,
}

/// The dispatch and the task of `sink`.
pub(crate) fn worker(
    sink: Sink,
    capacity: usize,
    config: &DeliveryConfig,
    producer: &Producer,
    state_topic: &str,
    shared: &Arc<Shared>,
    metrics: &NotifyMetrics,
) -> (Dispatch, Worker, mpsc::Receiver<Job>) {
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    let dispatch = Dispatch {
        sender,
        target: sink.name.clone(),
        kind: sink.kind.as_str(),
        state_topic: state_topic.to_owned(),
        shared: shared.clone(),
        metrics: metrics.clone(),
        producer: producer.clone(),
    };
    let worker = Worker {
        sink,
        config: config.clone(),
        producer: producer.clone(),
        state_topic: state_topic.to_owned(),
        shared: shared.clone(),
        metrics: metrics.clone(),
    };
    (dispatch, worker, receiver)
}

impl Worker {
    /// Delivers queued jobs until `shutdown`; what is still queued then keeps its input's
    /// commit held (the revision is read again at the next start).
    pub async fn run(self, mut queue: mpsc::Receiver<Job>, shutdown: Shutdown) {
        loop {
            let job = tokio::select! {
                () = shutdown.cancelled() => return,
                job = queue.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.deliver(&job) => {}
            }
            self.shared.release(job.input.partition, job.input.offset);
        }
    }

    /// Sends `job` with retries, then records the outcome (state, or dead letter and state).
    async fn deliver(&self, job: &Job) {
        let (target, kind) = (self.sink.name.as_str(), self.sink.kind.as_str());
        let incident = &job.notification.incident;
        let known = self.shared.told(incident.incident_id, target);
        let mut progress = Progress {
            thread: known.as_ref().and_then(thread_of),
            replied: false,
        };
        let result = self.attempts(job, &mut progress).await;
        let took = job.queued_at.elapsed();
        let outcome = match &result {
            Ok(()) => {
                self.metrics.sent(target, kind, took);
                tracing::info!(target, kind, incident = %incident.incident_id, transition = job.notification.transition.as_str(), "notification sent");
                NotificationOutcome::Sent
            }
            Err(failure) => {
                self.metrics.dead_lettered(target, kind, failure.code, Some(took));
                tracing::warn!(target, kind, incident = %incident.incident_id, code = failure.code, reason = %failure.reason, "notification dead-lettered");
                if let Some(record) = dead_letter(
                    &job.input,
                    target,
                    failure.code,
                    format!("{} ({kind}): {}", target, failure.reason),
                    failure.retryable,
                ) {
                    self.produce(&record).await;
                }
                NotificationOutcome::DeadLettered
            }
        };
        let state = state_of(
            incident,
            target,
            job.notification.transition,
            job.told,
            outcome,
            progress.thread.as_ref(),
        );
        self.shared.remember(state.clone());
        if let Some(record) = state_record(&self.state_topic, &state) {
            self.produce(&record).await;
        }
    }

    async fn attempts(&self, job: &Job, progress: &mut Progress) -> Result<(), Failure> {
        let (name, kind) = (self.sink.name.as_str(), self.sink.kind.as_str());
        send_with_retries(&self.sink, &self.config, &job.notification, progress, |failure| {
            self.metrics.failed(name, kind, failure.code);
        })
        .await
    }

    async fn produce(&self, record: &OutRecord) {
        if let Err(error) = self.producer.send(record).await {
            tracing::error!(%error, topic = %record.topic, "notify record not produced");
        }
    }
}

/// Sends `notification` to `sink` until success, a failure retrying cannot fix, or the last of
/// `config.max_attempts`; between attempts waits `backon`'s exponential backoff, or the
/// `Retry-After` the target asked for (at most `config.max_delay_ms`). `on_failure` sees every
/// failed attempt.
pub async fn send_with_retries(
    sink: &Sink,
    config: &DeliveryConfig,
    notification: &Notification,
    progress: &mut Progress,
    mut on_failure: impl FnMut(&Failure),
) -> Result<(), Failure> {
    let max_delay = Duration::from_millis(config.max_delay_ms.max(1));
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(config.min_delay_ms.max(1)))
        .with_max_delay(max_delay)
        .with_max_times(config.max_attempts.saturating_sub(1))
        .with_jitter()
        .build();
    loop {
        let failure = match sink.send(notification, progress).await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        on_failure(&failure);
        if !failure.retryable {
            return Err(failure);
        }
        let Some(delay) = backoff.next() else {
            return Err(failure);
        };
        let delay = failure.retry_after.map_or(delay, |asked| asked.min(max_delay));
        tracing::debug!(target = %sink.name, code = failure.code, ?delay, "retrying notification");
        tokio::time::sleep(delay).await;
    }
}
