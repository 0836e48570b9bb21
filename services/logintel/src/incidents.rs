//! Incidents: the signal groups that deserve a person's attention, and their lifecycle.
//!
//! Alerts are grouped by [`crate::correlation`]; a pending group becomes an incident when its
//! attention score says so ([`crate::attention`]). An incident is updated by the alerts that
//! join it, reopened by a recurrence of its fingerprint, resolved by `quiet-period` once no
//! alert joined it for `quiet_period_secs` (its `resolved_at` is the moment it became quiet, so
//! the outcome does not depend on when the check runs) or by a person, declared for a
//! postmortem by a person, and linked to helpdesk tickets. Every change yields the incident's
//! full new state (score, parts, severity, reason, postmortem decision), which goes to the
//! compacted incidents topic keyed by incident id. Ids are derived from the group's first
//! alert, and pending groups are part of the snapshot, so a replay reproduces them.
//! Alert ids and evidence are bounded (`max_alert_ids`, `max_evidence`), with counts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsline_events::logs::{Alert, AlertKind, Attention, Incident, IncidentStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attention::{GroupFacts, Signal, score, severity, why};
use crate::config::IncidentConfig;
use crate::correlation::{PendingGroup, add_evidence, dependent};
use crate::detector::suppress::{ms_to_ts, secs_to_ms};
use crate::ids::derived_v7;

/// Hosts and components named on an incident's attention record (the rest are counted).
const KEPT_ORIGINS: usize = 16;
use crate::policy::decide;

/// Resolved incidents remembered per service (repeated resolve calls, reopening).
const RECENT_RESOLVED: usize = 64;
/// Ticket ids kept per incident (the rest are counted).
const KEPT_TICKETS: usize = 20;

/// The incidents of one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentBook {
    /// Open incidents.
    pub open: Vec<Incident>,
    /// The latest resolved incidents, newest last.
    pub recently_resolved: Vec<Incident>,
    /// Signal groups that are not (yet) incidents.
    #[serde(default)]
    pub pending: Vec<PendingGroup>,
    /// What the signals of each open or remembered incident add up to.
    #[serde(default)]
    pub facts: BTreeMap<Uuid, GroupFacts>,
}

/// Why an explicit resolve failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveOutcome {
    /// Resolved now.
    Resolved,
    /// It was already resolved.
    AlreadyResolved,
}

/// Whether an alert joined an open incident.
#[derive(Debug, Clone, PartialEq)]
pub enum Joined {
    /// No open incident takes it.
    No,
    /// It was already in the incident (a replay).
    Duplicate,
    /// The incident's new state.
    Changed(Box<Incident>),
}

impl IncidentBook {
    /// Joins `alert` to an open incident of this book: any within the correlation window when
    /// `foreign` is false (the alert's own service); for another service's alert, only one
    /// whose templates share content with it, whose lines came from one of its hosts, or whose
    /// service is a dependency of its service.
    pub fn join_open(&mut self, alert: &Alert, signal: &Signal, config: &IncidentConfig, foreign: bool) -> Joined {
        let window = secs_to_ms(config.correlation_secs);
        let facts = &self.facts;
        let found = self
            .open
            .iter()
            .enumerate()
            .filter(|(_, i)| signal.at_ms.saturating_sub(i.updated_at.as_millisecond()) <= window)
            .filter(|(_, i)| {
                !foreign
                    || dependent(&alert.service, &i.service, config)
                    || facts
                        .get(&i.incident_id)
                        .is_some_and(|f| f.related_to(signal, &config.attention))
            })
            .max_by_key(|(_, i)| i.updated_at)
            .map(|(index, _)| index);
        let Some(index) = found else {
            return Joined::No;
        };
        if self.open[index].alert_ids.contains(&alert.alert_id) {
            return Joined::Duplicate;
        }
        Joined::Changed(Box::new(self.add_to(index, alert, signal, config)))
    }

    /// Adds `alert` of this book's service: joins an open incident, reopens a resolved one with
    /// the same fingerprint, or goes to a pending group that may open an incident. Returns the
    /// incident's new state when one changed.
    pub fn on_alert(&mut self, alert: &Alert, signal: &Signal, config: &IncidentConfig) -> Option<Incident> {
        match self.join_open(alert, signal, config, false) {
            Joined::Changed(incident) => return Some(*incident),
            Joined::Duplicate => return None,
            Joined::No => {}
        }
        if self.pending.iter().any(|g| g.alert_ids.contains(&alert.alert_id)) {
            return None;
        }
        if signal.is_problem()
            && let Some(incident) = self.reopen(alert, signal, config)
        {
            return Some(incident);
        }
        let position = self.pending.iter().rposition(|g| g.in_window(signal.at_ms, config));
        let index = match position {
            Some(index) => {
                self.pending[index].add(alert, signal, config);
                index
            }
            None => {
                self.pending.push(PendingGroup::new(alert, signal, config));
                let max = config.attention.max_pending.max(1);
                if self.pending.len() > max {
                    let excess = self.pending.len() - max;
                    self.pending.drain(..excess);
                }
                self.pending.len() - 1
            }
        };
        if !self.pending[index].facts.can_open(&config.attention) {
            return None;
        }
        let group = self.pending.remove(index);
        Some(self.open_incident(group, config))
    }

