//! A group-less follower of whole topics, for in-memory views every replica needs
//! in full (triage's open-incident book, self-service's ticket and incident status).
//!
//! The follower assigns itself every partition of its topics by hand (no consumer
//! group is joined: no subscribe, no rebalance, no offset commit; the `group.id`
//! librdkafka insists on is the shared, never-used [`crate::config::READER_GROUP_ID`]), reads each one from
//! the beginning, i.e. everything the topic still retains (all of a compacted topic,
//! the retention window of another), and then keeps following new records until
//! shutdown. Partitions that appear later (a topic created after the start, partitions
//! added) are picked up by a periodic metadata check and read from their beginning.
//!
//! # Delivery guarantee
//!
//! **Every retained record, at least once per start, in partition order.** Nothing is
//! committed, so every start (and so every replica) rebuilds its view from the topic, and
//! restarts leave no consumer groups behind on the broker. The function given to
//! [`TopicFollower::run`] must therefore be an idempotent upsert. The follower produces
//! nothing: it is not a [`crate::consumer::Processor`] host, and a record it cannot use
//! is the applying function's business (typically skipped with a debug log).
//!
//! # Caught up
//!
//! A follower given a [`ReadyCondition`] ([`TopicFollower::caught_up_when`]) marks it met
//! once it has read every partition up to the end offset the broker reported when
//! the follower started: until then its view misses records that were already there,
//! so the service is not ready.

use std::collections::BTreeMap;
use std::time::Duration;

use opsline_runtime::Shutdown;
use opsline_runtime::readiness::ReadyCondition;
use rdkafka::Offset;
use rdkafka::consumer::{Consumer, StreamConsumer};

use crate::KafkaSetupError;
use crate::config::KafkaConfig;
use crate::metrics::KafkaMetrics;
use crate::quiet::QuietContext;
use crate::record::InRecord;

/// How often partitions are looked for while some topic has none assigned yet.
const MISSING_TOPIC_RECHECK: Duration = Duration::from_secs(1);
/// How often partitions are looked for once every topic has some.
const PARTITION_RECHECK: Duration = Duration::from_secs(30);
/// How often the read position is compared with the start's end offsets until caught up.
const CATCH_UP_CHECK: Duration = Duration::from_millis(100);

/// Follows topics from their beginning without a consumer group.
#[derive(Debug, Clone)]
pub struct TopicFollower {
    config: KafkaConfig,
    topics: Vec<String>,
    metrics: KafkaMetrics,
    caught_up: Option<ReadyCondition>,
}

impl TopicFollower {
    /// A follower of `topics` (full names); records read count in `opsline_kafka_consumed_records_total`.
    pub fn new(config: &KafkaConfig, topics: Vec<String>, metrics: &KafkaMetrics) -> Self {
        Self {
            config: config.clone(),
            topics,
            metrics: metrics.clone(),
            caught_up: None,
        }
    }

    /// Marks `condition` met once every partition was read up to its end offset at start.
    pub fn caught_up_when(mut self, condition: ReadyCondition) -> Self {
        condition.set(false);
        self.caught_up = Some(condition);
        self
    }

