//! The at-least-once consumer loop.
//!
//! For each input record the loop calls the [`Processor`], enqueues every
//! output record on the idempotent producer, and keeps the input "in flight"
//! until the broker acknowledged all of them. Inputs complete in order; the
//! offset after the last completed input of each partition is committed every
//! `commit_interval_ms`, before a partition is revoked, and at shutdown.
//!
//! Processing errors are classified by the processor: a retryable error is
//! retried with exponential backoff (`backon`), then dead-lettered; a fatal
//! one is dead-lettered at once. A dead letter (`<input topic>.dlq`) carries
//! the reason and the original bytes and counts as the input's output, so bad
//! input never blocks a partition and is never silently dropped.
//!
//! An output the broker refuses for good (too large, invalid) is not retried: the
//! input is dead-lettered with the reason (`output_rejected`) and the loop goes on;
//! a dead letter itself too large is sent without the original bytes (they stay in
//! the input topic at the cited offset). Any other produce error is retried; one that
//! still fails after retries stops the loop *without* committing past the failed
//! input: it is replayed on restart.
//!
//! Once an input's outputs are all acknowledged, the loop calls
//! [`Processor::outputs_acknowledged`], so a processor can start work that must
//! land after them (a later revision of the same key, produced after the earlier
//! one is in the log, follows it in the partition).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::stream::{FuturesOrdered, StreamExt};
use opsline_runtime::Shutdown;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use tracing::Instrument;

use crate::KafkaSetupError;
use crate::config::KafkaConfig;
use crate::context::{CommitTracker, LoopContext, SharedTracker};
use crate::metrics::KafkaMetrics;
use crate::outputs::{Reason, dead_letter, deliver_all, deliver_dead_letter};
use crate::producer::{PendingDelivery, Producer, SendError};
use crate::record::{InRecord, OutRecord};

/// Why processing one record failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProcessError {
    /// A stable, bounded error code (metrics label and dead-letter field).
    pub code: String,
    /// What went wrong, in words (no secrets).
    pub message: String,
    /// Whether trying again may succeed.
    pub retryable: bool,
}

impl ProcessError {
    /// An error classified by the service: retried when `retryable`, else dead-lettered at once.
    pub fn new(code: &str, message: impl Into<String>, retryable: bool) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            retryable,
        }
    }

    /// The reason a dead letter carries.
    pub(crate) fn reason(&self) -> Reason<'_> {
        Reason {
            code: &self.code,
            message: &self.message,
            retryable: self.retryable,
        }
    }

    /// An error that will not go away by retrying (bad input): dead-lettered at once.
    pub fn fatal(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            retryable: false,
        }
    }

    /// A transient error (a dependency is down): retried, then dead-lettered.
    pub fn retryable(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            retryable: true,
        }
    }
}

/// A service's own error, classified through [`opsline_runtime::Classify`]: a bad record is
/// dead-lettered at once, an unavailable dependency retried first; the message keeps
/// the error's whole source chain.
impl<E: opsline_runtime::Classify> From<E> for ProcessError {
    fn from(error: E) -> Self {
        Self::new(
            error.code(),
            opsline_runtime::error::chain(&error),
            error.kind().is_retryable(),
        )
    }
}

/// One kind of stream processor: turns an input record into output records.
///
/// Called for one record at a time, in partition order, so a processor may keep
/// state in `&mut self` without locking.
pub trait Processor: Send {
    /// Processes `record` and returns the records to produce for it.
    fn process(&mut self, record: &InRecord) -> impl Future<Output = Result<Vec<OutRecord>, ProcessError>> + Send;

    /// Called once every output of the input at `topic`/`partition`/`offset` (or its
    /// dead letter) was acknowledged by the broker, in the order inputs complete. Work
    /// that must come after those outputs (e.g. a later revision of the same key) can
    /// start here. Not called for an input whose outputs failed (the loop stops).
    fn outputs_acknowledged(&mut self, topic: &str, partition: i32, offset: i64) {
        let _ = (topic, partition, offset);
    }

