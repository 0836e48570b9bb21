//! The Kafka side: the raw-log [`Processor`], the periodic tick, and encoding
//! of the engine's outputs into records.
//!
//! # Delivery guarantee
//!
//! At least once (see the crate docs): the outputs of a raw-log record,
//! including any snapshot it triggers, are acknowledged before its offset is
//! committed; output envelopes carry deterministic ids (an alert's envelope id
//! is its alert id), so replays are dropped by consumers that deduplicate on ids.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use opsline_events::logs::{Alert, Incident, LogOffset, RawLog, TemplateEvent};
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};

use crate::engine::{Engine, LineInput, Outputs, RawPosition};
use crate::error::LogintelError;
use crate::ids::derived_v7;
use crate::metrics::LogintelMetrics;
use crate::refiner::queue::RefineQueue;
use crate::snapshot_gate::SnapshotGate;
use crate::state::{ServiceSnapshot, take_snapshot};

/// Snapshots larger than this are not written (the broker's default record limit is 1 MB).
pub const MAX_SNAPSHOT_BYTES: usize = 900_000;
/// The component name in envelopes and dead letters.
pub const COMPONENT: &str = "logintel";

/// Full names of the topics the service reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// Raw logs (input).
    pub raw: String,
    /// Templates (compacted).
    pub templates: String,
    /// Alerts.
    pub alerts: String,
    /// Incidents (compacted).
    pub incidents: String,
    /// Service state snapshots (compacted).
    pub state: String,
}

impl Topics {
    /// The names under `names`' prefix.
    pub fn new(names: &TopicNames) -> Self {
        Self {
            raw: names.name(&topics::RAW_LOGS),
            templates: names.name(&topics::TEMPLATES),
            alerts: names.name(&topics::ALERTS),
            incidents: names.name(&topics::INCIDENTS),
            state: names.name(&topics::LOGINTEL_STATE),
        }
    }
}

/// Wall-clock activity of a service (not persisted).
#[derive(Debug, Clone, Copy)]
struct Activity {
    last_line: Instant,
    clock_at_last_line_ms: i64,
    last_snapshot: Instant,
}

/// The engine plus the wall-clock bookkeeping shared by the processor, the tick and the API.
#[derive(Debug)]
pub struct Shared {
    /// The detection engine.
    pub engine: Engine,
    activity: HashMap<String, Activity>,
    restored: HashMap<String, RawPosition>,
    snapshots: SnapshotGate,
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
            snapshots,
        }))
    }
}

/// Locks the shared state (a poisoned lock is recovered: the state is plain data).
pub fn lock(shared: &SharedState) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Snapshot cadence and clock settings.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    /// Snapshot after this many lines of a service.
    pub every_lines: u64,
    /// Snapshot a changed service at least this often.
    pub interval: Duration,
    /// Whether the tick advances idle services' event clocks by wall time.
    pub advance_idle_clock: bool,
}

/// The raw-log processor.
pub struct LogProcessor {
    shared: SharedState,
    topics: Topics,
    metrics: LogintelMetrics,
    cadence: Cadence,
    refine: Option<RefineQueue>,
}

impl LogProcessor {
    /// `refine`: where new templates ready for refinement go (`None`: refinement is off).
    pub(crate) fn new(
        shared: SharedState,
        topics: Topics,
        metrics: LogintelMetrics,
        cadence: Cadence,
        refine: Option<RefineQueue>,
    ) -> Self {
        Self {
            shared,
            topics,
            metrics,
            cadence,
            refine,
        }
    }

