//! What each target was told (read back from `opsline.notify.state.v1` by a follower, and
//! written by the delivery tasks), and the commit holds: an incident revision's offset is
//! committed only once every notification it brought was sent or dead-lettered.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine;
use opsline_events::incidents::Incident;
use opsline_events::notify::{NotificationOutcome, NotificationState, Transition};
use opsline_events::ops::DeadLetter;
use opsline_events::{Envelope, TopicNames};
use opsline_kafka::{InRecord, OutRecord};
use uuid::Uuid;

use crate::sinks::Thread;
use crate::transitions::Told;

/// The component named in dead letters and envelopes.
pub const COMPONENT: &str = "notify";

/// The input a notification came from (for its dead letter and its commit hold).
#[derive(Debug, Clone)]
pub struct Input {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// The record's key.
    pub key: Option<Vec<u8>>,
    /// The record's bytes.
    pub payload: Vec<u8>,
}

impl Input {
    /// The input of `record`.
    pub fn of(record: &InRecord) -> Self {
        Self {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            key: record.key.clone(),
            payload: record.payload_bytes().to_vec(),
        }
    }
}

/// State shared by the processor, the follower and the delivery tasks.
#[derive(Debug, Default)]
pub struct Shared {
    told: Mutex<HashMap<(Uuid, String), NotificationState>>,
    holds: Mutex<HashMap<i32, BTreeMap<i64, usize>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Keeps `state` unless a later one is known for its incident and target.
    pub fn remember(&self, state: NotificationState) {
        let mut told = lock(&self.told);
        let key = (state.incident_id, state.target.clone());
        if told.get(&key).is_none_or(|known| known.updated_at <= state.updated_at) {
            told.insert(key, state);
        }
    }

    /// What `target` was told about `incident`.
    pub fn told(&self, incident: Uuid, target: &str) -> Option<NotificationState> {
        lock(&self.told).get(&(incident, target.to_owned())).cloned()
    }

    /// Applies a followed state record (anything else is ignored).
    pub fn apply(&self, record: &InRecord) {
        if let Ok(envelope) = record.envelope::<NotificationState>() {
            self.remember(envelope.data);
        }
    }

    /// The input at `partition`/`offset` holds its commit until [`Self::release`].
    pub fn hold(&self, partition: i32, offset: i64) {
        *lock(&self.holds)
            .entry(partition)
            .or_default()
            .entry(offset)
            .or_default() += 1;
    }

    /// Releases one hold of `partition`/`offset`.
    pub fn release(&self, partition: i32, offset: i64) {
        let mut holds = lock(&self.holds);
        if let Some(offsets) = holds.get_mut(&partition) {
            if let Some(count) = offsets.get_mut(&offset) {
                *count -= 1;
                if *count == 0 {
                    offsets.remove(&offset);
                }
            }
            if offsets.is_empty() {
                holds.remove(&partition);
            }
        }
    }

    /// The highest offset of `partition` that may be committed once `offset` is done.
    pub fn committable(&self, partition: i32, offset: i64) -> i64 {
        lock(&self.holds)
            .get(&partition)
            .and_then(|offsets| offsets.keys().next())
            .map_or(offset, |oldest| offset.min(oldest - 1))
    }
}

/// The state record after `transition` ended with `outcome` for `target`.
pub fn state_of(
    incident: &Incident,
    target: &str,
    transition: Transition,
    told: Told,
    outcome: NotificationOutcome,
    thread: Option<&Thread>,
) -> NotificationState {
    NotificationState {
        incident_id: incident.incident_id,
        target: target.to_owned(),
        opened: told.opened,
        sev: told.sev,
        acknowledged: told.acknowledged,
        resolved: told.resolved,
        last: transition,
        outcome,
        channel: thread.map(|t| t.channel.clone()),
        thread_ts: thread.map(|t| t.ts.clone()),
        input_offset: told.offset,
        updated_at: jiff::Timestamp::now(),
    }
}

/// The state record on `topic`.
pub fn state_record(topic: &str, state: &NotificationState) -> Option<OutRecord> {
    OutRecord::event(topic.to_owned(), &state.key(), &Envelope::new(COMPONENT, state.clone())).ok()
}

/// The thread a state names.
pub fn thread_of(state: &NotificationState) -> Option<Thread> {
    Some(Thread {
        channel: state.channel.clone()?,
        ts: state.thread_ts.clone()?,
    })
}

/// The dead letter of a notification of `input` that `target` did not take.
pub fn dead_letter(input: &Input, target: &str, code: &str, reason: String, retryable: bool) -> Option<OutRecord> {
    let letter = DeadLetter {
        original_topic: input.topic.clone(),
        partition: Some(input.partition),
        offset: Some(input.offset),
        consumer: format!("{COMPONENT}:{target}"),
        error_code: code.to_owned(),
        reason,
        retryable,
        key: input.key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned()),
        payload_base64: base64::engine::general_purpose::STANDARD.encode(&input.payload),
        headers: Default::default(),
        failed_at: jiff::Timestamp::now(),
    };
    let key = letter.key.clone().unwrap_or_default();
    OutRecord::event(
        TopicNames::dead_letter(&input.topic),
        &key,
        &Envelope::new(COMPONENT, letter),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_hold_bounds_the_commit_of_its_partition() {
        let shared = Shared::default();
        shared.hold(0, 5);
        shared.hold(0, 5);
        shared.hold(0, 9);
        assert_eq!(shared.committable(0, 12), 4);
        assert_eq!(shared.committable(1, 12), 12, "other partitions are free");
        shared.release(0, 5);
        assert_eq!(shared.committable(0, 12), 4, "one hold of 5 is left");
        shared.release(0, 5);
        assert_eq!(shared.committable(0, 12), 8);
        shared.release(0, 9);
        assert_eq!(shared.committable(0, 12), 12);
    }
}