    /// Resolves the incidents quiet for the quiet period by `now_ms` and drops pending groups
    /// quiet for the correlation window.
    pub fn expire(&mut self, now_ms: i64, config: &IncidentConfig) -> Vec<Incident> {
        let window = secs_to_ms(config.correlation_secs);
        self.pending
            .retain(|g| now_ms.saturating_sub(g.facts.last_ms) <= window);
        let quiet = secs_to_ms(config.quiet_period_secs);
        let (done, open): (Vec<Incident>, Vec<Incident>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|i| now_ms.saturating_sub(i.updated_at.as_millisecond()) >= quiet);
        self.open = open;
        done.into_iter()
            .map(|mut incident| {
                let at = ms_to_ts(incident.updated_at.as_millisecond().saturating_add(quiet));
                close(&mut incident, at, "quiet-period");
                self.refresh(&mut incident, config);
                self.remember(incident.clone());
                incident
            })
            .collect()
    }

    /// Resolves incident `id` on a person's request at `at` (the service's event clock) and
    /// `wall` (the wall clock, when known); `None` when this book does not know it.
    pub fn resolve(
        &mut self,
        id: Uuid,
        by: &str,
        (at, wall): (Timestamp, Option<Timestamp>),
        config: &IncidentConfig,
    ) -> Option<(ResolveOutcome, Incident)> {
        if let Some(position) = self.open.iter().position(|i| i.incident_id == id) {
            let mut incident = self.open.remove(position);
            let at = at.max(incident.updated_at);
            close(&mut incident, at, by);
            if let Some(wall) = wall {
                incident.response.get_or_insert_with(Default::default).resolved_wall_at = Some(wall);
            }
            self.refresh(&mut incident, config);
            self.remember(incident.clone());
            return Some((ResolveOutcome::Resolved, incident));
        }
        self.recently_resolved
            .iter()
            .find(|i| i.incident_id == id)
            .map(|i| (ResolveOutcome::AlreadyResolved, i.clone()))
    }

    /// A person declares incident `id` worth a postmortem; its new state, `None` if unknown.
    pub fn declare_postmortem(&mut self, id: Uuid, by: &str, config: &IncidentConfig) -> Option<Incident> {
        let facts = self.facts.get_mut(&id)?;
        facts.declared_by = Some(by.to_owned());
        self.update(id, config)
    }

    /// A helpdesk ticket was linked to incident `id` (users noticed); its new state, `None` if
    /// unknown or already linked.
    pub fn on_ticket_linked(&mut self, id: Uuid, ticket_id: &str, config: &IncidentConfig) -> Option<Incident> {
        let incident = self
            .open
            .iter_mut()
            .chain(self.recently_resolved.iter_mut())
            .find(|i| i.incident_id == id)?;
        let attention = incident.attention.as_mut()?;
        if attention.tickets.iter().any(|t| t == ticket_id) {
            return None;
        }
        if attention.tickets.len() < KEPT_TICKETS {
            attention.tickets.push(ticket_id.to_owned());
        }
        let facts = self.facts.get_mut(&id)?;
        facts.tickets = facts.tickets.saturating_add(1);
        self.update(id, config)
    }

    /// Records when Opsline opened the open incident `incident` if its record does not say
    /// yet ([`Incident::detected_at`], processing time), in this book and in `incident`.
    pub fn stamp_detected(&mut self, incident: &mut Incident, at: Timestamp) {
        if incident.detected_at.is_some() || incident.status != IncidentStatus::Open {
            return;
        }
        incident.detected_at = Some(at);
        if let Some(kept) = self.open.iter_mut().find(|i| i.incident_id == incident.incident_id) {
            kept.detected_at.get_or_insert(at);
        }
    }

    /// Looks an incident up by id.
    pub fn get(&self, id: Uuid) -> Option<&Incident> {
        self.open
            .iter()
            .chain(&self.recently_resolved)
            .find(|i| i.incident_id == id)
    }

    /// Recomputes incident `id` from its facts and returns its new state.
    fn update(&mut self, id: Uuid, config: &IncidentConfig) -> Option<Incident> {
        let mut incident = self.get(id)?.clone();
        self.refresh(&mut incident, config);
        for slot in self.open.iter_mut().chain(self.recently_resolved.iter_mut()) {
            if slot.incident_id == id {
                *slot = incident.clone();
            }
        }
        Some(incident)
    }

    fn reopen(&mut self, alert: &Alert, signal: &Signal, config: &IncidentConfig) -> Option<Incident> {
        let horizon = secs_to_ms(config.attention.reopen_secs);
        let position = self.recently_resolved.iter().rposition(|i| {
            let resolved = i.resolved_at.unwrap_or(i.updated_at).as_millisecond();
            signal.at_ms.saturating_sub(resolved) <= horizon
                && self
                    .facts
                    .get(&i.incident_id)
                    .is_some_and(|f| f.similar_to(&alert.template, &config.attention))
        })?;
        let mut incident = self.recently_resolved.remove(position);
        incident.status = IncidentStatus::Open;
        incident.resolved_at = None;
        incident.resolved_by = None;
        if let Some(attention) = incident.attention.as_mut() {
            attention.reopened = attention.reopened.saturating_add(1);
        }
        self.open.push(incident);
        let index = self.open.len() - 1;
        Some(self.add_to(index, alert, signal, config))
    }