    /// Reads every partition from the beginning and hands each record to `apply`, until
    /// `shutdown`. Returns how many records were applied; fails only when the client
    /// cannot be created (read errors are logged and retried).
    pub async fn run<F>(self, mut apply: F, shutdown: Shutdown) -> Result<u64, KafkaSetupError>
    where
        F: FnMut(&InRecord) + Send,
    {
        let consumer: StreamConsumer<QuietContext> = self
            .config
            .reader_config()?
            .create_with_context(QuietContext::default())?;
        let mut assigned: BTreeMap<String, usize> = self.topics.iter().map(|t| (t.clone(), 0)).collect();
        let mut applied = 0u64;
        let mut next_check = tokio::time::Instant::now();
        let mut ends: Option<Vec<(String, i32, i64)>> = None;
        let mut catch_up = tokio::time::interval(CATCH_UP_CHECK);
        catch_up.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::info!(topics = ?self.topics, "follower started (no consumer group)");
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                _ = catch_up.tick(), if self.caught_up.as_ref().is_some_and(|c| !c.is_met()) => {
                    self.check_caught_up(&consumer, &mut ends).await;
                }
                () = tokio::time::sleep_until(next_check) => {
                    self.assign_new_partitions(&consumer, &mut assigned).await;
                    let complete = assigned.values().all(|&n| n > 0);
                    next_check = tokio::time::Instant::now()
                        + if complete { PARTITION_RECHECK } else { MISSING_TOPIC_RECHECK };
                }
                message = consumer.recv() => match message {
                    Ok(message) => {
                        let record = InRecord::from_message(&message);
                        drop(message);
                        self.metrics.consumed.get_or_create(&KafkaMetrics::topic(&record.topic)).inc();
                        apply(&record);
                        applied += 1;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "follower read error");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        tracing::info!(applied, "follower stopped");
        Ok(applied)
    }

    /// Marks the condition met once the read position reached the end offsets seen at start
    /// (fetched on the first call that reaches the broker).
    async fn check_caught_up(
        &self,
        consumer: &StreamConsumer<QuietContext>,
        ends: &mut Option<Vec<(String, i32, i64)>>,
    ) {
        let Some(condition) = &self.caught_up else { return };
        if ends.is_none() {
            match crate::admin::end_offsets(&self.config, self.topics.clone()).await {
                Ok(found) => *ends = Some(found),
                Err(error) => {
                    tracing::debug!(%error, "follower cannot read end offsets yet; will retry");
                    return;
                }
            }
        }
        let Some(ends) = ends.as_ref() else { return };
        let positions = match consumer.position() {
            Ok(positions) => positions,
            Err(_) if ends.is_empty() => rdkafka::TopicPartitionList::new(),
            Err(error) => {
                tracing::debug!(%error, "follower cannot read its positions yet");
                return;
            }
        };
        let reached = |topic: &str, partition: i32, end: i64| {
            positions
                .find_partition(topic, partition)
                .is_some_and(|element| matches!(element.offset(), Offset::Offset(at) if at >= end))
        };
        if ends
            .iter()
            .all(|(topic, partition, end)| reached(topic, *partition, *end))
        {
            condition.set(true);
            tracing::info!(topics = ?self.topics, "follower caught up with what the topics held at start");
        }
    }

    /// Adds the partitions the broker reports beyond those assigned so far, from their beginning.
    async fn assign_new_partitions(
        &self,
        consumer: &StreamConsumer<QuietContext>,
        assigned: &mut BTreeMap<String, usize>,
    ) {
        let known = match crate::admin::list_topics(&self.config).await {
            Ok(known) => known,
            Err(error) => {
                tracing::warn!(%error, "follower cannot list partitions; will retry");
                return;
            }
        };
        // Keep the position of every partition already read; new ones start at the beginning.
        let mut assignment = match consumer.position() {
            Ok(positions) => positions,
            Err(error) => {
                tracing::warn!(%error, "follower cannot read its positions; will retry");
                return;
            }
        };
        let unread: Vec<(String, i32)> = assignment
            .elements()
            .iter()
            .filter(|element| element.offset() == Offset::Invalid)
            .map(|element| (element.topic().to_owned(), element.partition()))
            .collect();
        for (topic, partition) in unread {
            if let Err(error) = assignment.set_partition_offset(&topic, partition, Offset::Beginning) {
                tracing::warn!(%error, %topic, partition, "cannot keep partition");
            }
        }
        let mut counts = Vec::new();
        for (topic, count) in known {
            let Some(&have) = assigned.get(&topic) else { continue };
            if count <= have {
                continue;
            }
            for partition in have..count {
                let partition = i32::try_from(partition).unwrap_or(i32::MAX);
                if let Err(error) = assignment.add_partition_offset(&topic, partition, Offset::Beginning) {
                    tracing::warn!(%error, %topic, partition, "cannot add partition");
                }
            }
            counts.push((topic, count));
        }
        if counts.is_empty() {
            return;
        }
        // A manual assignment (no group is joined): it replaces the previous one.
        match consumer.assign(&assignment) {
            Ok(()) => {
                for (topic, count) in counts {
                    tracing::info!(%topic, partitions = count, "follower reads partitions from the beginning");
                    assigned.insert(topic, count);
                }
            }
            Err(error) => tracing::warn!(%error, "follower cannot assign partitions; will retry"),
        }
    }
}
