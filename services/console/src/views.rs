//! The console's in-memory views, followed from the incidents (compacted), alerts, routed and
//! triaged tickets, LLM usage and self-service audit topics by a group-less follower: every replica reads them whole from the
//! beginning, so applying a record is an upsert and reading one twice is harmless.
//!
//! Bounded: at most `max_incidents` incidents (beyond it the resolved incident updated
//! longest ago is forgotten, open ones last), `max_alerts` alerts, `max_tickets` routed tickets
//! and as many triage decisions (the latest per ticket, without the ticket's text),
//! `max_llm_calls` LLM usage records and `max_audit_events` self-service audit events (oldest
//! first; an audit event is kept once per `action_id`, an LLM call once per `call_id`). A ticket keeps its highest revision (a replay may repeat revision 1 after
//! revision 2). A service is "restricted" to a team once one of its incidents is, and its
//! alerts are then shown only to that team, like the incidents.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use jiff::Timestamp;
use opsline_events::logs::{Alert, Incident, IncidentStatus};
use opsline_events::ops::{LlmUsage, SelfServiceAction};
use opsline_events::tickets::{RoutedTicket, TriagedTicket};
use opsline_kafka::InRecord;
use tokio::sync::watch;
use uuid::Uuid;

/// Limits of the views.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Incidents kept.
    pub incidents: usize,
    /// Alerts kept.
    pub alerts: usize,
    /// Tickets kept.
    pub tickets: usize,
    /// LLM usage records kept.
    pub llm_calls: usize,
    /// Self-service audit events kept.
    pub audit_events: usize,
}

/// A routed ticket as the console keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEntry {
    /// Its highest revision.
    pub ticket: RoutedTicket,
    /// When its first revision seen was produced (the envelope's `occurred_at`).
    pub routed_at: Timestamp,
    /// When its highest revision was produced.
    pub updated_at: Timestamp,
}

/// The views themselves.
#[derive(Debug, Default)]
pub struct Views {
    incidents: HashMap<Uuid, Incident>,
    alerts: HashMap<Uuid, Alert>,
    alert_order: VecDeque<Uuid>,
    tickets: HashMap<String, TicketEntry>,
    ticket_order: VecDeque<String>,
    restricted_services: HashMap<String, String>,
    llm_calls: HashMap<Uuid, LlmUsage>,
    llm_order: VecDeque<Uuid>,
    audit: HashMap<Uuid, SelfServiceAction>,
    audit_order: VecDeque<Uuid>,
    triaged: HashMap<String, TriagedTicket>,
    triaged_order: VecDeque<String>,
}

/// Inserts `value` under `id` once (a replay is an upsert), forgetting the oldest beyond `limit`.
fn keep_bounded<K: Hash + Eq + Clone, T>(
    map: &mut HashMap<K, T>,
    order: &mut VecDeque<K>,
    id: K,
    value: T,
    limit: usize,
) {
    if map.insert(id.clone(), value).is_none() {
        order.push_back(id);
    }
    while order.len() > limit.max(1) {
        if let Some(old) = order.pop_front() {
            map.remove(&old);
        }
    }
}

impl Views {
    /// Applies an incident state (upsert); forgets the oldest resolved beyond `limit`.
    pub fn apply_incident(&mut self, incident: Incident, limit: usize) {
        if let Some(team) = &incident.restricted_team {
            self.restricted_services.insert(incident.service.clone(), team.clone());
        }
        self.incidents.insert(incident.incident_id, incident);
        while self.incidents.len() > limit.max(1) {
            let oldest = self
                .incidents
                .values()
                .min_by_key(|i| (i.status == IncidentStatus::Open, i.updated_at, i.incident_id))
                .map(|i| i.incident_id);
            match oldest {
                Some(id) => {
                    self.incidents.remove(&id);
                }
                None => break,
            }
        }
    }

    /// Applies an alert (kept once per id); forgets the oldest beyond `limit`.
    pub fn apply_alert(&mut self, alert: Alert, limit: usize) {
        let id = alert.alert_id;
        keep_bounded(&mut self.alerts, &mut self.alert_order, id, alert, limit);
    }

    /// Applies an LLM usage record (kept once per `call_id`, without its prompt); forgets the
    /// oldest beyond `limit`.
    pub fn apply_llm_usage(&mut self, mut usage: LlmUsage, limit: usize) {
        usage.prompt = String::new();
        let id = usage.call_id;
        keep_bounded(&mut self.llm_calls, &mut self.llm_order, id, usage, limit);
    }

