//! Reads a topic from the beginning without a consumer group (tools, reports, tests and
//! start-up rebuilds), or one record at its offset ([`read_at`], evidence views); see
//! [`crate::follower`] to keep following a topic afterwards.

use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::KafkaSetupError;
use crate::config::KafkaConfig;
use crate::quiet::QuietContext;
use crate::record::InRecord;

/// Reads `topic` from offset 0 on every partition until `done` says enough, or
/// nothing arrived for `idle`, or `max_wait` passed.
pub async fn read_topic(
    config: &KafkaConfig,
    topic: &str,
    done: impl FnMut(&[InRecord]) -> bool,
    idle: Duration,
    max_wait: Duration,
) -> Result<Vec<InRecord>, KafkaSetupError> {
    let partitions = partition_count(config, topic).await?;
    let consumer: StreamConsumer<QuietContext> = config.reader_config()?.create_with_context(QuietContext::default())?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    Ok(read_assigned(&consumer, done, idle, max_wait).await)
}

/// Each partition's end offset (where the next record will be written) as it is now; pass them
/// to [`read_from`] to read only what is written after this call.
pub async fn end_offsets(config: &KafkaConfig, topic: &str) -> Result<Vec<(i32, i64)>, KafkaSetupError> {
    let partitions = partition_count(config, topic).await?;
    let consumer: StreamConsumer<QuietContext> = config.reader_config()?.create_with_context(QuietContext::default())?;
    let mut ends = Vec::new();
    for partition in 0..partitions {
        let (_, high) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
        ends.push((partition, high));
    }
    Ok(ends)
}

/// Like [`read_topic`], from the given offset of each partition (see [`end_offsets`]).
pub async fn read_from(
    config: &KafkaConfig,
    topic: &str,
    offsets: &[(i32, i64)],
    done: impl FnMut(&[InRecord]) -> bool,
    idle: Duration,
    max_wait: Duration,
) -> Result<Vec<InRecord>, KafkaSetupError> {
    let consumer: StreamConsumer<QuietContext> = config.reader_config()?.create_with_context(QuietContext::default())?;
    let mut assignment = TopicPartitionList::new();
    for (partition, offset) in offsets {
        assignment.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    consumer.assign(&assignment)?;
    Ok(read_assigned(&consumer, done, idle, max_wait).await)
}

async fn partition_count(config: &KafkaConfig, topic: &str) -> Result<i32, KafkaSetupError> {
    let partitions = crate::admin::list_topics(config)
        .await?
        .into_iter()
        .find(|(name, _)| name == topic)
        .map(|(_, n)| n)
        .unwrap_or(0);
    Ok(i32::try_from(partitions).unwrap_or(i32::MAX))
}

/// Receives from an assigned consumer until `done`, `idle` without a record, or `max_wait`.
async fn read_assigned(
    consumer: &StreamConsumer<QuietContext>,
    mut done: impl FnMut(&[InRecord]) -> bool,
    idle: Duration,
    max_wait: Duration,
) -> Vec<InRecord> {
    let mut records = Vec::new();
    let deadline = tokio::time::Instant::now() + max_wait;
    while !done(&records) && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(idle, consumer.recv()).await {
            Ok(Ok(message)) => records.push(InRecord::from_message(&message)),
            Ok(Err(error)) => {
                tracing::debug!(%error, "read error");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => break,
        }
    }
    records
}

/// How long [`read_to_end`] goes on reading, once past the ends, for records written since.
pub const SETTLE: Duration = Duration::from_millis(500);

/// Reads `topic` from the beginning at least up to the end offsets it has when the call starts
/// (state restore: a slow broker cannot end the read early, as a pause would with
/// [`read_until_idle`]), then on until nothing arrives for [`SETTLE`]: Tansu 0.6 has been seen
/// to report a partition's end as 1 while records were being written to it, so the ends are a
/// floor, not the whole answer. Fails with [`KafkaSetupError::Incomplete`] when the ends are
/// not reached within `max_wait`: a service must not start with part of its state.
pub async fn read_to_end(
    config: &KafkaConfig,
    topic: &str,
    max_wait: Duration,
) -> Result<Vec<InRecord>, KafkaSetupError> {
    let partitions = partition_count(config, topic).await?;
    let consumer: StreamConsumer<QuietContext> = config.reader_config()?.create_with_context(QuietContext::default())?;
    let mut ends = std::collections::BTreeMap::new();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
        if high > low {
            ends.insert(partition, high);
        }
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    let mut records = Vec::new();
    if partitions == 0 {
        return Ok(records);
    }
    consumer.assign(&assignment)?;
    let deadline = tokio::time::Instant::now() + max_wait;
    let mut settled = false;
    while !settled {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() && ends.is_empty() {
            break;
        }
        if left.is_zero() {
            return Err(KafkaSetupError::Incomplete {
                topic: topic.to_owned(),
                seconds: max_wait.as_secs(),
                read: records.len(),
                partitions: ends.into_keys().collect(),
            });
        }
        let wait = if ends.is_empty() {
            SETTLE
        } else {
            Duration::from_secs(1)
        };
        match tokio::time::timeout(left.min(wait), consumer.recv()).await {
            Ok(Ok(message)) => {
                let record = InRecord::from_message(&message);
                if ends
                    .get(&record.partition)
                    .is_some_and(|end| record.offset.saturating_add(1) >= *end)
                {
                    ends.remove(&record.partition);
                }
                records.push(record);
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "read error");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Nothing for a while: a partition whose last offsets hold no record (a
            // transaction marker) is done once the consumer's position passed its end.
            Err(_) if ends.is_empty() => settled = true,
            Err(_) => {
                if let Ok(positions) = consumer.position() {
                    for element in positions.elements() {
                        if let Offset::Offset(at) = element.offset()
                            && ends.get(&element.partition()).is_some_and(|end| at >= *end)
                        {
                            ends.remove(&element.partition());
                        }
                    }
                }
            }
        }
    }
    Ok(records)
}

/// Reads the whole of `topic` (tools and tests): everything until nothing arrived for `idle`,
/// or `max_wait` passed. Services restoring state use [`read_to_end`].
pub async fn read_until_idle(
    config: &KafkaConfig,
    topic: &str,
    idle: Duration,
    max_wait: Duration,
) -> Result<Vec<InRecord>, KafkaSetupError> {
    read_topic(config, topic, |_| false, idle, max_wait).await
}

/// Reads the one record at `topic`/`partition`/`offset` (no consumer group): `None` when it is
/// not there within `max_wait` (removed by retention, compacted away, or not written yet).
pub async fn read_at(
    config: &KafkaConfig,
    topic: &str,
    partition: i32,
    offset: i64,
    max_wait: Duration,
) -> Result<Option<InRecord>, KafkaSetupError> {
    let consumer: StreamConsumer<QuietContext> = config.reader_config()?.create_with_context(QuietContext::default())?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    consumer.assign(&assignment)?;
    let deadline = tokio::time::Instant::now() + max_wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(message)) => {
                let record = InRecord::from_message(&message);
                if record.offset == offset {
                    return Ok(Some(record));
                }
                if record.offset > offset {
                    return Ok(None); // the offset itself is gone (compaction)
                }
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "read error");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => return Ok(None),
        }
    }
}