    fn handle(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, LogintelError> {
        let envelope = record
            .envelope::<RawLog>()
            .map_err(|e| LogintelError::InvalidInput(e.to_string()))?;
        let raw = envelope.data;
        let service = if raw.service.is_empty() {
            "unknown"
        } else {
            raw.service.as_str()
        };
        let position = RawPosition {
            partition: record.partition,
            offset: record.offset,
        };
        let mut shared = lock(&self.shared);
        if shared.engine.already_processed(service, position) {
            self.metrics.replays_skipped.inc();
            return Ok(Vec::new());
        }
        if let Some(restored) = shared.restored.remove(service)
            && restored.partition == position.partition
            && position.offset > restored.offset.saturating_add(1)
        {
            self.metrics.state_gaps.inc();
            tracing::warn!(
                service,
                snapshot_offset = restored.offset,
                resumed_at = position.offset,
                "records committed after the last snapshot are missing from the restored state"
            );
        }
        let fallback = raw
            .timestamp
            .or_else(|| record.timestamp_ms.and_then(|ms| Timestamp::from_millisecond(ms).ok()))
            .or(Some(envelope.occurred_at));
        let evidence = LogOffset {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
        };
        let input = LineInput {
            service,
            line: raw.line.as_bytes(),
            fallback_time: fallback,
            ingested_at: Some(envelope.occurred_at),
            evidence,
            host: raw.host(),
        };
        let outputs = shared.engine.ingest(&input)?;
        let now = Instant::now();
        let (clock, lines_since_snapshot) = shared
            .engine
            .service(service)
            .map(|s| (s.detector.clock_ms, s.lines_since_snapshot))
            .unwrap_or_default();
        let activity = shared.activity.entry(service.to_owned()).or_insert(Activity {
            last_line: now,
            clock_at_last_line_ms: clock,
            last_snapshot: now,
        });
        activity.last_line = now;
        activity.clock_at_last_line_ms = clock;
        let snapshot_due = now.duration_since(activity.last_snapshot) >= self.cadence.interval
            || lines_since_snapshot >= self.cadence.every_lines;
        if snapshot_due {
            activity.last_snapshot = now;
            if let Some(snapshot) = take_snapshot(&mut shared.engine, service) {
                shared.snapshots.hold(snapshot);
            }
        }
        // Snapshots whose records' outputs are acknowledged by now go out with this record's.
        let snapshots = shared.snapshots.release();
        let (ready, skipped) = shared.engine.take_refine_requests();
        drop(shared);
        if let Some(queue) = &self.refine {
            // Off the hot path: the line is done; the worker refines the template later.
            queue.skipped(skipped);
            for request in ready {
                queue.offer(request);
            }
        }
        self.metrics.lines.inc();
        self.metrics.count_outputs(&outputs);
        let mut records = encode_outputs(&outputs, &self.topics)?;
        records.extend(
            snapshots
                .iter()
                .filter_map(|s| encode_snapshot(s, &self.topics, &self.metrics)),
        );
        Ok(records)
    }
}

impl Processor for LogProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        self.handle(record).map_err(ProcessError::from)
    }

    /// The outputs of the raw-log record at `partition`/`offset` are durable: snapshots up to
    /// it may be written (see [`SnapshotGate`]).
    fn outputs_acknowledged(&mut self, topic: &str, partition: i32, offset: i64) {
        if topic == self.topics.raw {
            lock(&self.shared).snapshots.acknowledge(partition, offset);
        }
    }
}

/// One tick: advances idle services' clocks (if enabled) and snapshots changed idle services.
pub(crate) fn tick(
    shared: &SharedState,
    cadence: Cadence,
    metrics: &LogintelMetrics,
    topics: &Topics,
) -> Vec<OutRecord> {
    let mut guard = lock(shared);
    let shared = &mut *guard;
    let now = Instant::now();
    let mut outputs = Outputs::default();
    let mut snapshots = Vec::new();
    for service in shared.engine.service_names() {
        let Some(activity) = shared.activity.get_mut(&service) else {
            continue;
        };
        let idle = now.duration_since(activity.last_line);
        if cadence.advance_idle_clock && idle >= cadence.interval {
            let elapsed = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
            let estimate = activity.clock_at_last_line_ms.saturating_add(elapsed);
            if let Ok(at) = Timestamp::from_millisecond(estimate) {
                outputs.extend(shared.engine.advance(&service, at));
            }
        }
        let dirty = shared.engine.service(&service).is_some_and(|s| s.dirty);
        if dirty && now.duration_since(activity.last_snapshot) >= cadence.interval {
            activity.last_snapshot = now;
            if let Some(snapshot) = take_snapshot(&mut shared.engine, &service) {
                shared.snapshots.hold(snapshot);
            }
        }
    }
    snapshots.extend(shared.snapshots.release());
    drop(guard);
    metrics.count_outputs(&outputs);
    let mut records = encode_outputs(&outputs, topics).unwrap_or_else(|error| {
        tracing::warn!(%error, "cannot encode tick outputs");
        Vec::new()
    });
    records.extend(snapshots.iter().filter_map(|s| encode_snapshot(s, topics, metrics)));
    records
}

/// Snapshots of every changed service (graceful shutdown), of those whose records' outputs
/// are all acknowledged: after a loop stopped on an undelivered output, the older snapshot
/// stays, and the records after it are processed again at the next start.
pub(crate) fn final_snapshots(shared: &SharedState, topics: &Topics, metrics: &LogintelMetrics) -> Vec<OutRecord> {
    let mut guard = lock(shared);
    let shared = &mut *guard;
    for service in shared.engine.service_names() {
        if shared.engine.service(&service).is_some_and(|s| s.dirty)
            && let Some(snapshot) = take_snapshot(&mut shared.engine, &service)
        {
            shared.snapshots.hold(snapshot);
        }
    }
    let ready = shared.snapshots.release();
    if shared.snapshots.held() > 0 {
        metrics.snapshot("unacknowledged");
        tracing::warn!(
            services = shared.snapshots.held(),
            "snapshots not written at stop: their records' outputs were not acknowledged; those records are processed again at the next start"
        );
    }
    ready
        .iter()
        .filter_map(|s| encode_snapshot(s, topics, metrics))
        .collect()
}