    fn add_to(&mut self, index: usize, alert: &Alert, signal: &Signal, config: &IncidentConfig) -> Incident {
        let mut incident = self.open[index].clone();
        if incident.alert_ids.len() < config.max_alert_ids.max(1) {
            incident.alert_ids.push(alert.alert_id);
        }
        incident.updated_at = incident.updated_at.max(ms_to_ts(signal.at_ms));
        let added = add_evidence(&mut incident.evidence, &alert.evidence, config.max_evidence);
        if let Some(attention) = incident.attention.as_mut() {
            attention.alert_count = attention.alert_count.saturating_add(1);
            attention.evidence_count = attention.evidence_count.saturating_add(added);
        }
        self.facts
            .entry(incident.incident_id)
            .and_modify(|f| f.add(signal))
            .or_insert_with(|| GroupFacts::new(signal));
        self.refresh(&mut incident, config);
        self.open[index] = incident.clone();
        incident
    }

    fn open_incident(&mut self, group: PendingGroup, config: &IncidentConfig) -> Incident {
        let first = &group.first_alert;
        let incident_id = derived_v7(
            group.facts.first_ms,
            &[first.service.as_bytes(), first.alert_id.as_bytes()],
        );
        let now = ms_to_ts(group.facts.last_ms);
        let mut incident = Incident {
            incident_id,
            service: first.service.clone(),
            title: title(&group.lead),
            severity: group.lead.severity,
            status: IncidentStatus::Open,
            opened_at: now,
            updated_at: now,
            detected_at: None,
            resolved_at: None,
            resolved_by: None,
            alert_ids: group.alert_ids,
            evidence: group.evidence,
            restricted_team: config.restricted_teams.get(&first.service).cloned(),
            attention: Some(Attention {
                score: 0.0,
                parts: Default::default(),
                threshold: config.attention.threshold,
                sev: opsline_events::logs::SevLevel::Sev4,
                why: String::new(),
                started_at: ms_to_ts(group.facts.first_ms),
                alert_count: group.facts.alerts,
                evidence_count: group.evidence_count,
                lines: 0,
                templates: 0,
                services: Vec::new(),
                hosts: Vec::new(),
                host_count: 0,
                components: Vec::new(),
                component_count: 0,
                tickets: Vec::new(),
                ticket_count: 0,
                reopened: 0,
            }),
            postmortem: None,
            response: None,
        };
        self.facts.insert(incident_id, group.facts);
        self.refresh(&mut incident, config);
        self.open.push(incident.clone());
        incident
    }

    /// Writes score, parts, severity, reason and postmortem decision from the facts.
    fn refresh(&self, incident: &mut Incident, config: &IncidentConfig) {
        let Some(facts) = self.facts.get(&incident.incident_id) else {
            return;
        };
        let (total, parts) = score(facts);
        let sev = severity(facts, total, &config.attention);
        if let Some(attention) = incident.attention.as_mut() {
            attention.score = total;
            attention.parts = parts;
            attention.threshold = config.attention.threshold;
            attention.sev = sev;
            attention.why = why(facts);
            attention.lines = facts.lines;
            attention.templates = facts.template_count;
            attention.services.clone_from(&facts.services);
            attention.hosts = facts.hosts.iter().take(KEPT_ORIGINS).cloned().collect();
            attention.host_count = facts.host_count;
            attention.components = facts.components.iter().take(KEPT_ORIGINS).cloned().collect();
            attention.component_count = facts.component_count;
            attention.ticket_count = facts.tickets;
        }
        incident.severity = sev.severity();
        incident.postmortem = Some(decide(incident, facts, &config.postmortem));
    }

    fn remember(&mut self, incident: Incident) {
        self.recently_resolved.push(incident);
        if self.recently_resolved.len() > RECENT_RESOLVED {
            let excess = self.recently_resolved.len() - RECENT_RESOLVED;
            for old in self.recently_resolved.drain(..excess) {
                self.facts.remove(&old.incident_id);
            }
        }
    }
}

fn close(incident: &mut Incident, at: Timestamp, by: &str) {
    incident.status = IncidentStatus::Resolved;
    incident.resolved_at = Some(at);
    incident.resolved_by = Some(by.to_owned());
}

fn title(alert: &Alert) -> String {
    let what = match alert.kind {
        AlertKind::NewTemplate => "New log pattern",
        AlertKind::RateBurst => "Rate burst",
        AlertKind::ErrorSurge => "Error surge",
        AlertKind::Silence => "Silence",
        AlertKind::External => "Alert",
    };
    let template: String = alert.template.chars().take(100).collect();
    format!("{what} in {}: {template}", alert.service)
}

#[cfg(test)]
#[path = "incidents_tests.rs"]
mod tests;
