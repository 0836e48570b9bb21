//! When a snapshot may be written, and how far the raw-log offsets may be committed.
//!
//! A snapshot records the raw-log position its state reflects; on restore, records at or
//! before it are skipped. Written before the outputs of those records were durable, a snapshot
//! would make a restart skip records whose alerts were never delivered. So a snapshot is taken
//! when due and held here; the consumer loop reports acknowledged inputs (in order, per
//! partition), and a held snapshot is released, to be written, once its position is
//! acknowledged. At most one snapshot per service is held: a newer one replaces it.
//!
//! The other way round, an offset may be committed only once the state that reflects it is
//! written: otherwise a member taking the partition over (after a crash) restores an older
//! snapshot and starts after the commit, and the lines between are missing from its state.
//! So the gate remembers, per service, the first line its written state lacks (in the state
//! now, in a held snapshot, in one on its way to the broker), and
//! [`SnapshotGate::committable`] stops the commit just before the earliest of them.

use std::collections::HashMap;

use crate::engine::RawPosition;
use crate::state::ServiceSnapshot;

/// A snapshot on its way to the broker: with the outputs of one raw-log record, or sent by a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// Among the outputs of the record at this position.
    Record(RawPosition),
    /// Sent by the tick of this number.
    Tick(u64),
}

#[derive(Debug)]
struct Held {
    snapshot: ServiceSnapshot,
    /// The first line the written state lacks that this snapshot covers.
    first: Option<RawPosition>,
}

#[derive(Debug)]
struct InFlight {
    service: String,
    first: Option<RawPosition>,
    carrier: Carrier,
}

/// Snapshots waiting for their position's acknowledgement, and what the written state lacks.
#[derive(Debug, Default)]
pub struct SnapshotGate {
    /// Per raw-log partition, the highest offset whose outputs are all acknowledged.
    acknowledged: HashMap<i32, i64>,
    /// Held snapshots, oldest first.
    held: Vec<Held>,
    /// Released snapshots not yet known written.
    in_flight: Vec<InFlight>,
    /// Per service, the first line processed since its last snapshot was taken.
    unpersisted: HashMap<String, RawPosition>,
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

    /// `service` processed the line at `position`.
    pub fn line(&mut self, service: &str, position: RawPosition) {
        if !self.unpersisted.contains_key(service) {
            self.unpersisted.insert(service.to_owned(), position);
        }
    }

    /// `service`'s state was replaced by a restored snapshot (its lines are in that snapshot).
    pub fn restored(&mut self, service: &str, position: Option<RawPosition>) {
        self.unpersisted.remove(service);
        self.held.retain(|held| held.snapshot.service != service);
        self.in_flight.retain(|flight| flight.service != service);
        if let Some(position) = position {
            self.acknowledge(position.partition, position.offset);
        }
    }

    /// Every output of the raw-log record at `partition`/`offset` is acknowledged, and with
    /// them the snapshots that record carried.
    pub fn acknowledge(&mut self, partition: i32, offset: i64) {
        let highest = self.acknowledged.entry(partition).or_insert(offset);
        *highest = (*highest).max(offset);
        self.in_flight.retain(|flight| match flight.carrier {
            Carrier::Record(at) => !(at.partition == partition && at.offset <= offset),
            Carrier::Tick(_) => true,
        });
    }

