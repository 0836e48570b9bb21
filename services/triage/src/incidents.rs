//! The open incidents a ticket may be about, materialized from the incidents
//! (compacted) and alerts topics, and the rule that links a ticket to one.
//!
//! A ticket is linked to an open incident when the ticket's time falls in the
//! incident's window (`opened_at - before_secs` .. `updated_at + after_secs`) and
//! either the ticket names the incident's service (its `service` field or a whole
//! word of its text) or its text is similar enough to the incident's title and
//! alert templates. Among candidates the best score wins: naming the service
//! counts 1, plus the text similarity (share of the incident's terms in the ticket).
//!
//! The book is fed by [`IncidentFollower`], run by a group-less
//! `opsline_kafka::TopicFollower`: every replica reads the whole incidents topic
//! (compacted, kept forever) and what the alerts topic retains, from the beginning,
//! at every start, without a consumer group or offset commits. Applying a record is
//! an upsert (or a removal), so reading a record twice is harmless.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use opsline_events::logs::{Alert, Incident, IncidentStatus, Severity};
use opsline_kafka::InRecord;
use uuid::Uuid;

use crate::config::IncidentLinkConfig;
use crate::text::{coverage, mentions, terms};

/// The incident a ticket was linked to.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentLink {
    /// The incident.
    pub incident_id: Uuid,
    /// Its service.
    pub service: String,
    /// Its severity (raises the ticket's priority).
    pub severity: Severity,
    /// Text similarity with the incident's title and alert templates (0..1).
    pub similarity: f64,
}

/// Open incidents and recent alert templates, updated by the follower task.
#[derive(Debug, Default)]
pub struct IncidentBook {
    open: HashMap<Uuid, Incident>,
    templates: HashMap<Uuid, String>,
    template_order: VecDeque<Uuid>,
}

impl IncidentBook {
    /// Applies an incident state: open ones are kept, resolved ones forgotten.
    pub fn apply_incident(&mut self, incident: Incident) {
        match incident.status {
            IncidentStatus::Open => {
                self.open.insert(incident.incident_id, incident);
            }
            IncidentStatus::Resolved => {
                self.open.remove(&incident.incident_id);
            }
        }
    }

    /// Remembers an alert's template (the newest `max_alerts` are kept).
    pub fn apply_alert(&mut self, alert: &Alert, max_alerts: usize) {
        if self.templates.insert(alert.alert_id, alert.template.clone()).is_none() {
            self.template_order.push_back(alert.alert_id);
        }
        while self.template_order.len() > max_alerts.max(1) {
            if let Some(old) = self.template_order.pop_front() {
                self.templates.remove(&old);
            }
        }
    }

    /// Number of open incidents.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Whether `id` is a known open incident.
    pub fn is_open(&self, id: Uuid) -> bool {
        self.open.contains_key(&id)
    }

    /// The open incident a ticket is about, if any. An incident restricted to a team is never
    /// linked: a ticket's requester has no known team, so the link (which names the incident
    /// on the requester's ticket and in its status answers) would show it outside the team.
    pub fn link(
        &self,
        text: &str,
        service: Option<&str>,
        at: Timestamp,
        config: &IncidentLinkConfig,
    ) -> Option<IncidentLink> {
        let ticket_terms = terms(text);
        let before = i64::try_from(config.before_secs).unwrap_or(i64::MAX);
        let after = i64::try_from(config.after_secs).unwrap_or(i64::MAX);
        let mut best: Option<(f64, IncidentLink)> = None;
        for incident in self.open.values().filter(|i| i.restricted_team.is_none()) {
            let start = incident.opened_at.as_second().saturating_sub(before);
            let end = incident.updated_at.as_second().saturating_add(after);
            if at.as_second() < start || at.as_second() > end {
                continue;
            }
            let names_service =
                service.is_some_and(|s| s.eq_ignore_ascii_case(&incident.service)) || mentions(text, &incident.service);
            let similarity = coverage(&self.incident_terms(incident), &ticket_terms);
            if !names_service && similarity < config.min_similarity_without_service {
                continue;
            }
            let score = f64::from(u8::from(names_service)) + similarity;
            let better = best
                .as_ref()
                .is_none_or(|(s, link)| score > *s || (score == *s && incident.incident_id < link.incident_id));
            if better {
                best = Some((
                    score,
                    IncidentLink {
                        incident_id: incident.incident_id,
                        service: incident.service.clone(),
                        severity: incident.severity,
                        similarity,
                    },
                ));
            }
        }
        best.map(|(_, link)| link)
    }

    fn incident_terms(&self, incident: &Incident) -> BTreeSet<String> {
        let mut text = incident.title.clone();
        for id in &incident.alert_ids {
            if let Some(template) = self.templates.get(id) {
                text.push(' ');
                text.push_str(template);
            }
        }
        terms(&text)
            .into_iter()
            .filter(|t| t != &incident.service.to_lowercase())
            .collect()
    }
}