    /// The highest offset of `topic`/`partition` that may be committed now that the input at
    /// `offset` is done (its outputs acknowledged). A processor whose state is persisted
    /// separately (snapshots) answers the position its persisted state reflects, so a member
    /// taking the partition over replays what that state lacks. Default: `offset`.
    fn committable(&self, topic: &str, partition: i32, offset: i64) -> i64 {
        let _ = (topic, partition);
        offset
    }

    /// Called before the first record of partitions newly assigned to this member (at start
    /// or when a rebalance moved them here): a processor with per-partition state restores it.
    fn partitions_assigned(&mut self, partitions: &[(String, i32)]) -> impl Future<Output = ()> + Send {
        let _ = partitions;
        async {}
    }
}

/// Why the consumer loop stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// The client could not be created or subscribed.
    #[error(transparent)]
    Setup(#[from] KafkaSetupError),
    /// An output record could not be delivered after retries; the input was not committed.
    #[error("output for {topic}[{partition}]@{offset} not delivered: {error}")]
    Delivery {
        /// Input topic.
        topic: String,
        /// Input partition.
        partition: i32,
        /// Input offset.
        offset: i64,
        /// The last error.
        error: SendError,
    },
}

/// Counts reported when the loop stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Inputs consumed.
    pub consumed: u64,
    /// Inputs dead-lettered.
    pub dead_lettered: u64,
}

/// Consumes topics as a group member and drives a [`Processor`].
pub struct ConsumerLoop {
    config: KafkaConfig,
    group_id: String,
    topics: Vec<String>,
    producer: Producer,
    metrics: KafkaMetrics,
    component: String,
}

struct Completed {
    topic: String,
    partition: i32,
    offset: i64,
    result: Result<(), SendError>,
}

impl ConsumerLoop {
    /// A loop for `component` (named in dead letters) consuming `topics` in `group_id`.
    pub fn new(
        config: &KafkaConfig,
        group_id: &str,
        topics: Vec<String>,
        producer: Producer,
        metrics: &KafkaMetrics,
        component: &str,
    ) -> Self {
        Self {
            config: config.clone(),
            group_id: group_id.to_owned(),
            topics,
            producer,
            metrics: metrics.clone(),
            component: component.to_owned(),
        }
    }

    /// Runs until `shutdown` is cancelled, then drains in-flight work, commits and leaves the group.
    pub async fn run<P: Processor>(self, mut processor: P, shutdown: Shutdown) -> Result<RunStats, ConsumerError> {
        let tracker: SharedTracker = Arc::new(Mutex::new(CommitTracker::default()));
        let context = LoopContext {
            tracker: tracker.clone(),
            metrics: self.metrics.clone(),
            quiet: crate::quiet::QuietContext::default(),
        };
        let consumer: StreamConsumer<LoopContext> = self
            .config
            .consumer_config(&self.group_id)?
            .create_with_context(context)
            .map_err(KafkaSetupError::from)?;
        let topic_refs: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topic_refs).map_err(KafkaSetupError::from)?;
        tracing::info!(group = %self.group_id, topics = ?self.topics, "consumer loop started");

        let mut stats = RunStats::default();
        let mut in_flight = FuturesOrdered::new();
        let mut commit_tick = tokio::time::interval(self.config.commit_interval());
        commit_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failure = None;