    /// The snapshots a tick sent are written (`written`), or not (their lines stay unpersisted).
    pub fn tick_sent(&mut self, tick: u64, written: bool) {
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|flight| flight.carrier == Carrier::Tick(tick));
        self.in_flight = rest;
        if !written {
            // Not written: its lines are unpersisted again, until the service's next snapshot.
            for flight in done {
                let now = self.unpersisted.remove(&flight.service);
                if let Some(first) = earliest(now, flight.first) {
                    self.unpersisted.insert(flight.service, first);
                }
            }
        }
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
        let mut first = self.unpersisted.remove(&snapshot.service);
        if let Some(index) = self.held.iter().position(|h| h.snapshot.service == snapshot.service) {
            let older = self.held.remove(index);
            first = earliest(first, older.first);
        }
        self.held.push(Held { snapshot, first });
    }

    /// The held snapshots that may now be written, oldest first, as carried by `carrier`.
    pub fn release(&mut self, carrier: Carrier) -> Vec<ServiceSnapshot> {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|held| self.is_acknowledged(held.snapshot.position));
        self.held = waiting;
        ready
            .into_iter()
            .map(|held| {
                self.in_flight.push(InFlight {
                    service: held.snapshot.service.clone(),
                    first: held.first,
                    carrier,
                });
                held.snapshot
            })
            .collect()
    }

    /// How many snapshots are held.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The highest offset of raw-log `partition` that may be committed once the record at
    /// `offset` is done: just before the first line of the partition that no written state holds.
    pub fn committable(&self, partition: i32, offset: i64) -> i64 {
        let firsts = self
            .unpersisted
            .values()
            .copied()
            .chain(self.held.iter().filter_map(|h| h.first))
            .chain(self.in_flight.iter().filter_map(|f| f.first));
        firsts
            .filter(|first| first.partition == partition)
            .map(|first| first.offset.saturating_sub(1))
            .fold(offset, i64::min)
    }
}

fn earliest(a: Option<RawPosition>, b: Option<RawPosition>) -> Option<RawPosition> {
    match (a, b) {
        (Some(a), Some(b)) if a.partition == b.partition => Some(if a.offset <= b.offset { a } else { b }),
        (a, b) => a.or(b),
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
        assert!(gate.release(Carrier::Tick(0)).is_empty(), "nothing acknowledged yet");
        gate.acknowledge(0, 9);
        assert!(
            gate.release(Carrier::Tick(0)).is_empty(),
            "record 10 is still in flight"
        );
        gate.acknowledge(0, 10);
        let ready = gate.release(Carrier::Tick(0));
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
        assert!(gate.release(Carrier::Tick(0)).is_empty());
        gate.acknowledge(0, 20);
        assert_eq!(gate.release(Carrier::Tick(0))[0].position.map(|p| p.offset), Some(20));
        let restored = RawPosition {
            partition: 0,
            offset: 30,
        };
        assert!(SnapshotGate::new([&restored]).is_acknowledged(Some(restored)));
    }

    fn at(offset: i64) -> RawPosition {
        RawPosition { partition: 0, offset }
    }

    #[test]
    fn offsets_are_committed_only_as_far_as_written_state_reaches() {
        let mut gate = SnapshotGate::default();
        assert_eq!(gate.committable(0, 7), 7, "no state: anything done may be committed");
        gate.line("hdfs", at(5));
        gate.line("hdfs", at(6));
        gate.line("bgl", at(8));
        assert_eq!(
            gate.committable(0, 9),
            4,
            "hdfs's lines from 5 on are in no written state"
        );
        assert_eq!(gate.committable(1, 9), 9, "other partitions are not held back");
        gate.hold(snapshot_at(10));
        assert_eq!(gate.committable(0, 10), 4, "held, not written");
        gate.acknowledge(0, 10);
        let carried = gate.release(Carrier::Record(at(11)));
        assert_eq!(carried.len(), 1);
        assert_eq!(gate.committable(0, 11), 4, "on its way, not written");
        gate.acknowledge(0, 11);
        assert_eq!(gate.committable(0, 11), 7, "hdfs written; bgl's line 8 is not");
        gate.restored("bgl", Some(at(8)));
        assert_eq!(gate.committable(0, 12), 12);
    }

    #[test]
    fn a_tick_that_failed_to_write_keeps_holding_the_commit_back() {
        let mut gate = SnapshotGate::default();
        gate.line("hdfs", at(3));
        gate.hold(snapshot_at(3));
        gate.acknowledge(0, 3);
        assert_eq!(gate.release(Carrier::Tick(1)).len(), 1);
        gate.tick_sent(1, false);
        assert_eq!(gate.committable(0, 9), 2, "not written: line 3 is in no written state");
        gate.line("hdfs", at(9));
        gate.hold(snapshot_at(9));
        gate.acknowledge(0, 9);
        gate.release(Carrier::Tick(2));
        gate.tick_sent(2, true);
        assert_eq!(gate.committable(0, 9), 9, "the next snapshot, written, holds them");
    }
}
