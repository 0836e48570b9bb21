//! Correlation: which alerts belong together.
//!
//! An alert joins, in this order:
//! 1. an open incident of its own service whose last signal is within `correlation_secs`;
//! 2. an open incident of another service within `correlation_secs` whose templates share
//!    content with the alert's (Jaccard similarity of their words at least `similarity`), or
//!    whose service is a configured dependency of the alert's (either direction);
//! 3. a recently resolved incident of its service with the same fingerprint (a template with
//!    shared content) resolved within `reopen_secs`, which it reopens, if the alert itself shows
//!    a problem (a recurring known problem updates its incident instead of opening a new one);
//! 4. a pending group of its service (signals not yet worth an incident) within
//!    `correlation_secs`;
//! 5. otherwise it starts a new pending group.
//!
//! Pending groups are kept bounded (`max_pending` per service) and dropped once quiet for
//! `correlation_secs`: signals that never added up stay signals (on the alerts topic).

use opsline_events::logs::{Alert, LogOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attention::{GroupFacts, Signal};
use crate::config::IncidentConfig;

/// Signals of one service that may still become an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingGroup {
    /// The first alert (the incident id is derived from it).
    pub first_alert: Alert,
    /// The strongest alert so far (the incident title is built from it).
    pub lead: Alert,
    /// Lead alert's strength, to compare with later ones.
    pub lead_rank: u8,
    /// What the signals add up to.
    pub facts: GroupFacts,
    /// Alert ids (the first ones).
    pub alert_ids: Vec<Uuid>,
    /// Evidence (the first lines).
    pub evidence: Vec<LogOffset>,
    /// Evidence lines in all.
    pub evidence_count: u64,
}

impl PendingGroup {
    /// A group holding `alert`.
    pub fn new(alert: &Alert, signal: &Signal, config: &IncidentConfig) -> Self {
        let mut group = Self {
            first_alert: slim(alert),
            lead: slim(alert),
            lead_rank: rank(signal),
            facts: GroupFacts::new(signal),
            alert_ids: vec![alert.alert_id],
            evidence: Vec::new(),
            evidence_count: 0,
        };
        group.evidence_count = add_evidence(&mut group.evidence, &alert.evidence, config.max_evidence);
        group
    }

    /// Adds `alert` (not yet in the group).
    pub fn add(&mut self, alert: &Alert, signal: &Signal, config: &IncidentConfig) {
        self.facts.add(signal);
        if self.alert_ids.len() < config.max_alert_ids.max(1) {
            self.alert_ids.push(alert.alert_id);
        }
        let added = add_evidence(&mut self.evidence, &alert.evidence, config.max_evidence);
        self.evidence_count = self.evidence_count.saturating_add(added);
        let strength = rank(signal);
        if strength > self.lead_rank {
            self.lead = slim(alert);
            self.lead_rank = strength;
        }
    }

    /// Whether `alert` at `now_ms` falls in this group's correlation window.
    pub fn in_window(&self, now_ms: i64, config: &IncidentConfig) -> bool {
        now_ms.saturating_sub(self.facts.last_ms) <= crate::detector::suppress::secs_to_ms(config.correlation_secs)
    }
}

/// How strongly a signal speaks for a problem (the title comes from the strongest one).
pub fn rank(signal: &Signal) -> u8 {
    let failure = u8::from(!crate::attention::failure_words(&signal.template).is_empty());
    signal.level * 4 + failure * 2 + signal.burst.min(1)
}

/// An alert without its samples and evidence (kept small in the snapshot).
fn slim(alert: &Alert) -> Alert {
    Alert {
        sample_lines: Vec::new(),
        evidence: Vec::new(),
        ..alert.clone()
    }
}

/// Appends the offsets of `more` not yet in `evidence`, up to `max`; returns how many were new.
pub fn add_evidence(evidence: &mut Vec<LogOffset>, more: &[LogOffset], max: usize) -> u64 {
    let mut added = 0;
    for offset in more {
        if evidence.contains(offset) {
            continue;
        }
        added += 1;
        if evidence.len() < max {
            evidence.push(offset.clone());
        }
    }
    added
}

/// Whether services `a` and `b` depend on each other in `config`.
pub fn dependent(a: &str, b: &str, config: &IncidentConfig) -> bool {
    let listed = |from: &str, to: &str| {
        config
            .attention
            .dependencies
            .get(from)
            .is_some_and(|deps| deps.iter().any(|d| d == to))
    };
    listed(a, b) || listed(b, a)
}
