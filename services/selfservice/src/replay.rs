//! Replay memory: the envelope ids of the chat messages already handled, so a message that
//! arrives again is not acted on twice (a second password reset, a second ticket).
//!
//! Chat records arrive again when a platform retries (Slack re-sends an event it saw no answer
//! to, with the same `event_id`; the gateway derives the envelope id from it, so a retry that
//! reaches another gateway replica, or one restarted, is published again with the same id), and
//! when a partition is read again after a crash. The memory is this process's ids (bounded,
//! oldest forgotten first) plus the ids the topic itself holds before the position a partition
//! resumes from: when a partition is assigned here (at start, after a restart, or when another
//! replica stopped), the `window` records before the first one read are read back (they were
//! handled, since the group committed past them) and their ids remembered. So a retry is dropped
//! whichever replica handled the original and whether or not it restarted since, as long as the
//! original is among the `window` records of its partition before the retry.
//!
//! # Delivery guarantee
//!
//! Unchanged: at least once. Reading back is best effort: when it fails (broker unreachable
//! within the wait), the failure is logged and counted and messages are handled as before.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::time::Duration;

use opsline_kafka::{InRecord, KafkaConfig};
use serde::Deserialize;
use uuid::Uuid;

/// How many ids this process remembers.
pub(crate) const REMEMBERED_IDS: usize = 10_000;
/// How long reading a partition back may take.
const RECALL_WAIT: Duration = Duration::from_secs(20);
/// A pause this long with no record ends the reading back (the range is already on the broker).
const RECALL_IDLE: Duration = Duration::from_secs(2);

/// Where handled ids are read back from.
#[derive(Debug, Clone)]
pub(crate) struct Recall {
    /// The broker.
    pub(crate) kafka: KafkaConfig,
    /// The chat topic.
    pub(crate) topic: String,
    /// How many records before a partition's resume position are read back (0: none).
    pub(crate) window: i64,
}

/// The ids handled, and the partitions whose earlier ids are still to be read back.
#[derive(Debug, Default)]
pub(crate) struct ReplayMemory {
    ids: HashSet<Uuid>,
    order: VecDeque<Uuid>,
    recall: Option<Recall>,
    pending: BTreeSet<i32>,
}

/// What reading back gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recalled {
    /// Nothing to read back (no recall configured, the partition's first record, or already done).
    Nothing,
    /// This many ids were read back.
    Ids(usize),
    /// Reading back failed.
    Failed,
}

#[derive(Deserialize)]
struct EnvelopeId {
    id: Uuid,
}

impl ReplayMemory {
    /// A memory that reads handled ids back through `recall` (`None`: this process's ids only).
    pub(crate) fn new(recall: Option<Recall>) -> Self {
        Self {
            recall: recall.filter(|r| r.window > 0),
            ..Self::default()
        }
    }

    /// Notes partitions newly assigned to this member: their earlier ids are read back before
    /// their first record is handled.
    pub(crate) fn assigned(&mut self, partitions: &[(String, i32)]) {
        if let Some(recall) = &self.recall {
            for (topic, partition) in partitions {
                if *topic == recall.topic {
                    self.pending.insert(*partition);
                }
            }
        }
    }

    /// Reads back the ids before `record` when its partition was just assigned here.
    pub(crate) async fn recall_before(&mut self, record: &InRecord) -> Recalled {
        if !self.pending.remove(&record.partition) {
            return Recalled::Nothing;
        }
        let Some(recall) = self.recall.clone() else {
            return Recalled::Nothing;
        };
        let end = record.offset;
        let start = end.saturating_sub(recall.window).max(0);
        if start >= end {
            return Recalled::Nothing;
        }
        let last = end - 1;
        let read = opsline_kafka::reader::read_from(
            &recall.kafka,
            &recall.topic,
            &[(record.partition, start)],
            |records: &[InRecord]| records.last().is_some_and(|r| r.offset >= last),
            RECALL_IDLE,
            RECALL_WAIT,
        )
        .await;
        match read {
            Ok(records) => {
                let mut count = 0;
                for earlier in records.iter().filter(|r| r.offset < end) {
                    if let Ok(envelope) = serde_json::from_slice::<EnvelopeId>(earlier.payload_bytes()) {
                        self.remember(envelope.id);
                        count += 1;
                    }
                }
                tracing::info!(
                    partition = record.partition,
                    from = start,
                    to = end,
                    ids = count,
                    "read back the chat messages handled before this partition was assigned here"
                );
                Recalled::Ids(count)
            }
            Err(error) => {
                tracing::warn!(partition = record.partition, %error, "cannot read back the chat messages handled before; retries of them may be acted on again");
                Recalled::Failed
            }
        }
    }

    /// Remembers `id`; false when it was already remembered (a message seen before).
    pub(crate) fn remember(&mut self, id: Uuid) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED_IDS
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_id_is_new_once_and_the_oldest_are_forgotten_past_the_bound() {
        let mut memory = ReplayMemory::new(None);
        let first = Uuid::from_u128(1);
        assert!(memory.remember(first));
        assert!(!memory.remember(first));
        for n in 2..=(REMEMBERED_IDS as u128 + 1) {
            assert!(memory.remember(Uuid::from_u128(n)));
        }
        assert!(memory.remember(first), "forgotten past the bound");
    }

    #[test]
    fn only_partitions_of_the_chat_topic_are_read_back_and_a_zero_window_reads_nothing() {
        let recall = |window| Recall {
            kafka: KafkaConfig::default(),
            topic: "chat".into(),
            window,
        };
        let mut memory = ReplayMemory::new(Some(recall(100)));
        memory.assigned(&[("chat".into(), 1), ("other".into(), 2)]);
        assert_eq!(memory.pending.iter().copied().collect::<Vec<_>>(), [1]);
        let mut off = ReplayMemory::new(Some(recall(0)));
        off.assigned(&[("chat".into(), 1)]);
        assert!(off.pending.is_empty());
    }
}