    /// Applies a self-service audit event (kept once per `action_id`); forgets the oldest
    /// beyond `limit`.
    pub fn apply_audit(&mut self, action: SelfServiceAction, limit: usize) {
        let id = action.action_id;
        keep_bounded(&mut self.audit, &mut self.audit_order, id, action, limit);
    }

    /// Applies a triage decision (the latest per ticket is kept, without the ticket's text);
    /// forgets the oldest ticket beyond `limit`.
    pub fn apply_triaged(&mut self, mut ticket: TriagedTicket, limit: usize) {
        ticket.redacted_subject = String::new();
        ticket.redacted_description = String::new();
        let id = ticket.ticket_id.clone();
        keep_bounded(&mut self.triaged, &mut self.triaged_order, id, ticket, limit);
    }

    /// The latest triage decision of every ticket kept.
    pub fn triaged(&self) -> impl Iterator<Item = &TriagedTicket> {
        self.triaged.values()
    }

    /// Every LLM usage record kept.
    pub fn llm_calls(&self) -> impl Iterator<Item = &LlmUsage> {
        self.llm_calls.values()
    }

    /// Every self-service audit event kept.
    pub fn audit_events(&self) -> impl Iterator<Item = &SelfServiceAction> {
        self.audit.values()
    }

    /// Applies a routed ticket revision produced at `at`: the highest revision is kept.
    pub fn apply_ticket(&mut self, ticket: RoutedTicket, at: Timestamp, limit: usize) {
        match self.tickets.get_mut(&ticket.ticket_id) {
            Some(entry) => {
                if ticket.revision >= entry.ticket.revision {
                    entry.ticket = ticket;
                    entry.updated_at = entry.updated_at.max(at);
                }
                entry.routed_at = entry.routed_at.min(at);
            }
            None => {
                self.ticket_order.push_back(ticket.ticket_id.clone());
                self.tickets.insert(
                    ticket.ticket_id.clone(),
                    TicketEntry {
                        ticket,
                        routed_at: at,
                        updated_at: at,
                    },
                );
            }
        }
        while self.ticket_order.len() > limit.max(1) {
            if let Some(old) = self.ticket_order.pop_front() {
                self.tickets.remove(&old);
            }
        }
    }

    /// Every incident kept.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }

    /// One incident.
    pub fn incident(&self, id: Uuid) -> Option<&Incident> {
        self.incidents.get(&id)
    }

    /// Every alert kept.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// One alert.
    pub fn alert(&self, id: Uuid) -> Option<&Alert> {
        self.alerts.get(&id)
    }

    /// Every ticket kept.
    pub fn tickets(&self) -> impl Iterator<Item = &TicketEntry> {
        self.tickets.values()
    }

    /// One ticket.
    pub fn ticket(&self, id: &str) -> Option<&TicketEntry> {
        self.tickets.get(id)
    }

    /// The team a service's records are restricted to, if any.
    pub fn restricted_team(&self, service: &str) -> Option<&str> {
        self.restricted_services.get(service).map(String::as_str)
    }

    /// Tickets linked to incident `id`: those routed with it, and those the incident lists.
    pub fn tickets_of(&self, incident: &Incident) -> Vec<&TicketEntry> {
        let listed = incident
            .attention
            .as_ref()
            .map(|a| a.tickets.as_slice())
            .unwrap_or_default();
        let mut out: Vec<&TicketEntry> = self
            .tickets
            .values()
            .filter(|t| t.ticket.incident_id == Some(incident.incident_id) || listed.contains(&t.ticket.ticket_id))
            .collect();
        out.sort_by(|a, b| {
            a.routed_at
                .cmp(&b.routed_at)
                .then(a.ticket.ticket_id.cmp(&b.ticket.ticket_id))
        });
        out
    }

    /// Every queue seen on a routed ticket, sorted.
    pub fn queues(&self) -> Vec<String> {
        let mut queues: Vec<String> = self.tickets.values().map(|t| t.ticket.queue.clone()).collect();
        queues.sort();
        queues.dedup();
        queues
    }

    /// Counts: (incidents, alerts, tickets).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.incidents.len(), self.alerts.len(), self.tickets.len())
    }
}

