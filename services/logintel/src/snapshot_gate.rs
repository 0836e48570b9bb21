//! When a snapshot may be written: only once every output of the raw-log record it reflects
//! (and of every record before it in its partition) is acknowledged by the broker.
//!
//! A snapshot records the raw-log position its state reflects; on restore, records at or
//! before it are skipped. Written before the outputs of those records were durable, a snapshot
//! would make a restart skip records whose alerts were never delivered. So a snapshot is taken
//! when due and held here; the consumer loop reports acknowledged inputs (in order, per
//! partition), and a held snapshot is released, to be written, once its position is
//! acknowledged. At most one snapshot per service is held: a newer one replaces it.

use std::collections::HashMap;

use crate::engine::RawPosition;
use crate::state::ServiceSnapshot;

/// Snapshots waiting for their position's acknowledgement.
#[derive(Debug, Default)]
pub struct SnapshotGate {
    /// Per raw-log partition, the highest offset whose outputs are all acknowledged.
    acknowledged: HashMap<i32, i64>,
    /// Held snapshots, oldest first.
    held: Vec<ServiceSnapshot>,
}

impl SnapshotGate {
    /// A gate where the restored `positions` count as acknowledged (their outputs were
    /// acknowledged before those snapshots were written).
    pub fn new<'a>(positions: impl IntoIterator<Item = &'a RawPosition>) -> Self {
        let mut gate = Self::default();
        for position in positions {
            gate.acknowledge(position.partition, position.offset);
        }
        gate
    }

    /// Every output of the raw-log record at `partition`/`offset` is acknowledged.
    pub fn acknowledge(&mut self, partition: i32, offset: i64) {
        let highest = self.acknowledged.entry(partition).or_insert(offset);
        *highest = (*highest).max(offset);
    }

    /// Whether the outputs of the records up to `position` are acknowledged (a snapshot of a
    /// service that never read a line has nothing to wait for).
    pub fn is_acknowledged(&self, position: Option<RawPosition>) -> bool {
        position.is_none_or(|p| {
            self.acknowledged
                .get(&p.partition)
                .is_some_and(|done| *done >= p.offset)
        })
    }

    /// Holds `snapshot` until its position is acknowledged, replacing an older one of its service.
    pub fn hold(&mut self, snapshot: ServiceSnapshot) {
        self.held.retain(|held| held.service != snapshot.service);
        self.held.push(snapshot);
    }

    /// The held snapshots that may now be written, oldest first.
    pub fn release(&mut self) -> Vec<ServiceSnapshot> {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|snapshot| self.is_acknowledged(snapshot.position));
        self.held = waiting;
        ready
    }

    /// How many snapshots are held.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine::tests::{engine, feed, lines};
    use crate::state::take_snapshot;

    fn snapshot_at(offset: i64) -> ServiceSnapshot {
        let mut engine = engine();
        let all = lines();
        let upto = usize::try_from(offset).unwrap() + 1;
        feed(&mut engine, "hdfs", &all[..upto], 0);
        take_snapshot(&mut engine, "hdfs").unwrap()
    }

    #[test]
    fn a_snapshot_never_records_a_position_whose_outputs_are_not_acknowledged() {
        let mut gate = SnapshotGate::default();
        gate.hold(snapshot_at(10));
        assert!(gate.release().is_empty(), "nothing acknowledged yet");
        gate.acknowledge(0, 9);
        assert!(gate.release().is_empty(), "record 10 is still in flight");
        gate.acknowledge(0, 10);
        let ready = gate.release();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].position.map(|p| p.offset), Some(10));
        assert_eq!(gate.held(), 0);
    }

    #[test]
    fn a_newer_snapshot_replaces_the_held_one_and_other_partitions_do_not_count() {
        let mut gate = SnapshotGate::default();
        gate.hold(snapshot_at(5));
        gate.hold(snapshot_at(20));
        assert_eq!(gate.held(), 1);
        gate.acknowledge(1, 100);
        assert!(gate.release().is_empty());
        gate.acknowledge(0, 20);
        assert_eq!(gate.release()[0].position.map(|p| p.offset), Some(20));
        let restored = RawPosition {
            partition: 0,
            offset: 30,
        };
        assert!(SnapshotGate::new([&restored]).is_acknowledged(Some(restored)));
    }
}