/// The incident book shared by the follower (writer) and the ticket processor (reader).
pub type SharedBook = Arc<RwLock<IncidentBook>>;

/// Applies records of the incidents and alerts topics to the book; records it cannot
/// read are skipped (they belong to another service's schema version).
#[derive(Debug, Clone)]
pub struct IncidentFollower {
    /// The book written to.
    pub book: SharedBook,
    /// Full name of the incidents topic.
    pub incidents_topic: String,
    /// Full name of the alerts topic.
    pub alerts_topic: String,
    /// Alert templates remembered.
    pub max_alerts: usize,
}

impl IncidentFollower {
    /// Applies one record (other topics are ignored).
    pub fn apply(&self, record: &InRecord) {
        // Single-statement updates: a panic elsewhere cannot leave the book half-updated.
        let mut book = self.book.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if record.topic == self.incidents_topic {
            match record.envelope::<Incident>() {
                Ok(envelope) => book.apply_incident(envelope.data),
                Err(error) => tracing::debug!(%error, "unreadable incident skipped"),
            }
        } else if record.topic == self.alerts_topic {
            match record.envelope::<Alert>() {
                Ok(envelope) => book.apply_alert(&envelope.data, self.max_alerts),
                Err(error) => tracing::debug!(%error, "unreadable alert skipped"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(service: &str, title: &str, opened: i64, status: IncidentStatus) -> Incident {
        let mut i = <Incident as opsline_events::Event>::sample();
        i.incident_id = Uuid::now_v7();
        i.service = service.into();
        i.title = title.into();
        i.status = status;
        i.severity = Severity::Critical;
        i.opened_at = Timestamp::from_second(opened).unwrap();
        i.updated_at = Timestamp::from_second(opened + 60).unwrap();
        i.alert_ids.clear();
        i
    }

    #[test]
    fn links_on_service_and_window() {
        let mut book = IncidentBook::default();
        let open = incident("vpn", "Error surge in vpn: tunnel reset", 10_000, IncidentStatus::Open);
        let id = open.incident_id;
        book.apply_incident(open);
        let config = IncidentLinkConfig::default();
        let at = Timestamp::from_second(10_500).unwrap();
        let link = book.link("My VPN keeps dropping", None, at, &config).unwrap();
        assert_eq!(link.incident_id, id);
        // Outside the window: no link.
        let late = Timestamp::from_second(10_000 + 60 + 6 * 3600 + 1).unwrap();
        assert!(book.link("My VPN keeps dropping", None, late, &config).is_none());
        // Another service: no link.
        assert!(book.link("Printer jammed", None, at, &config).is_none());
    }

    /// #16 item 6: a restricted incident is never linked to a ticket of someone outside its
    /// team (and a requester's team is unknown).
    #[test]
    fn console_and_api_restricted_incidents_never_linked_to_tickets() {
        let mut book = IncidentBook::default();
        let mut secret = incident("vpn", "Error surge in vpn: tunnel reset", 10_000, IncidentStatus::Open);
        secret.restricted_team = Some("finance".into());
        book.apply_incident(secret);
        let at = Timestamp::from_second(10_500).unwrap();
        let config = IncidentLinkConfig::default();
        assert!(book.link("My VPN keeps dropping", Some("vpn"), at, &config).is_none());
        let open = incident("vpn", "Error surge in vpn: tunnel reset", 10_000, IncidentStatus::Open);
        let id = open.incident_id;
        book.apply_incident(open);
        assert_eq!(
            book.link("My VPN keeps dropping", Some("vpn"), at, &config)
                .map(|l| l.incident_id),
            Some(id)
        );
    }

    #[test]
    fn resolved_incidents_are_forgotten() {
        let mut book = IncidentBook::default();
        let mut i = incident("vpn", "Error surge in vpn", 10_000, IncidentStatus::Open);
        book.apply_incident(i.clone());
        assert_eq!(book.open_count(), 1);
        i.status = IncidentStatus::Resolved;
        book.apply_incident(i);
        assert_eq!(book.open_count(), 0);
    }

    #[test]
    fn similar_text_links_without_service_name() {
        let mut book = IncidentBook::default();
        let mut i = incident("hdfs", "Error surge in hdfs", 10_000, IncidentStatus::Open);
        let mut alert = <Alert as opsline_events::Event>::sample();
        alert.template = "Exception in receiveBlock for block <*>".into();
        i.alert_ids = vec![alert.alert_id];
        book.apply_alert(&alert, 10);
        book.apply_incident(i);
        let at = Timestamp::from_second(10_100).unwrap();
        let text = "receiveBlock exception error surge on block storage";
        assert!(book.link(text, None, at, &IncidentLinkConfig::default()).is_some());
    }
}
