//! The detection engine: one template miner, alert detector and incident book
//! per service, fed line by line. Pure and synchronous (no I/O), so the Kafka
//! processor, the periodic tick, the HTTP API and the in-process labelled check
//! all run exactly the same code.

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsline_events::logs::{Alert, Incident, LogOffset, TemplateChangeKind, TemplateEvent};
use opsline_logmine::{Miner, MinerConfig, TemplateChange, classify_level};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attention::{Signal, signal_of};
use crate::config::{DetectorConfig, IncidentConfig};
use crate::detector::{Observation, ServiceDetector};
use crate::error::LogintelError;
use crate::eventtime::parse_timestamp;
use crate::incidents::{IncidentBook, Joined, ResolveOutcome};
use crate::timeguard::{self, Clamped, TimeBounds};
use crate::volume::LineVolume;
use events::{split_events, template_event};
use masks::TemplateMasks;
pub use refine::{Applied, RefineRequest, RefineState, Sampling};

/// Alerts kept per service for re-emission after a restore (at-least-once for alerts in flight).
pub const RECENT_ALERTS: usize = 32;

/// The settings the engine needs.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Template miner settings.
    pub miner: MinerConfig,
    /// Alert detector settings.
    pub detector: DetectorConfig,
    /// Incident settings.
    pub incidents: IncidentConfig,
    /// What new templates collect for refinement by a model (`None`: no refinement).
    pub refine: Option<Sampling>,
    /// The most services the engine holds; lines of further services are refused.
    pub max_services: usize,
}

/// The last raw-log record reflected in a service's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPosition {
    /// Partition of the raw-log topic.
    pub partition: i32,
    /// Offset within it.
    pub offset: i64,
}

/// One raw line to ingest.
#[derive(Debug, Clone)]
pub struct LineInput<'a> {
    /// The service (the raw-log key).
    pub service: &'a str,
    /// The whole line, header included (any bytes).
    pub line: &'a [u8],
    /// Event time to use when the header has no parsable timestamp (client or broker time).
    pub fallback_time: Option<Timestamp>,
    /// When the gateway took the line in (`None` offline): a line dated far after it is
    /// not trusted (see [`crate::timeguard`]).
    pub ingested_at: Option<Timestamp>,
    /// Where the line is in the raw-log topic (cited as evidence).
    pub evidence: LogOffset,
    /// The host that sent the line, when its transport names it (else the header's host).
    pub host: Option<&'a str>,
}

/// What one step of the engine produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    /// New or changed templates.
    pub templates: Vec<TemplateEvent>,
    /// Alerts to emit.
    pub alerts: Vec<Alert>,
    /// Incidents whose state changed.
    pub incidents: Vec<Incident>,
    /// Lines whose own timestamp was out of bounds and replaced, by bound.
    pub clamped: Vec<Clamped>,
}

impl Outputs {
    /// Appends `other`.
    pub fn extend(&mut self, other: Outputs) {
        self.templates.extend(other.templates);
        self.alerts.extend(other.alerts);
        self.incidents.extend(other.incidents);
        self.clamped.extend(other.clamped);
    }

    /// Whether nothing was produced.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty() && self.alerts.is_empty() && self.incidents.is_empty()
    }
}

/// The state of one service.
#[derive(Debug, Clone)]
pub struct ServiceState {
    /// The template miner.
    pub miner: Miner,
    /// The alert detector.
    pub detector: ServiceDetector,
    /// The incidents.
    pub incidents: IncidentBook,
    /// The last raw-log record reflected here.
    pub position: Option<RawPosition>,
    /// The latest alerts (re-emitted after a restore; consumers drop duplicates by id).
    pub recent_alerts: Vec<Alert>,
    /// Lines since the last snapshot.
    pub lines_since_snapshot: u64,
    /// Whether the state changed since the last snapshot.
    pub dirty: bool,
    /// Templates collecting lines for refinement, and refined texts.
    pub refine: RefineState,
    /// External alerts of this service still firing: alert id -> start (ms).
    pub external_firing: BTreeMap<Uuid, i64>,
    /// Masked texts of templates that held a credential (rebuilt from the miner on restore).
    pub masks: TemplateMasks,
    /// Lines consumed per hour and day of event time (log lines received, for the console).
    pub volume: LineVolume,
    /// When the gateway took in the latest line (processing time; `None` offline or after a
    /// restore until the next line): stamped on the incidents it opens.
    pub received: Option<Timestamp>,
}

/// Running totals, for the noise-reduction report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Lines ingested.
    pub lines_in: u64,
    /// Alerts emitted (summaries included).
    pub alerts_out: u64,
    /// Lines that were already reflected in restored state and skipped.
    pub replays_skipped: u64,
}

