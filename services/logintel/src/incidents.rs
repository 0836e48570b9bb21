//! Incidents: alerts of one service correlated in event time.
//!
//! An alert joins the service's open incident when it comes within
//! `correlation_secs` of the incident's last update; otherwise it opens a new
//! incident. An open incident is resolved by `quiet-period` once no alert joined
//! it for `quiet_period_secs` (its `resolved_at` is the moment it became quiet,
//! so the outcome does not depend on when the check runs), or by an operator
//! through the HTTP API. Every change yields the incident's full new state,
//! which goes to the compacted incidents topic keyed by incident id; ids are
//! derived from the first alert, so a replay reproduces them.

use jiff::Timestamp;
use opsline_events::logs::{Alert, AlertKind, Incident, IncidentStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::IncidentConfig;
use crate::detector::suppress::{ms_to_ts, secs_to_ms};
use crate::ids::derived_v7;

/// Resolved incidents remembered per service (to answer repeated resolve calls).
const RECENT_RESOLVED: usize = 64;

/// The incidents of one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentBook {
    /// Open incidents (normally at most one).
    pub open: Vec<Incident>,
    /// The latest resolved incidents, newest last.
    pub recently_resolved: Vec<Incident>,
}

/// Why an explicit resolve failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveOutcome {
    /// Resolved now.
    Resolved,
    /// It was already resolved.
    AlreadyResolved,
}

impl IncidentBook {
    /// Adds `alert` (seen at event time `now_ms`); returns the incident's new state if it changed.
    pub fn on_alert(&mut self, alert: &Alert, now_ms: i64, config: &IncidentConfig) -> Option<Incident> {
        let now = ms_to_ts(now_ms);
        let correlation = secs_to_ms(config.correlation_secs);
        let joinable = self
            .open
            .iter_mut()
            .filter(|i| now_ms.saturating_sub(i.updated_at.as_millisecond()) <= correlation)
            .max_by_key(|i| i.updated_at);
        if let Some(incident) = joinable {
            if incident.alert_ids.contains(&alert.alert_id) {
                return None;
            }
            incident.alert_ids.push(alert.alert_id);
            incident.severity = incident.severity.max(alert.severity);
            incident.updated_at = incident.updated_at.max(now);
            add_evidence(incident, alert, config);
            return Some(incident.clone());
        }
        let incident_id = derived_v7(now_ms, &[alert.service.as_bytes(), alert.alert_id.as_bytes()]);
        let mut incident = Incident {
            incident_id,
            service: alert.service.clone(),
            title: title(alert),
            severity: alert.severity,
            status: IncidentStatus::Open,
            opened_at: now,
            updated_at: now,
            resolved_at: None,
            resolved_by: None,
            alert_ids: vec![alert.alert_id],
            evidence: Vec::new(),
            restricted_team: config.restricted_teams.get(&alert.service).cloned(),
        };
        add_evidence(&mut incident, alert, config);
        self.open.push(incident.clone());
        Some(incident)
    }

    /// Resolves the incidents that were quiet for the quiet period by `now_ms`.
    pub fn expire(&mut self, now_ms: i64, config: &IncidentConfig) -> Vec<Incident> {
        let quiet = secs_to_ms(config.quiet_period_secs);
        let (done, open): (Vec<Incident>, Vec<Incident>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|i| now_ms.saturating_sub(i.updated_at.as_millisecond()) >= quiet);
        self.open = open;
        done.into_iter()
            .map(|mut incident| {
                let at = ms_to_ts(incident.updated_at.as_millisecond().saturating_add(quiet));
                close(&mut incident, at, "quiet-period");
                self.remember(incident.clone());
                incident
            })
            .collect()
    }

    /// Resolves incident `id` on an operator's request; `None` when this book does not know it.
    pub fn resolve(&mut self, id: Uuid, by: &str, at: Timestamp) -> Option<(ResolveOutcome, Incident)> {
        if let Some(position) = self.open.iter().position(|i| i.incident_id == id) {
            let mut incident = self.open.remove(position);
            let at = at.max(incident.updated_at);
            close(&mut incident, at, by);
            self.remember(incident.clone());
            return Some((ResolveOutcome::Resolved, incident));
        }
        self.recently_resolved
            .iter()
            .find(|i| i.incident_id == id)
            .map(|i| (ResolveOutcome::AlreadyResolved, i.clone()))
    }