        while failure.is_none() {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    failure = self.complete(&consumer, &mut processor, done);
                }
                _ = commit_tick.tick() => commit(&consumer, CommitMode::Async),
                message = consumer.recv(), if in_flight.len() < self.config.max_in_flight => {
                    match message {
                        Ok(message) => {
                            let record = InRecord::from_message(&message);
                            drop(message);
                            let assigned = consumer.context().lock().take_newly_assigned();
                            if !assigned.is_empty() {
                                processor.partitions_assigned(&assigned).await;
                            }
                            stats.consumed += 1;
                            let (pending, dead_lettered) = self.handle(&mut processor, record, &shutdown).await;
                            stats.dead_lettered += u64::from(dead_lettered);
                            in_flight.push_back(pending);
                        }
                        Err(error) => {
                            tracing::warn!(%error, "consume error");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            }
        }

        let drain = Duration::from_millis(self.config.drain_timeout_ms);
        let remaining = in_flight.len();
        let drained = tokio::time::timeout(drain, async {
            while let Some(done) = in_flight.next().await {
                if let Some(error) = self.complete(&consumer, &mut processor, done) {
                    return Some(error);
                }
            }
            None
        })
        .await;
        match drained {
            Ok(Some(error)) => failure = failure.or(Some(error)),
            Ok(None) => {}
            Err(_) => tracing::warn!(remaining, "drain timed out; unfinished inputs will be replayed"),
        }
        // The last commit waits for the broker's answer, and librdkafka waits for it without
        // limit (so does closing the consumer): with the broker gone, the service never stopped.
        // Both run on a thread of their own, waited for at most the drain timeout; a thread left
        // waiting ends with the process (not a runtime's blocking pool, whose shutdown would
        // wait for it).
        let (closed, close_done) = tokio::sync::oneshot::channel::<()>();
        let closer = std::thread::Builder::new()
            .name("kafka-close".to_owned())
            .spawn(move || {
                commit(&consumer, CommitMode::Sync);
                consumer.unsubscribe();
                drop(consumer);
                let _ = closed.send(());
            });
        let finished = match closer {
            Ok(_) => tokio::time::timeout(drain, close_done).await.is_ok(),
            Err(error) => {
                tracing::warn!(%error, "cannot start the thread that commits and closes the consumer");
                false
            }
        };
        if !finished {
            tracing::warn!(
                seconds = drain.as_secs(),
                "the last offset commit got no answer from the broker; the inputs since the last commit will be replayed"
            );
        }
        tracing::info!(
            consumed = stats.consumed,
            dead_lettered = stats.dead_lettered,
            "consumer loop stopped"
        );
        match failure {
            Some(error) => Err(error),
            None => Ok(stats),
        }
    }

    fn complete<P: Processor>(
        &self,
        consumer: &StreamConsumer<LoopContext>,
        processor: &mut P,
        done: Completed,
    ) -> Option<ConsumerError> {
        match done.result {
            Ok(()) => {
                processor.outputs_acknowledged(&done.topic, done.partition, done.offset);
                let committable = processor
                    .committable(&done.topic, done.partition, done.offset)
                    .min(done.offset);
                consumer
                    .context()
                    .lock()
                    .mark_done(&done.topic, done.partition, committable);
                None
            }
            Err(error) => {
                tracing::error!(topic = %done.topic, partition = done.partition, offset = done.offset, %error, "output not delivered; stopping without commit");
                Some(ConsumerError::Delivery {
                    topic: done.topic,
                    partition: done.partition,
                    offset: done.offset,
                    error,
                })
            }
        }
    }

    /// Processes one record and returns the future of its outputs' acknowledgement.
    async fn handle<P: Processor>(
        &self,
        processor: &mut P,
        record: InRecord,
        shutdown: &Shutdown,
    ) -> (impl Future<Output = Completed> + Send + 'static, bool) {
        let span =
            tracing::info_span!("process", topic = %record.topic, partition = record.partition, offset = record.offset);
        record.set_parent_of(&span);
        self.metrics
            .consumed
            .get_or_create(&KafkaMetrics::topic(&record.topic))
            .inc();
        let outcome = self
            .process_with_retries(processor, &record)
            .instrument(span.clone())
            .await;
        let (outputs, dead_lettered) = match outcome {
            Ok(outputs) => (outputs, false),
            Err(error) => {
                let _entered = span.enter();
                tracing::warn!(code = %error.code, reason = %error.message, "dead-lettering input");
                self.metrics
                    .dead_lettered
                    .get_or_create(&KafkaMetrics::topic_code(&record.topic, &error.code))
                    .inc();
                (vec![self.dead_letter(&record, &error)], true)
            }
        };
        let mut pending = Vec::with_capacity(outputs.len());
        for output in outputs {
            let mut output = output;
            if !output
                .headers
                .iter()
                .any(|(k, _)| k == crate::record::TRACEPARENT_HEADER)
            {
                let _entered = span.enter();
                output.inject_current_trace();
            }
            let enqueued = self.enqueue_until_space(&output, shutdown).await;
            pending.push((output, enqueued));
        }
        let producer = self.producer.clone();
        let backoff = self.backoff();
        let (component, metrics) = (self.component.clone(), self.metrics.clone());
        let future = async move {
            let mut result = deliver_all(&producer, pending, backoff).await;
            if let Err(SendError::Rejected(reason)) = &result {
                let error = ProcessError::fatal("output_rejected", format!("an output was refused: {reason}"));
                tracing::warn!(parent: &span, code = %error.code, reason = %error.message, "dead-lettering input");
                metrics
                    .dead_lettered
                    .get_or_create(&KafkaMetrics::topic_code(&record.topic, &error.code))
                    .inc();
                result = deliver_dead_letter(&producer, &component, &record, &error.reason(), backoff).await;
            }
            Completed {
                topic: record.topic,
                partition: record.partition,
                offset: record.offset,
                result,
            }
        };
        (future, dead_lettered)
    }