/// Miners, detectors and incident books of every service seen.
#[derive(Debug, Clone)]
pub struct Engine {
    config: EngineConfig,
    services: BTreeMap<String, ServiceState>,
    totals: Totals,
    refine_ready: Vec<RefineRequest>,
    refine_skipped: u64,
}

impl Engine {
    /// An empty engine; fails when the miner configuration is invalid.
    pub fn new(config: EngineConfig) -> Result<Self, LogintelError> {
        Miner::new(config.miner.clone())?;
        Ok(Self {
            config,
            services: BTreeMap::new(),
            totals: Totals::default(),
            refine_ready: Vec::new(),
            refine_skipped: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Running totals.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The state of `service`, if it was seen.
    pub fn service(&self, service: &str) -> Option<&ServiceState> {
        self.services.get(service)
    }

    /// Lines consumed per service over time (the services seen, in name order).
    pub fn volumes(&self) -> impl Iterator<Item = (&str, &LineVolume)> {
        self.services.iter().map(|(name, state)| (name.as_str(), &state.volume))
    }

    /// The services seen, in name order.
    pub fn service_names(&self) -> Vec<String> {
        self.services.keys().cloned().collect()
    }

    /// Whether the record at `position` of `service` is already reflected in its state.
    pub fn already_processed(&mut self, service: &str, position: RawPosition) -> bool {
        let seen = self
            .services
            .get(service)
            .and_then(|s| s.position)
            .is_some_and(|p| p.partition == position.partition && position.offset <= p.offset);
        if seen {
            self.totals.replays_skipped += 1;
        }
        seen
    }

    /// The event-time bounds from the detector settings.
    fn time_bounds(&self) -> TimeBounds {
        let ms = |secs: u64| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        TimeBounds {
            max_future_skew_ms: ms(self.config.detector.max_future_skew_secs),
            max_late_ms: ms(self.config.detector.max_late_secs),
        }
    }

    /// Mines and checks one line.
    pub fn ingest(&mut self, input: &LineInput<'_>) -> Result<Outputs, LogintelError> {
        let bounds = self.time_bounds();
        let held = self.services.len();
        if held >= self.config.max_services.max(1) && !self.services.contains_key(input.service) {
            return Err(LogintelError::TooManyServices(
                held,
                input.service.chars().take(64).collect(),
            ));
        }
        let state = ensure_state(&mut self.services, &self.config.miner, input.service)?;
        let sampling = self.config.refine.as_ref();
        let (parsed, content) = refine::mine(&mut state.miner, input.line, &state.refine, sampling.is_some());
        state.masks.on_changes(&parsed.changes);
        let shown = state.masks.text(parsed.template_id, &parsed.template);
        let level = parsed.header.level.as_deref().and_then(classify_level);
        let fatal = parsed.header.level.as_deref().is_some_and(is_fatal_level);
        let clock = (state.detector.lines > 0).then_some(state.detector.clock_ms);
        let dated = parsed
            .header
            .timestamp
            .as_deref()
            .and_then(|text| parse_timestamp(text, input.fallback_time))
            .or(input.fallback_time)
            .map(|t| t.as_millisecond());
        let mut outputs = Outputs::default();
        let time_ms = match dated {
            Some(dated) => {
                let ingested = input.ingested_at.map(|t| t.as_millisecond());
                let (time_ms, clamped) = timeguard::guard(dated, ingested, clock, bounds);
                outputs.clamped.extend(clamped);
                time_ms
            }
            None => state.detector.clock_ms,
        };
        let mut created = false;
        for change in &parsed.changes {
            match change {
                TemplateChange::Created { id, template } => {
                    created |= *id == parsed.template_id;
                    outputs.templates.push(template_event(
                        input.service,
                        *id,
                        template,
                        TemplateChangeKind::Created,
                        None,
                        1,
                    ));
                }
                TemplateChange::Updated { id, old, new } => {
                    let count = state.miner.template(*id).map(|t| t.count).unwrap_or_default();
                    outputs.templates.push(template_event(
                        input.service,
                        *id,
                        new,
                        TemplateChangeKind::Updated,
                        Some(old),
                        count,
                    ));
                }
                TemplateChange::Split { from, template, into } => {
                    state.detector.forget_template(*from);
                    let count = state.miner.template(*from).map(|t| t.count).unwrap_or_default();
                    split_events(&mut outputs.templates, input.service, *from, template, into, count);
                    // A part of a split is not a new pattern: no new-template alert for it.
                    created &= !into.iter().any(|t| t.id == parsed.template_id);
                }
                TemplateChange::Merged { from, into, template } => {
                    state.detector.forget_template(*from);
                    let count = state.miner.template(*into).map(|t| t.count).unwrap_or_default();
                    outputs.templates.push(template_event(
                        input.service,
                        *into,
                        template,
                        TemplateChangeKind::Updated,
                        None,
                        count,
                    ));
                }
            }
        }
        self.refine_skipped += state.refine.on_changes(&parsed.changes, sampling);
        if let (Some(sampling), Some(content)) = (sampling, content.as_deref()) {
            let (id, template) = (parsed.template_id, shown);
            if let Some(request) = state.refine.collect(input.service, id, template, content, sampling) {
                if self.refine_ready.len() < refine::MAX_READY {
                    self.refine_ready.push(request);
                } else {
                    self.refine_skipped += 1;
                }
            }
        }
        let text = String::from_utf8_lossy(input.line);
        let observation = Observation {
            time_ms,
            template_id: parsed.template_id,
            template: state.refine.refined(parsed.template_id).unwrap_or(shown),
            created,
            level,
            fatal,
            line: text.trim_end_matches(['\n', '\r']),
            evidence: input.evidence.clone(),
            host: input.host.or(parsed.header.host.as_deref()),
            component: parsed.header.component.as_deref(),
        };
        let mut alerts = Vec::new();
        state.detector.observe(&observation, &self.config.detector, &mut alerts);
        state.position = Some(RawPosition {
            partition: input.evidence.partition,
            offset: input.evidence.offset,
        });
        state.lines_since_snapshot += 1;
        state.dirty = true;
        state.volume.record(time_ms);
        state.received = input.ingested_at.or(state.received);
        self.totals.lines_in += 1;
        let more = self.after_alerts(input.service, alerts);
        outputs.extend(more);
        Ok(outputs)
    }

    /// Moves `service`'s event clock to `now` (a tick for idle live traffic): silence,
    /// suppression summaries and quiet-period resolutions that are due.
    pub fn advance(&mut self, service: &str, now: Timestamp) -> Outputs {
        let Some(state) = self.services.get_mut(service) else {
            return Outputs::default();
        };
        let mut alerts = Vec::new();
        state
            .detector
            .advance(now.as_millisecond(), &self.config.detector, &mut alerts);
        self.after_alerts(service, alerts)
    }

    /// Emits every pending suppression summary and resolves nothing (end of a replay).
    pub fn finish(&mut self) -> Outputs {
        let mut outputs = Outputs::default();
        for service in self.service_names() {
            let Some(state) = self.services.get_mut(&service) else {
                continue;
            };
            let mut alerts = Vec::new();
            state.detector.flush(&mut alerts);
            outputs.extend(self.after_alerts(&service, alerts));
        }
        outputs
    }

    /// Resolves incident `id` on an operator's request (at the service's event clock; `wall`:
    /// the wall clock, when the caller knows it).
    pub fn resolve_incident(
        &mut self,
        id: Uuid,
        by: &str,
        wall: Option<Timestamp>,
    ) -> Option<(ResolveOutcome, Incident)> {
        self.services.values_mut().find_map(|state| {
            let at = crate::detector::suppress::ms_to_ts(state.detector.clock_ms);
            let outcome = state.incidents.resolve(id, by, (at, wall), &self.config.incidents);
            if matches!(outcome, Some((ResolveOutcome::Resolved, _))) {
                state.dirty = true;
            }
            outcome
        })
    }

    /// Looks an incident up by id.
    pub fn incident(&self, id: Uuid) -> Option<&Incident> {
        self.services.values().find_map(|s| s.incidents.get(id))
    }

    /// Installs restored state for a service (replacing any).
    pub fn install(&mut self, service: String, state: ServiceState) {
        self.services.insert(service, state);
    }

    /// Mutable access to a service's state (snapshots).
    pub fn service_mut(&mut self, service: &str) -> Option<&mut ServiceState> {
        self.services.get_mut(service)
    }

    /// A person declares incident `id` worth a postmortem (API, console or chat); its new
    /// state to publish, `None` when no service knows it.
    pub fn declare_postmortem(&mut self, id: Uuid, by: &str) -> Option<Incident> {
        let config = &self.config.incidents;
        self.services.values_mut().find_map(|state| {
            let incident = state.incidents.declare_postmortem(id, by, config)?;
            state.dirty = true;
            Some(incident)
        })
    }

    /// Helpdesk ticket `ticket_id` was linked to incident `id` (users noticed): raises its
    /// score; its new state to publish, `None` when unknown or already linked.
    pub fn on_ticket_linked(&mut self, id: Uuid, ticket_id: &str) -> Option<Incident> {
        let config = &self.config.incidents;
        self.services.values_mut().find_map(|state| {
            let incident = state.incidents.on_ticket_linked(id, ticket_id, config)?;
            state.dirty = true;
            Some(incident)
        })
    }

    fn after_alerts(&mut self, service: &str, alerts: Vec<Alert>) -> Outputs {
        let mut outputs = Outputs::default();
        let config = &self.config.incidents;
        let Some(state) = self.services.get_mut(service) else {
            return outputs;
        };
        let now = state.detector.clock_ms;
        outputs.incidents.extend(state.incidents.expire(now, config));
        let min_burst = self.config.detector.error_min_count;
        let signals: Vec<Signal> = alerts
            .iter()
            .map(|a| signal_of(&state.detector, &state.miner, a, now, min_burst, config))
            .collect();
        for (alert, signal) in alerts.iter().zip(&signals) {
            if let Some(incident) = correlate(&mut self.services, service, alert, signal, config) {
                outputs.incidents.push(incident);
            }
        }
        let received = self.services.get(service).and_then(|s| s.received);
        for incident in outputs.incidents.iter_mut() {
            if let (Some(at), Some(owner)) = (received, self.services.get_mut(&incident.service)) {
                owner.incidents.stamp_detected(incident, at);
            }
        }
        let Some(state) = self.services.get_mut(service) else {
            return outputs;
        };
        state.recent_alerts.extend(alerts.iter().cloned());
        if state.recent_alerts.len() > RECENT_ALERTS {
            let excess = state.recent_alerts.len() - RECENT_ALERTS;
            state.recent_alerts.drain(..excess);
        }
        if !alerts.is_empty() || !outputs.incidents.is_empty() {
            state.dirty = true;
        }
        self.totals.alerts_out += alerts.len() as u64;
        outputs.alerts = alerts;
        outputs
    }
}

/// Routes one alert of `service` (see [`crate::correlation`]): its own open incident, another
/// service's related open incident, else its own book (reopen, pending, open).
fn correlate(
    services: &mut BTreeMap<String, ServiceState>,
    service: &str,
    alert: &Alert,
    signal: &Signal,
    config: &IncidentConfig,
) -> Option<Incident> {
    if let Some(state) = services.get_mut(service) {
        match state.incidents.join_open(alert, signal, config, false) {
            Joined::Changed(incident) => return Some(*incident),
            Joined::Duplicate => return None,
            Joined::No => {}
        }
    }
    for (name, other) in services.iter_mut() {
        if name == service {
            continue;
        }
        match other.incidents.join_open(alert, signal, config, true) {
            Joined::Changed(incident) => {
                other.dirty = true;
                return Some(*incident);
            }
            Joined::Duplicate => return None,
            Joined::No => {}
        }
    }
    services.get_mut(service)?.incidents.on_alert(alert, signal, config)
}

/// Whether a level text is of the fatal class (`FATAL`, `CRITICAL`, `EMERG`, `ALERT`, `PANIC`, logcat `F`/`A`).
pub fn is_fatal_level(level: &str) -> bool {
    let trimmed = level
        .trim()
        .trim_start_matches(['[', '<', '('])
        .trim_end_matches([']', '>', ')', ':']);
    [
        "FATAL",
        "CRITICAL",
        "CRIT",
        "EMERG",
        "EMERGENCY",
        "ALERT",
        "PANIC",
        "F",
        "A",
    ]
    .iter()
    .any(|f| {
        if f.len() == 1 {
            trimmed == *f
        } else {
            trimmed.eq_ignore_ascii_case(f)
        }
    })
}

fn ensure_state<'a>(
    services: &'a mut BTreeMap<String, ServiceState>,
    miner: &MinerConfig,
    service: &str,
) -> Result<&'a mut ServiceState, LogintelError> {
    if !services.contains_key(service) {
        let state = ServiceState {
            miner: Miner::new(miner.clone())?,
            detector: ServiceDetector::new(service),
            incidents: IncidentBook::default(),
            position: None,
            recent_alerts: Vec::new(),
            lines_since_snapshot: 0,
            dirty: true,
            refine: RefineState::default(),
            external_firing: BTreeMap::new(),
            masks: TemplateMasks::default(),
            volume: LineVolume::default(),
            received: None,
        };
        services.insert(service.to_owned(), state);
    }
    services
        .get_mut(service)
        .ok_or_else(|| LogintelError::Internal("service state vanished".into()))
}

mod events;
mod external;
pub mod masks;
pub mod refine;

#[cfg(test)]
pub(crate) mod tests;
