//! Alerts of other monitoring systems (Prometheus Alertmanager, Grafana) in the engine.
//!
//! A firing alert is an [`Alert`] of its service (kind `external`, the source's name and link on
//! [`Alert::external`]) and goes through the same correlation and attention score as a log
//! alert: it joins an open incident of its service, or of another service that shares its host
//! or its words, or starts a pending group, at its start time. Its [`Signal`]: level from its
//! severity (critical 3, warning 1, info 0), rare (a rule fired), no burst, its host.
//!
//! A resolved alert resolves the incident it joined once no other external alert of that
//! incident is still firing (by `<source>: <name> resolved`, at its end time); log alerts in the
//! same incident do not hold it open (they reopen or open an incident if they go on).

use jiff::Timestamp;
use opsline_events::external::{ExternalAlert, ExternalAlertStatus};
use opsline_events::logs::{Alert, AlertKind, ExternalSource, Origins, Severity};
use uuid::Uuid;

use super::{Engine, Outputs, correlate, ensure_state};
use crate::attention::Signal;

/// Firing external alerts remembered per service (the oldest are forgotten beyond it).
const KEPT_FIRING: usize = 1_000;

impl Engine {
    /// Takes one record of another monitoring system's alert (see the module docs).
    pub fn on_external(&mut self, external: &ExternalAlert) -> Outputs {
        match external.status {
            ExternalAlertStatus::Firing => self.external_firing(external),
            ExternalAlertStatus::Resolved => self.external_resolved(external),
        }
    }

    fn external_firing(&mut self, external: &ExternalAlert) -> Outputs {
        let mut outputs = Outputs::default();
        let config = &self.config.incidents;
        let Ok(state) = ensure_state(&mut self.services, &self.config.miner, &external.service) else {
            return outputs;
        };
        if state.external_firing.contains_key(&external.alert_id) {
            return outputs; // Alertmanager re-sends firing alerts: the first is enough.
        }
        let at_ms = external.starts_at.as_millisecond();
        state.external_firing.insert(external.alert_id, at_ms);
        if state.external_firing.len() > KEPT_FIRING
            && let Some(oldest) = state
                .external_firing
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(id, _)| *id)
        {
            state.external_firing.remove(&oldest);
        }
        state.dirty = true;
        let alert = alert_of(external);
        let signal = signal_of(&alert, external, at_ms);
        if let Some(incident) = correlate(&mut self.services, &external.service, &alert, &signal, config) {
            outputs.incidents.push(incident);
        }
        if let Some(state) = self.services.get_mut(&external.service) {
            state.recent_alerts.push(alert.clone());
            let excess = state.recent_alerts.len().saturating_sub(super::RECENT_ALERTS);
            state.recent_alerts.drain(..excess);
        }
        self.totals.alerts_out += 1;
        outputs.alerts.push(alert);
        outputs
    }

    fn external_resolved(&mut self, external: &ExternalAlert) -> Outputs {
        let mut outputs = Outputs::default();
        let mut known = false;
        for state in self.services.values_mut() {
            let removed = state.external_firing.remove(&external.alert_id).is_some();
            state.dirty |= removed;
            known |= removed;
        }
        if !known {
            return outputs; // never seen firing, or already resolved
        }
        let Some(incident) = self
            .services
            .values()
            .flat_map(|s| &s.incidents.open)
            .find(|i| i.alert_ids.contains(&external.alert_id))
        else {
            return outputs; // it joined no open incident
        };
        let still_firing = incident
            .alert_ids
            .iter()
            .any(|id| self.services.values().any(|s| s.external_firing.contains_key(id)));
        if still_firing {
            return outputs;
        }
        let (id, by) = (
            incident.incident_id,
            format!("{}: {} resolved", external.source, external.name),
        );
        let at = external.ends_at.unwrap_or_else(Timestamp::now);
        let config = &self.config.incidents;
        for state in self.services.values_mut() {
            if let Some((crate::incidents::ResolveOutcome::Resolved, incident)) =
                state.incidents.resolve(id, &by, (at, None), config)
            {
                state.dirty = true;
                outputs.incidents.push(incident);
                break;
            }
        }
        outputs
    }
}

/// The alert an external one is in the engine.
pub(crate) fn alert_of(external: &ExternalAlert) -> Alert {
    let summary: String = external.summary.chars().take(300).collect();
    Alert {
        alert_id: external.alert_id,
        service: external.service.clone(),
        kind: AlertKind::External,
        severity: external.severity,
        template_id: template_id(&external.source, &external.name),
        template: format!("{}: {summary}", external.name),
        sample_lines: vec![summary],
        count: 1,
        baseline: None,
        window_start: external.starts_at,
        window_end: external.starts_at,
        suppressed: 0,
        evidence: Vec::new(),
        origins: Origins {
            hosts: external.host.iter().cloned().collect(),
            components: Vec::new(),
        },
        external: Some(ExternalSource {
            source: external.source.clone(),
            name: external.name.clone(),
            fingerprint: external.fingerprint.clone(),
            url: external.generator_url.clone(),
        }),
    }
}

/// What an external alert says for the attention score.
fn signal_of(alert: &Alert, external: &ExternalAlert, at_ms: i64) -> Signal {
    Signal {
        at_ms,
        level: match external.severity {
            Severity::Critical => 3,
            Severity::Warning => 1,
            Severity::Info => 0,
        },
        template: alert.template.clone(),
        template_id: alert.template_id,
        rare: true,
        burst: 0,
        silence: false,
        lines: 1,
        service: alert.service.clone(),
        hosts: alert.origins.hosts.clone(),
        components: Vec::new(),
    }
}

/// A stable template id for an external alert name, at or above 2^62 so that it never equals
/// a miner's template id (those count up from 1).
fn template_id(source: &str, name: &str) -> u64 {
    let digest = Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{source}/{name}").as_bytes());
    let bytes = digest.as_bytes();
    let mut id = [0_u8; 8];
    id.copy_from_slice(&bytes[..8]);
    (u64::from_be_bytes(id) >> 2) | (1 << 62)
}

#[cfg(test)]
#[path = "external_tests.rs"]
mod tests;
