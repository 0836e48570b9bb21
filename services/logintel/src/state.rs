//! Snapshots of a service's state on the compacted `opsline.logintel.state.v1`
//! topic, keyed by service, and their restoration at start-up.
//!
//! A snapshot holds the miner (so template ids survive a restart), the
//! detector (baselines, suppressions), the incidents, the raw-log position it
//! reflects and the latest alerts. On restore, records at or before that
//! position are skipped (no re-alerting, same template ids), and the latest
//! alerts and open incidents are emitted again: consumers drop the duplicates
//! by their deterministic ids, and nothing that was in flight at a crash is lost.
//!
//! Snapshots are taken when a record makes one due (every `snapshot_every_lines`
//! lines or `snapshot_interval_ms`), by the tick when a service is idle and
//! changed, and at graceful shutdown; each is written only once the outputs of
//! the records it reflects are acknowledged ([`crate::snapshot_gate`]). After an abrupt kill,
//! records processed after the last snapshot whose offsets were already
//! committed are not replayed; that gap is detected, counted
//! (`opsline_logintel_state_gaps_total`) and logged.

use opsline_events::logs::Alert;
use serde::{Deserialize, Serialize};

use crate::detector::ServiceDetector;
use crate::engine::{Engine, Outputs, RawPosition, RefineState, ServiceState};
use crate::error::LogintelError;
use crate::incidents::IncidentBook;
use crate::volume::LineVolume;

/// Current snapshot format version.
pub const STATE_VERSION: u32 = 1;

/// The persisted state of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// The service.
    pub service: String,
    /// The raw-log record the state reflects.
    pub position: Option<RawPosition>,
    /// The template miner.
    pub miner: opsline_logmine::Snapshot,
    /// The alert detector.
    pub detector: ServiceDetector,
    /// The incidents.
    pub incidents: IncidentBook,
    /// The latest alerts.
    pub recent_alerts: Vec<Alert>,
    /// Refined template texts (absent in snapshots written before refinement existed).
    #[serde(default, skip_serializing_if = "RefineState::is_empty")]
    pub refine: RefineState,
    /// External alerts still firing: alert id -> start (ms) (absent in older snapshots).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub external_firing: std::collections::BTreeMap<uuid::Uuid, i64>,
    /// Lines consumed per hour and day (absent in older snapshots).
    #[serde(default, skip_serializing_if = "LineVolume::is_empty")]
    pub volume: LineVolume,
}

impl ServiceSnapshot {
    /// Encodes the snapshot as JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, LogintelError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Decodes a snapshot.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LogintelError> {
        let snapshot: Self = serde_json::from_slice(bytes).map_err(|e| LogintelError::Snapshot(e.to_string()))?;
        if snapshot.version != STATE_VERSION {
            return Err(LogintelError::Snapshot(format!(
                "unsupported state version {}",
                snapshot.version
            )));
        }
        Ok(snapshot)
    }
}

/// Takes a snapshot of `service` and marks it clean; `None` for an unknown service.
pub fn take_snapshot(engine: &mut Engine, service: &str) -> Option<ServiceSnapshot> {
    let state = engine.service_mut(service)?;
    state.dirty = false;
    state.lines_since_snapshot = 0;
    Some(ServiceSnapshot {
        version: STATE_VERSION,
        service: service.to_owned(),
        position: state.position,
        miner: state.miner.snapshot(),
        detector: {
            let mut detector = state.detector.clone();
            detector.compact();
            detector
        },
        incidents: state.incidents.clone(),
        recent_alerts: state.recent_alerts.clone(),
        refine: state.refine.clone(),
        external_firing: state.external_firing.clone(),
        volume: state.volume.clone(),
    })
}

/// Installs `snapshot` in `engine`; returns what to emit again (latest alerts, open incidents).
pub fn restore(engine: &mut Engine, snapshot: ServiceSnapshot) -> Result<Outputs, LogintelError> {
    let miner = opsline_logmine::Miner::restore(snapshot.miner)?;
    let mut detector = snapshot.detector;
    let refine = snapshot.refine;
    detector.refill_texts(|id| {
        refine.refined(id).map(str::to_owned).or_else(|| {
            miner
                .template(id)
                .map(|t| crate::engine::masks::mask(&t.text).into_owned())
        })
    });
    let again = Outputs {
        templates: Vec::new(),
        alerts: snapshot.recent_alerts.clone(),
        incidents: snapshot.incidents.open.clone(),
        clamped: Vec::new(),
    };
    let masks = crate::engine::masks::TemplateMasks::of(&miner);
    let state = ServiceState {
        miner,
        detector,
        incidents: snapshot.incidents,
        position: snapshot.position,
        recent_alerts: snapshot.recent_alerts,
        lines_since_snapshot: 0,
        dirty: false,
        refine,
        external_firing: snapshot.external_firing,
        masks,
        volume: snapshot.volume,
        received: None,
    };
    engine.install(snapshot.service, state);
    Ok(again)
}