    /// Looks an incident up by id.
    pub fn get(&self, id: Uuid) -> Option<&Incident> {
        self.open
            .iter()
            .chain(&self.recently_resolved)
            .find(|i| i.incident_id == id)
    }

    fn remember(&mut self, incident: Incident) {
        self.recently_resolved.push(incident);
        if self.recently_resolved.len() > RECENT_RESOLVED {
            let excess = self.recently_resolved.len() - RECENT_RESOLVED;
            self.recently_resolved.drain(..excess);
        }
    }
}

fn close(incident: &mut Incident, at: Timestamp, by: &str) {
    incident.status = IncidentStatus::Resolved;
    incident.resolved_at = Some(at);
    incident.resolved_by = Some(by.to_owned());
}

fn add_evidence(incident: &mut Incident, alert: &Alert, config: &IncidentConfig) {
    for offset in &alert.evidence {
        if incident.evidence.len() >= config.max_evidence {
            break;
        }
        if !incident.evidence.contains(offset) {
            incident.evidence.push(offset.clone());
        }
    }
}

fn title(alert: &Alert) -> String {
    let what = match alert.kind {
        AlertKind::NewTemplate => "New log pattern",
        AlertKind::RateBurst => "Rate burst",
        AlertKind::ErrorSurge => "Error surge",
        AlertKind::Silence => "Silence",
    };
    let template: String = alert.template.chars().take(100).collect();
    format!("{what} in {}: {template}", alert.service)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use opsline_events::Event;

    fn alert(id: u128, kind: AlertKind) -> Alert {
        Alert {
            alert_id: Uuid::from_u128(id),
            kind,
            ..Alert::sample()
        }
    }

    #[test]
    fn configured_services_open_restricted_incidents() {
        let config = IncidentConfig {
            restricted_teams: [("hdfs".to_owned(), "storage".to_owned())].into(),
            ..IncidentConfig::default()
        };
        let mut book = IncidentBook::default();
        let opened = book.on_alert(&alert(1, AlertKind::NewTemplate), 0, &config).unwrap();
        assert_eq!(opened.restricted_team.as_deref(), Some("storage"));
        let mut other = alert(2, AlertKind::NewTemplate);
        other.service = "web".into();
        let opened = IncidentBook::default().on_alert(&other, 0, &config).unwrap();
        assert_eq!(opened.restricted_team, None);
    }

    #[test]
    fn lifecycle_open_update_quiet_resolve() {
        let config = IncidentConfig::default();
        let mut book = IncidentBook::default();
        let t0 = 1_700_000_000_000;
        let opened = book.on_alert(&alert(1, AlertKind::NewTemplate), t0, &config).unwrap();
        assert_eq!(opened.status, IncidentStatus::Open);
        assert!(opened.title.starts_with("New log pattern in hdfs"));
        let updated = book
            .on_alert(&alert(2, AlertKind::ErrorSurge), t0 + 60_000, &config)
            .unwrap();
        assert_eq!(updated.incident_id, opened.incident_id);
        assert_eq!(updated.alert_ids.len(), 2);
        assert!(
            book.on_alert(&alert(2, AlertKind::ErrorSurge), t0 + 61_000, &config)
                .is_none(),
            "replayed alert"
        );
        assert!(book.expire(t0 + 60_000 + 1_000, &config).is_empty());
        let resolved = book.expire(t0 + 60_000 + 1_800_000, &config);
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].resolved_by.as_deref(), Some("quiet-period"));
        assert_eq!(resolved[0].evidence.len(), 1, "evidence deduplicated");
        let later = book
            .on_alert(&alert(3, AlertKind::Silence), t0 + 10_000_000, &config)
            .unwrap();
        assert_ne!(later.incident_id, opened.incident_id);
    }

    #[test]
    fn explicit_resolve() {
        let config = IncidentConfig::default();
        let mut book = IncidentBook::default();
        let incident = book.on_alert(&alert(1, AlertKind::RateBurst), 0, &config).unwrap();
        let (outcome, resolved) = book
            .resolve(incident.incident_id, "operator", Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(outcome, ResolveOutcome::Resolved);
        assert_eq!(resolved.resolved_by.as_deref(), Some("operator"));
        let (again, _) = book
            .resolve(incident.incident_id, "operator", Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(again, ResolveOutcome::AlreadyResolved);
        assert!(book.resolve(Uuid::nil(), "x", Timestamp::UNIX_EPOCH).is_none());
    }
}
