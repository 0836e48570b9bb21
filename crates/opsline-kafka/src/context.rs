//! The consumer context: rebalance callbacks that commit what is done, and lag statistics.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::metrics::{KafkaMetrics, OutcomeLabel, PartitionLabel};
use crate::quiet::QuietContext;

/// Offsets whose inputs are fully processed, per assigned partition.
#[derive(Debug, Default)]
pub(crate) struct CommitTracker {
    assigned: HashSet<(String, i32)>,
    ready: HashMap<(String, i32), i64>,
    /// Assigned since the loop last asked (see [`crate::Processor::partitions_assigned`]).
    newly_assigned: Vec<(String, i32)>,
}

impl CommitTracker {
    /// Records that the input at `offset` and everything before it is done (`offset` below 0:
    /// nothing yet).
    pub(crate) fn mark_done(&mut self, topic: &str, partition: i32, offset: i64) {
        let key = (topic.to_owned(), partition);
        if offset >= 0 && self.assigned.contains(&key) {
            self.ready.insert(key, offset + 1);
        }
    }

    /// The partitions assigned since the last call.
    pub(crate) fn take_newly_assigned(&mut self) -> Vec<(String, i32)> {
        std::mem::take(&mut self.newly_assigned)
    }

    /// Takes the offsets ready to commit.
    pub(crate) fn take_ready(&mut self) -> Option<TopicPartitionList> {
        if self.ready.is_empty() {
            return None;
        }
        let mut list = TopicPartitionList::new();
        for ((topic, partition), next) in self.ready.drain() {
            let _ = list.add_partition_offset(&topic, partition, Offset::Offset(next));
        }
        Some(list)
    }

    fn assign(&mut self, list: &TopicPartitionList) {
        for element in list.elements() {
            let key = (element.topic().to_owned(), element.partition());
            if self.assigned.insert(key.clone()) {
                self.newly_assigned.push(key);
            }
        }
    }

    fn revoke(&mut self, list: &TopicPartitionList) -> Option<TopicPartitionList> {
        let mut commit = TopicPartitionList::new();
        for element in list.elements() {
            let key = (element.topic().to_owned(), element.partition());
            self.assigned.remove(&key);
            self.newly_assigned.retain(|assigned| *assigned != key);
            if let Some(next) = self.ready.remove(&key) {
                let _ = commit.add_partition_offset(&key.0, key.1, Offset::Offset(next));
            }
        }
        (commit.count() > 0).then_some(commit)
    }
}

/// Shared between the consumer loop and librdkafka's callbacks.
pub(crate) struct LoopContext {
    pub(crate) tracker: Arc<Mutex<CommitTracker>>,
    pub(crate) metrics: KafkaMetrics,
    /// librdkafka's logs and errors, each kind once a minute.
    pub(crate) quiet: QuietContext,
}

impl LoopContext {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, CommitTracker> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn count_commit(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.metrics
            .commits
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

impl ClientContext for LoopContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.quiet.say_log(level, fac, log_message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.quiet.say_error(&error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        for (topic, stats) in &statistics.topics {
            for (partition, p) in &stats.partitions {
                if *partition < 0 || p.consumer_lag < 0 {
                    continue;
                }
                let label = PartitionLabel {
                    topic: topic.clone(),
                    partition: partition.to_string(),
                };
                self.metrics.consumer_lag.get_or_create(&label).set(p.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for LoopContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            // A revoked partition's lag is now another member's to report.
            for element in list.elements() {
                let label = PartitionLabel {
                    topic: element.topic().to_owned(),
                    partition: element.partition().to_string(),
                };
                self.metrics.consumer_lag.remove(&label);
                self.metrics
                    .assigned_partitions
                    .get_or_create(&KafkaMetrics::topic(element.topic()))
                    .dec();
            }
            let commit = self.lock().revoke(list);
            if let Some(commit) = commit {
                // Asynchronous: partitions are also revoked when the broker is gone, and
                // librdkafka waits for a synchronous commit's answer without limit, which
                // stopped the loop for good. If this commit lands after the next owner read the
                // group's offsets, it replays those records (dropped downstream by id).
                let result = consumer.commit(&commit, CommitMode::Async);
                self.count_commit(result.is_ok());
                match result {
                    Ok(()) => tracing::info!(
                        partitions = commit.count(),
                        "committing processed offsets before revocation"
                    ),
                    Err(error) => tracing::warn!(%error, "commit before revocation failed; records will be replayed"),
                }
            }
            tracing::info!(partitions = list.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                self.lock().assign(list);
                for element in list.elements() {
                    self.metrics
                        .assigned_partitions
                        .get_or_create(&KafkaMetrics::topic(element.topic()))
                        .inc();
                }
                tracing::info!(partitions = list.count(), "partitions assigned");
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(error) => tracing::warn!(%error, "rebalance error"),
        }
    }
}

/// Shared handle type for the tracker.
pub(crate) type SharedTracker = Arc<Mutex<CommitTracker>>;