/// The views shared by the follower (writer) and the handlers (readers), with a change
/// counter that actions wait on.
#[derive(Debug, Clone)]
pub struct SharedViews {
    views: Arc<RwLock<Views>>,
    changes: watch::Sender<u64>,
    limits: Limits,
}

impl SharedViews {
    /// Empty views with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            views: Arc::default(),
            changes: watch::Sender::new(0),
            limits,
        }
    }

    /// Reads the views.
    pub fn read(&self) -> RwLockReadGuard<'_, Views> {
        self.views.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the views with `change` and wakes the waiters.
    pub fn update(&self, change: impl FnOnce(&mut Views, &Limits)) {
        {
            let mut views = self.views.write().unwrap_or_else(PoisonError::into_inner);
            change(&mut views, &self.limits);
        }
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Waits (at most `max`) until `check` holds on the views; whether it did.
    pub async fn wait_until(&self, max: std::time::Duration, check: impl Fn(&Views) -> bool) -> bool {
        let mut changes = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + max;
        loop {
            if check(&self.read()) {
                return true;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return check(&self.read()),
            }
        }
    }
}

/// Applies records of the followed topics to the views; records it cannot read are skipped
/// (another schema version), never fatal.
#[derive(Debug, Clone)]
pub struct ViewFollower {
    /// The views written to.
    pub views: SharedViews,
    /// Full name of the incidents topic.
    pub incidents_topic: String,
    /// Full name of the alerts topic.
    pub alerts_topic: String,
    /// Full name of the routed tickets topic.
    pub routed_topic: String,
    /// Full name of the triaged tickets topic.
    pub triaged_topic: String,
    /// Full name of the LLM usage topic.
    pub llm_usage_topic: String,
    /// Full name of the self-service audit topic.
    pub audit_topic: String,
}

