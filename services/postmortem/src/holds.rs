//! Commit holds of the drafter: the offsets its consumer must not commit past, so that a
//! replica taking a partition over (after a crash or a rebalance) reads again what this one
//! held only in memory.
//!
//! Two kinds of input live only in memory: cached alerts (an incident may cite them later)
//! and incidents whose draft is not yet acknowledged by the broker (waiting for their alerts,
//! or drafted and in flight). Each holds its partition's commit at its own offset until it is
//! evicted (an alert) or released (an incident whose draft was acknowledged). The price: a
//! replica taking over re-reads its partitions from the oldest hold, at most the alert cache.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

/// Which input a hold is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum HeldInput {
    /// The alerts topic.
    Alert,
    /// The incidents topic.
    Incident,
}

/// Where a record was read: partition and offset.
pub(crate) type Position = (i32, i64);

/// Held offsets per input and partition, and which record holds each.
#[derive(Debug, Default)]
pub(crate) struct CommitHolds {
    /// Number of holds per (input, partition) and offset.
    held: HashMap<(HeldInput, i32), BTreeMap<i64, usize>>,
    /// The positions each alert or incident holds.
    by_id: HashMap<(HeldInput, Uuid), Vec<Position>>,
}

impl CommitHolds {
    /// `id` (read at `at`) holds its partition's commit until released.
    pub(crate) fn hold(&mut self, input: HeldInput, id: Uuid, at: Position) {
        let (partition, offset) = at;
        *self
            .held
            .entry((input, partition))
            .or_default()
            .entry(offset)
            .or_default() += 1;
        self.by_id.entry((input, id)).or_default().push(at);
    }

    /// Releases every hold of `id`.
    pub(crate) fn release(&mut self, input: HeldInput, id: Uuid) {
        for (partition, offset) in self.by_id.remove(&(input, id)).unwrap_or_default() {
            if let Some(offsets) = self.held.get_mut(&(input, partition)) {
                if let Some(count) = offsets.get_mut(&offset) {
                    *count -= 1;
                    if *count == 0 {
                        offsets.remove(&offset);
                    }
                }
                if offsets.is_empty() {
                    self.held.remove(&(input, partition));
                }
            }
        }
    }

    /// The highest offset of `partition` that may be committed once `offset` is done: just
    /// before its oldest hold, if any.
    pub(crate) fn committable(&self, input: HeldInput, partition: i32, offset: i64) -> i64 {
        self.held
            .get(&(input, partition))
            .and_then(|offsets| offsets.keys().next())
            .map_or(offset, |oldest| offset.min(oldest - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_stop_before_the_oldest_hold_until_it_is_released() {
        let mut holds = CommitHolds::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(holds.committable(HeldInput::Incident, 0, 50), 50);
        holds.hold(HeldInput::Incident, a, (0, 10));
        holds.hold(HeldInput::Incident, b, (0, 20));
        holds.hold(HeldInput::Incident, a, (0, 30));
        assert_eq!(holds.committable(HeldInput::Incident, 0, 50), 9);
        assert_eq!(
            holds.committable(HeldInput::Incident, 1, 50),
            50,
            "other partitions are free"
        );
        assert_eq!(holds.committable(HeldInput::Alert, 0, 50), 50, "other inputs are free");
        holds.release(HeldInput::Incident, a);
        assert_eq!(holds.committable(HeldInput::Incident, 0, 50), 19);
        holds.release(HeldInput::Incident, b);
        assert_eq!(holds.committable(HeldInput::Incident, 0, 50), 50);
        holds.hold(HeldInput::Alert, a, (2, 0));
        assert_eq!(
            holds.committable(HeldInput::Alert, 2, 5),
            -1,
            "nothing may be committed"
        );
    }
}