    async fn enqueue_until_space(&self, output: &OutRecord, shutdown: &Shutdown) -> Result<PendingDelivery, SendError> {
        loop {
            match self.producer.enqueue(output) {
                Err(SendError::QueueFull) if !shutdown.is_cancelled() => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => return other,
            }
        }
    }

    async fn process_with_retries<P: Processor>(
        &self,
        processor: &mut P,
        record: &InRecord,
    ) -> Result<Vec<OutRecord>, ProcessError> {
        let mut backoff = self.backoff().build();
        loop {
            match processor.process(record).await {
                Err(error) if error.retryable => match backoff.next() {
                    Some(delay) => {
                        self.metrics
                            .retries
                            .get_or_create(&KafkaMetrics::topic(&record.topic))
                            .inc();
                        tracing::debug!(code = %error.code, ?delay, "retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(error),
                },
                other => return other,
            }
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.config.retry_min_delay_ms))
            .with_max_delay(Duration::from_millis(self.config.retry_max_delay_ms))
            .with_max_times(self.config.retry_max_attempts)
            .with_jitter()
    }

    fn dead_letter(&self, record: &InRecord, error: &ProcessError) -> OutRecord {
        dead_letter(&self.component, record, &error.reason(), true)
    }
}

fn commit(consumer: &StreamConsumer<LoopContext>, mode: CommitMode) {
    let ready = consumer.context().lock().take_ready();
    if let Some(list) = ready {
        let result = consumer.commit(&list, mode);
        consumer.context().count_commit(result.is_ok());
        if let Err(error) = result {
            tracing::warn!(%error, "offset commit failed; records will be replayed");
        }
    }
}

#[cfg(test)]
mod tests {
    use opsline_runtime::{Classify, ErrorKind};

    use super::ProcessError;

    #[derive(Debug, thiserror::Error)]
    enum DomainError {
        #[error("not a ticket")]
        BadRecord,
        #[error("directory unavailable")]
        Unavailable(#[source] std::io::Error),
        #[error("invalid setup")]
        Setup,
    }

    impl Classify for DomainError {
        fn kind(&self) -> ErrorKind {
            match self {
                Self::BadRecord => ErrorKind::BadRecord,
                Self::Unavailable(_) => ErrorKind::Unavailable,
                Self::Setup => ErrorKind::Startup,
            }
        }
        fn code(&self) -> &'static str {
            match self {
                Self::BadRecord => "bad_record",
                Self::Unavailable(_) => "unavailable",
                Self::Setup => "setup",
            }
        }
    }

    #[test]
    fn each_error_kind_maps_to_its_treatment_with_the_cause_chain() {
        let bad = ProcessError::from(DomainError::BadRecord);
        assert_eq!(
            (bad.code.as_str(), bad.retryable),
            ("bad_record", false),
            "dead-lettered at once"
        );
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let unavailable = ProcessError::from(DomainError::Unavailable(refused));
        assert!(unavailable.retryable, "retried, then dead-lettered");
        assert_eq!(unavailable.message, "directory unavailable: connection refused");
        let setup = ProcessError::from(DomainError::Setup);
        assert!(!setup.retryable, "a setup error never stops a consumer: dead-lettered");
    }
}