impl ViewFollower {
    /// Applies one record (other topics are ignored).
    pub fn apply(&self, record: &InRecord) {
        if record.topic == self.incidents_topic {
            match record.envelope::<Incident>() {
                Ok(envelope) => self
                    .views
                    .update(|v, limits| v.apply_incident(envelope.data, limits.incidents)),
                Err(error) => tracing::debug!(%error, "unreadable incident skipped"),
            }
        } else if record.topic == self.alerts_topic {
            match record.envelope::<Alert>() {
                Ok(envelope) => self
                    .views
                    .update(|v, limits| v.apply_alert(envelope.data, limits.alerts)),
                Err(error) => tracing::debug!(%error, "unreadable alert skipped"),
            }
        } else if record.topic == self.routed_topic {
            match record.envelope::<RoutedTicket>() {
                Ok(envelope) => {
                    let at = envelope.occurred_at;
                    self.views
                        .update(|v, limits| v.apply_ticket(envelope.data, at, limits.tickets));
                }
                Err(error) => tracing::debug!(%error, "unreadable routed ticket skipped"),
            }
        } else if record.topic == self.triaged_topic {
            match record.envelope::<TriagedTicket>() {
                Ok(envelope) => self
                    .views
                    .update(|v, limits| v.apply_triaged(envelope.data, limits.tickets)),
                Err(error) => tracing::debug!(%error, "unreadable triaged ticket skipped"),
            }
        } else if record.topic == self.llm_usage_topic {
            match record.envelope::<LlmUsage>() {
                Ok(envelope) => self
                    .views
                    .update(|v, limits| v.apply_llm_usage(envelope.data, limits.llm_calls)),
                Err(error) => tracing::debug!(%error, "unreadable LLM usage skipped"),
            }
        } else if record.topic == self.audit_topic {
            match record.envelope::<SelfServiceAction>() {
                Ok(envelope) => self
                    .views
                    .update(|v, limits| v.apply_audit(envelope.data, limits.audit_events)),
                Err(error) => tracing::debug!(%error, "unreadable self-service audit event skipped"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use opsline_events::Event;

    use super::*;

    fn incident(status: IncidentStatus, updated: i64) -> Incident {
        let mut i = Incident::sample();
        i.incident_id = Uuid::now_v7();
        i.status = status;
        i.updated_at = Timestamp::from_second(updated).unwrap();
        i
    }

    #[test]
    fn forgets_the_oldest_resolved_incident_first() {
        let mut views = Views::default();
        let open_old = incident(IncidentStatus::Open, 10);
        let resolved_old = incident(IncidentStatus::Resolved, 20);
        let resolved_new = incident(IncidentStatus::Resolved, 30);
        views.apply_incident(open_old.clone(), 2);
        views.apply_incident(resolved_old.clone(), 2);
        views.apply_incident(resolved_new.clone(), 2);
        assert!(views.incident(open_old.incident_id).is_some());
        assert!(views.incident(resolved_old.incident_id).is_none());
        assert!(views.incident(resolved_new.incident_id).is_some());
    }

    #[test]
    fn keeps_the_highest_ticket_revision() {
        let mut views = Views::default();
        let mut t = RoutedTicket::sample();
        t.revision = 2;
        t.queue = "Network".into();
        let at = Timestamp::from_second(100).unwrap();
        views.apply_ticket(t.clone(), at, 10);
        let mut replayed = t.clone();
        replayed.revision = 1;
        replayed.queue = "Hardware".into();
        views.apply_ticket(replayed, Timestamp::from_second(50).unwrap(), 10);
        let entry = views.ticket(&t.ticket_id).unwrap();
        assert_eq!(entry.ticket.queue, "Network");
        assert_eq!(entry.routed_at.as_second(), 50);
        assert_eq!(views.queues(), vec!["Network".to_owned()]);
    }

    #[test]
    fn alerts_are_bounded_and_restricted_services_remembered() {
        let mut views = Views::default();
        for _ in 0..5 {
            let mut a = Alert::sample();
            a.alert_id = Uuid::now_v7();
            views.apply_alert(a, 3);
        }
        assert_eq!(views.counts().1, 3);
        let mut i = incident(IncidentStatus::Open, 1);
        i.restricted_team = Some("payments".into());
        views.apply_incident(i.clone(), 10);
        assert_eq!(views.restricted_team(&i.service), Some("payments"));
    }

    #[test]
    fn llm_calls_and_audit_events_are_bounded_and_kept_once() {
        let mut views = Views::default();
        let first = LlmUsage {
            call_id: Uuid::now_v7(),
            prompt: "a long prompt".into(),
            ..LlmUsage::sample()
        };
        views.apply_llm_usage(first.clone(), 2);
        views.apply_llm_usage(first.clone(), 2);
        assert_eq!(views.llm_calls().count(), 1, "a replay is kept once");
        assert!(views.llm_calls().all(|c| c.prompt.is_empty()), "prompts are not kept");
        for _ in 0..3 {
            let call = LlmUsage {
                call_id: Uuid::now_v7(),
                ..LlmUsage::sample()
            };
            views.apply_llm_usage(call, 2);
        }
        assert_eq!(views.llm_calls().count(), 2);
        assert!(
            views.llm_calls().all(|c| c.call_id != first.call_id),
            "the oldest is forgotten"
        );
        let action = SelfServiceAction {
            action_id: Uuid::now_v7(),
            ..SelfServiceAction::sample()
        };
        views.apply_audit(action.clone(), 5);
        views.apply_audit(action, 5);
        assert_eq!(views.audit_events().count(), 1);
        let mut triaged = TriagedTicket::sample();
        triaged.disposition = opsline_events::tickets::Disposition::HumanReview;
        views.apply_triaged(triaged.clone(), 5);
        triaged.disposition = opsline_events::tickets::Disposition::AutoRouted;
        views.apply_triaged(triaged, 5);
        let kept: Vec<_> = views.triaged().collect();
        assert_eq!(kept.len(), 1, "one decision per ticket");
        assert_eq!(
            kept[0].disposition,
            opsline_events::tickets::Disposition::AutoRouted,
            "the latest"
        );
        assert!(kept[0].redacted_description.is_empty(), "the text is not kept");
    }

    #[tokio::test]
    async fn waiters_see_changes() {
        let shared = SharedViews::new(Limits {
            incidents: 10,
            alerts: 10,
            tickets: 10,
            llm_calls: 10,
            audit_events: 10,
        });
        let i = incident(IncidentStatus::Open, 1);
        let id = i.incident_id;
        let writer = shared.clone();
        tokio::spawn(async move {
            writer.update(|v, l| v.apply_incident(i, l.incidents));
        });
        assert!(
            shared
                .wait_until(std::time::Duration::from_secs(10), |v| v.incident(id).is_some())
                .await
        );
    }
}
