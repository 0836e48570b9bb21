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

/// How many (incident, target) states are kept unless configured (`max_tracked`).
pub const MAX_TRACKED: usize = 100_000;

/// State shared by the processor, the follower and the delivery tasks.
///
/// Bounded: past `max_tracked` (incident, target) states, a tenth are forgotten, those of
/// resolved incidents first, oldest first. A forgotten incident that changes again is
/// notified as new (a fresh Slack thread, a new PagerDuty trigger).
#[derive(Debug)]
pub struct Shared {
    told: Mutex<HashMap<(Uuid, String), NotificationState>>,
    holds: Mutex<HashMap<i32, BTreeMap<i64, usize>>>,
    max_tracked: usize,
    /// States forgotten past the bound (registered as `opsline_notify_states_forgotten_total`).
    pub forgotten: prometheus_client::metrics::counter::Counter,
}

impl Default for Shared {
    fn default() -> Self {
        Self::new(MAX_TRACKED)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Keeps at most `max_tracked` (incident, target) states (at least 10).
    pub fn new(max_tracked: usize) -> Self {
        Self {
            told: Mutex::default(),
            holds: Mutex::default(),
            max_tracked: max_tracked.max(10),
            forgotten: prometheus_client::metrics::counter::Counter::default(),
        }
    }

    /// Keeps `state` unless a later one is known for its incident and target.
    pub fn remember(&self, state: NotificationState) {
        let mut told = lock(&self.told);
        let key = (state.incident_id, state.target.clone());
        if told.get(&key).is_none_or(|known| known.updated_at <= state.updated_at) {
            told.insert(key, state);
        }
        if told.len() > self.max_tracked {
            let keep = self.max_tracked - self.max_tracked / 10;
            let mut order: Vec<(bool, jiff::Timestamp, (Uuid, String))> = told
                .iter()
                .map(|(key, state)| (!state.resolved, state.updated_at, key.clone()))
                .collect();
            order.sort();
            let excess = told.len() - keep;
            for (_, _, key) in order.into_iter().take(excess) {
                told.remove(&key);
            }
            self.forgotten.inc_by(excess as u64);
            tracing::info!(
                forgotten = excess,
                kept = keep,
                "notification states forgotten past max_tracked"
            );
        }
    }

    /// (incident, target) states held now, and forgotten so far.
    pub fn tracked(&self) -> (usize, u64) {
        (lock(&self.told).len(), self.forgotten.get())
    }

    /// Whether what was queued for `target` about `incident` at input `offset` is settled: its
    /// state was written for that revision or a later one (sent, dead-lettered or suppressed).
    pub fn delivered(&self, incident: Uuid, target: &str, offset: Option<i64>) -> bool {
        let told = lock(&self.told);
        let known = told.get(&(incident, target.to_owned())).and_then(|s| s.input_offset);
        matches!((known, offset), (Some(known), Some(offset)) if known >= offset)
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
    use opsline_events::Event;

    use super::*;

    fn state(n: u128, resolved: bool, at: i64) -> NotificationState {
        NotificationState {
            incident_id: Uuid::from_u128(n),
            target: "slack".into(),
            resolved,
            updated_at: jiff::Timestamp::from_second(at).unwrap(),
            ..NotificationState::sample()
        }
    }

    #[test]
    fn past_the_bound_resolved_incidents_are_forgotten_first_then_the_oldest() {
        let shared = Shared::new(10);
        for n in 0..10 {
            shared.remember(state(n, n % 2 == 0, 1_000 + n as i64));
        }
        assert_eq!(shared.tracked(), (10, 0));
        shared.remember(state(10, false, 2_000));
        // 11 > 10: down to 9, the two oldest resolved ones (0 and 2) forgotten.
        assert_eq!(shared.tracked(), (9, 2));
        assert!(shared.told(Uuid::from_u128(0), "slack").is_none());
        assert!(shared.told(Uuid::from_u128(2), "slack").is_none());
        assert!(shared.told(Uuid::from_u128(1), "slack").is_some(), "open ones kept");
        for n in 11..100 {
            shared.remember(state(n, false, 3_000 + n as i64));
        }
        assert!(shared.tracked().0 <= 10, "bounded: {:?}", shared.tracked());
    }

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
