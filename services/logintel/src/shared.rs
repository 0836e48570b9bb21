//! The state shared by the raw-log processor, the tick, the API, the external-alert and
//! ticket followers and the refiner: the engine, wall-clock activity per service, and the
//! snapshot gate. One mutex; every holder keeps it for one record or one request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::engine::{Engine, RawPosition};
use crate::snapshot_gate::SnapshotGate;

/// Wall-clock activity of a service (not persisted).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Activity {
    pub(crate) last_line: Instant,
    pub(crate) clock_at_last_line_ms: i64,
    pub(crate) last_snapshot: Instant,
}

/// The engine plus the wall-clock bookkeeping shared by the processor, the tick and the API.
#[derive(Debug)]
pub struct Shared {
    /// The detection engine.
    pub engine: Engine,
    pub(crate) activity: HashMap<String, Activity>,
    pub(crate) restored: HashMap<String, RawPosition>,
    /// Per raw-log partition, the first offset read since this member started or took it over.
    pub(crate) resumed: HashMap<i32, i64>,
    pub(crate) snapshots: SnapshotGate,
    pub(crate) ticks: u64,
}

/// The shared state handle.
pub type SharedState = Arc<Mutex<Shared>>;

impl Shared {
    /// Wraps `engine`; `restored` are the positions of the restored snapshots (for gap detection).
    pub fn new(engine: Engine, restored: HashMap<String, RawPosition>) -> SharedState {
        let snapshots = SnapshotGate::new(restored.values());
        Arc::new(Mutex::new(Self {
            engine,
            activity: HashMap::new(),
            restored,
            resumed: HashMap::new(),
            snapshots,
            ticks: 0,
        }))
    }
}

/// Locks the shared state (a poisoned lock is recovered: the state is plain data).
pub fn lock(shared: &SharedState) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}