/// Encodes templates, alerts and incidents as records with deterministic envelope ids.
pub fn encode_outputs(outputs: &Outputs, topics: &Topics) -> Result<Vec<OutRecord>, LogintelError> {
    let mut records = Vec::with_capacity(outputs.templates.len() + outputs.alerts.len() + outputs.incidents.len());
    for template in &outputs.templates {
        records.push(template_record(template, topics)?);
    }
    for alert in &outputs.alerts {
        records.push(alert_record(alert, topics)?);
    }
    for incident in &outputs.incidents {
        records.push(incident_record(incident, topics)?);
    }
    Ok(records)
}

fn envelope<T: Event>(id: uuid::Uuid, occurred_at: Timestamp, data: T) -> Envelope<T> {
    let mut envelope = Envelope::new(COMPONENT, data);
    envelope.id = id;
    envelope.occurred_at = occurred_at;
    envelope.trace = opsline_kafka::record::current_trace_context();
    envelope
}

fn template_record(template: &TemplateEvent, topics: &Topics) -> Result<OutRecord, LogintelError> {
    let id = derived_v7(
        Timestamp::now().as_millisecond(),
        &[
            template.service.as_bytes(),
            &template.template_id.to_le_bytes(),
            template.template.as_bytes(),
        ],
    );
    let key = format!("{}/{}", template.service, template.template_id);
    Ok(OutRecord::event(
        topics.templates.clone(),
        &key,
        &envelope(id, Timestamp::now(), template.clone()),
    )?)
}

fn alert_record(alert: &Alert, topics: &Topics) -> Result<OutRecord, LogintelError> {
    let envelope = envelope(alert.alert_id, alert.window_end, alert.clone());
    Ok(OutRecord::event(topics.alerts.clone(), &alert.service, &envelope)?)
}

fn incident_record(incident: &Incident, topics: &Topics) -> Result<OutRecord, LogintelError> {
    // The envelope id names this state of the incident: alerts, tickets, status and the
    // postmortem decision (a declaration changes only the decision and must not be dropped).
    let status = format!("{:?}", incident.status);
    let (count, tickets, reopened) = incident
        .attention
        .as_ref()
        .map_or((incident.alert_ids.len() as u64, 0, 0), |a| {
            (a.alert_count, a.ticket_count, a.reopened)
        });
    let decision = incident
        .postmortem
        .as_ref()
        .map(|p| format!("{:?}/{}", p.decision, p.decided_by))
        .unwrap_or_default();
    let at = incident.resolved_at.unwrap_or(incident.updated_at);
    let id = derived_v7(
        at.as_millisecond(),
        &[
            incident.incident_id.as_bytes(),
            &count.to_le_bytes(),
            status.as_bytes(),
            &tickets.to_le_bytes(),
            &reopened.to_le_bytes(),
            decision.as_bytes(),
        ],
    );
    let key = incident.incident_id.to_string();
    Ok(OutRecord::event(
        topics.incidents.clone(),
        &key,
        &envelope(id, at, incident.clone()),
    )?)
}

/// Encodes a snapshot record (keyed by service); `None` (and a warning) when it is too large.
pub(crate) fn encode_snapshot(
    snapshot: &ServiceSnapshot,
    topics: &Topics,
    metrics: &LogintelMetrics,
) -> Option<OutRecord> {
    let bytes = match snapshot.to_json() {
        Ok(bytes) => bytes,
        Err(error) => {
            metrics.snapshot("encode_error");
            tracing::warn!(service = %snapshot.service, %error, "cannot encode snapshot");
            return None;
        }
    };
    if bytes.len() > MAX_SNAPSHOT_BYTES {
        metrics.snapshot("too_large");
        tracing::warn!(service = %snapshot.service, bytes = bytes.len(), "snapshot too large; not written");
        return None;
    }
    metrics.snapshot("written");
    let mut record = OutRecord::new(topics.state.clone(), Some(&snapshot.service), bytes);
    record.headers.push((
        opsline_kafka::record::EVENT_TYPE_HEADER.to_owned(),
        topics::LOGINTEL_STATE.event_type.as_bytes().to_vec(),
    ));
    Some(record)
}
