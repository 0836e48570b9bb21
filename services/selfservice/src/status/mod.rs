//! Ticket and service status, materialized from the compacted ticket-state topic
//! (`ticket.state`, latest per ticket id) and the incidents topic (`incident`, latest
//! per incident id): rebuilt at start with `reader::read_until_idle`, then followed by a
//! group-less `opsline_kafka::TopicFollower` (manual assignment from the beginning, no
//! consumer group, no commits: every replica sees every partition, restarts leave nothing
//! on the broker).
//! Applying a record is an idempotent upsert (or a delete for a tombstone), so
//! replays are harmless. Status answers only show a user their own tickets.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use jiff::{SignedDuration, Timestamp};
use opsline_events::logs::{Incident, IncidentStatus};
use opsline_events::tickets::{TicketState, TicketStateChange};
use opsline_kafka::InRecord;
use uuid::Uuid;

use crate::metrics::StatusCounters;

mod aged;
mod limits;

use aged::{Aged, AgedMap};
pub use limits::StatusLimits;

/// Characters kept of a requester (an e-mail address has at most 254).
const MAX_REQUESTER_CHARS: usize = 320;

/// The materialized tickets and incidents, within [`StatusLimits`].
#[derive(Debug, Default)]
pub struct StatusBook {
    limits: StatusLimits,
    tickets: AgedMap<String, TicketStateChange>,
    /// Ticket ids per requester (ASCII-lowercased), oldest update first.
    by_requester: HashMap<String, BTreeSet<(Timestamp, String)>>,
    incidents: AgedMap<Uuid, Incident>,
    counters: StatusCounters,
}

/// The book shared by the follower and the chat handler.
pub type SharedStatus = Arc<RwLock<StatusBook>>;

impl Aged for TicketStateChange {
    fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    fn is_closed(&self) -> bool {
        matches!(self.state, TicketState::Resolved | TicketState::Closed)
    }
}

impl Aged for Incident {
    fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    fn is_closed(&self) -> bool {
        self.status == IncidentStatus::Resolved
    }
}

impl StatusBook {
    /// An empty book holding at most `limits`.
    pub fn new(limits: StatusLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The same book, counting its entries and evictions in `counters`.
    pub(crate) fn with_counters(mut self, counters: StatusCounters) -> Self {
        self.counters = counters;
        self
    }

    /// Applies one record of the ticket-state or incidents topic (other records are ignored).
    pub fn apply(&mut self, ticket_topic: &str, record: &InRecord) {
        self.apply_at(ticket_topic, record, Timestamp::now());
    }

    /// [`Self::apply`] with `now` as the clock that closed entries' retention is measured by.
    pub fn apply_at(&mut self, ticket_topic: &str, record: &InRecord, now: Timestamp) {
        let key = record.key.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        if record.topic == ticket_topic {
            match record.payload {
                None => self.remove_ticket(key.as_ref()),
                Some(_) => {
                    if let Ok(envelope) = record.envelope::<TicketStateChange>() {
                        self.upsert_ticket(envelope.data);
                    }
                }
            }
        } else if record.payload.is_none() {
            if let Ok(id) = Uuid::parse_str(&key) {
                self.incidents.remove(&id);
            }
        } else if let Ok(envelope) = record.envelope::<Incident>() {
            self.upsert_incident(envelope.data);
        }
        self.expire(now);
        self.counters.set_entries(self.tickets.len(), self.incidents.len());
    }

    fn upsert_ticket(&mut self, mut state: TicketStateChange) {
        let newer = self
            .tickets
            .get(&state.ticket_id)
            .is_none_or(|old| old.updated_at <= state.updated_at);
        if !newer {
            return;
        }
        limits::cut(&mut state.subject, self.limits.max_text_chars);
        // An identity is never cut to the text limit; only an absurd one (longer than any
        // e-mail address may be) is.
        limits::cut(&mut state.requester, MAX_REQUESTER_CHARS);
        let id = state.ticket_id.clone();
        let requester = state.requester.to_ascii_lowercase();
        let at = state.updated_at;
        self.remove_ticket(&id);
        self.tickets.insert(id.clone(), state);
        let theirs = self.by_requester.entry(requester).or_default();
        theirs.insert((at, id));
        let mut over: Vec<String> = Vec::new();
        while theirs.len() > self.limits.max_tickets_per_requester.max(1) {
            if let Some((_, oldest)) = theirs.pop_first() {
                over.push(oldest);
            }
        }
        for oldest in over {
            self.remove_ticket(&oldest);
            self.counters.evicted("ticket", "requester_cap");
        }
        while self.tickets.len() > self.limits.max_tickets.max(1) {
            let Some((_, evicted)) = self.tickets.evict_one() else {
                break;
            };
            self.forget_requester(&evicted);
            self.counters.evicted("ticket", "total_cap");
        }
    }

    fn remove_ticket(&mut self, id: &str) {
        if let Some(old) = self.tickets.remove(&id.to_owned()) {
            self.forget_requester(&old);
        }
    }

    fn forget_requester(&mut self, ticket: &TicketStateChange) {
        let requester = ticket.requester.to_ascii_lowercase();
        if let Some(theirs) = self.by_requester.get_mut(&requester) {
            theirs.remove(&(ticket.updated_at, ticket.ticket_id.clone()));
            if theirs.is_empty() {
                self.by_requester.remove(&requester);
            }
        }
    }

    fn upsert_incident(&mut self, mut incident: Incident) {
        let newer = self
            .incidents
            .get(&incident.incident_id)
            .is_none_or(|old| old.updated_at <= incident.updated_at || incident.status == IncidentStatus::Resolved);
        if !newer {
            return;
        }
        // Chat answers name the service, title, severity and times; the evidence lists are
        // not needed here.
        incident.alert_ids = Vec::new();
        incident.evidence = Vec::new();
        limits::cut(&mut incident.title, self.limits.max_text_chars);
        limits::cut(&mut incident.service, self.limits.max_text_chars);
        self.incidents.insert(incident.incident_id, incident);
        while self.incidents.len() > self.limits.max_incidents.max(1) {
            if self.incidents.evict_one().is_none() {
                break;
            }
            self.counters.evicted("incident", "total_cap");
        }
    }

    /// Evicts closed tickets and resolved incidents past their retention.
    fn expire(&mut self, now: Timestamp) {
        let days = i64::from(self.limits.closed_retention_days);
        let Ok(cutoff) = now.saturating_sub(SignedDuration::from_hours(days.saturating_mul(24))) else {
            return;
        };
        while let Some((_, ticket)) = self.tickets.expire_one(cutoff) {
            self.forget_requester(&ticket);
            self.counters.evicted("ticket", "retention");
        }
        while self.incidents.expire_one(cutoff).is_some() {
            self.counters.evicted("incident", "retention");
        }
    }

    /// The tickets whose requester is one of `identities` (case-insensitive), newest first.
    pub fn tickets_of(&self, identities: &[String]) -> Vec<TicketStateChange> {
        let requesters: BTreeSet<String> = identities.iter().map(|id| id.to_ascii_lowercase()).collect();
        let mut mine: Vec<TicketStateChange> = requesters
            .iter()
            .filter_map(|requester| self.by_requester.get(requester))
            .flatten()
            .filter_map(|(_, ticket_id)| self.tickets.get(ticket_id).cloned())
            .collect();
        mine.sort_by_key(|t| std::cmp::Reverse(t.updated_at));
        mine
    }

    /// Open (not resolved) incidents that a chat user may be told about, most recently
    /// updated first. An incident restricted to a team is never named in chat: the chat
    /// knows no one's team, so every chat user counts as outside it.
    pub fn open_incidents(&self) -> Vec<Incident> {
        let mut open: Vec<Incident> = self
            .incidents
            .values()
            .filter(|i| i.status != IncidentStatus::Resolved && i.restricted_team.is_none())
            .cloned()
            .collect();
        open.sort_by_key(|i| std::cmp::Reverse(i.updated_at));
        open
    }

    /// Every service named by a known unrestricted incident (open or resolved).
    pub fn known_services(&self) -> Vec<String> {
        let mut services: Vec<String> = self
            .incidents
            .values()
            .filter(|i| i.restricted_team.is_none())
            .map(|i| i.service.clone())
            .collect();
        services.sort();
        services.dedup();
        services
    }

    /// Numbers of tickets and incidents held.
    pub fn len(&self) -> (usize, usize) {
        (self.tickets.len(), self.incidents.len())
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.tickets.len() == 0 && self.incidents.len() == 0
    }

    /// Number of requesters with at least one ticket held.
    pub fn requesters(&self) -> usize {
        self.by_requester.len()
    }
}

/// A short UTC time for replies, e.g. `2026-11-23 10:21 UTC`.
pub fn short_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// Follows the ticket-state and incidents topics into the book (produces nothing).
pub(crate) struct StatusFollower {
    pub(crate) book: SharedStatus,
    pub(crate) ticket_topic: String,
}

impl StatusFollower {
    /// Applies one followed record to the book.
    pub(crate) fn apply(&self, record: &InRecord) {
        // Single-statement upserts: a panic elsewhere cannot leave the book half-updated.
        let mut book = self.book.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        book.apply(&self.ticket_topic, record);
    }
}

#[cfg(test)]
mod tests {
    use opsline_events::tickets::TicketState;
    use opsline_events::{Envelope, Event};

    use super::*;

    fn record(topic: &str, key: &str, payload: Option<Vec<u8>>) -> InRecord {
        InRecord {
            topic: topic.to_owned(),
            partition: 0,
            offset: 0,
            key: Some(key.as_bytes().to_vec()),
            payload,
            headers: Vec::new(),
            timestamp_ms: None,
        }
    }

    fn state(id: &str, requester: &str, state: TicketState, second: i64) -> Option<Vec<u8>> {
        let change = TicketStateChange {
            ticket_id: id.to_owned(),
            requester: requester.to_owned(),
            subject: "s".to_owned(),
            state,
            queue: None,
            updated_at: Timestamp::from_second(second).unwrap(),
        };
        Envelope::new("test", change).to_json().ok()
    }

    #[test]
    fn latest_state_per_ticket_own_tickets_only_and_tombstones() {
        let mut book = StatusBook::default();
        book.apply(
            "st",
            &record("st", "T-1", state("T-1", "Alice@Example.org", TicketState::Routed, 20)),
        );
        book.apply(
            "st",
            &record("st", "T-1", state("T-1", "alice@example.org", TicketState::New, 10)),
        );
        book.apply(
            "st",
            &record("st", "T-2", state("T-2", "bob@example.org", TicketState::New, 10)),
        );
        let mine = book.tickets_of(&["U1".to_owned(), "alice@example.org".to_owned()]);
        assert_eq!(mine.len(), 1);
        assert_eq!(
            mine[0].state,
            TicketState::Routed,
            "an older state does not overwrite a newer one"
        );
        book.apply("st", &record("st", "T-1", None));
        assert!(book.tickets_of(&["alice@example.org".to_owned()]).is_empty());

        let mut incident = Incident::sample();
        incident.status = IncidentStatus::Open;
        let key = incident.incident_id.to_string();
        book.apply(
            "st",
            &record("inc", &key, Envelope::new("test", incident.clone()).to_json().ok()),
        );
        assert_eq!(book.open_incidents().len(), 1);
        incident.status = IncidentStatus::Resolved;
        incident.updated_at = Timestamp::now();
        book.apply(
            "st",
            &record("inc", &key, Envelope::new("test", incident).to_json().ok()),
        );
        assert!(book.open_incidents().is_empty());
        assert_eq!(book.known_services(), ["hdfs"]);
    }

    /// #16 item 6: a restricted incident is never named in a chat status answer.
    #[test]
    fn console_and_api_restricted_incidents_never_named_in_chat_status_answers() {
        let mut book = StatusBook::default();
        let mut secret = Incident::sample();
        secret.status = IncidentStatus::Open;
        secret.service = "payroll".into();
        secret.restricted_team = Some("finance".into());
        let key = secret.incident_id.to_string();
        book.apply("st", &record("inc", &key, Envelope::new("test", secret).to_json().ok()));
        assert!(
            book.open_incidents().is_empty(),
            "a restricted incident was offered to chat"
        );
        assert!(book.known_services().is_empty(), "its service is not named either");
        let mut open = Incident::sample();
        open.status = IncidentStatus::Open;
        let key = open.incident_id.to_string();
        book.apply("st", &record("inc", &key, Envelope::new("test", open).to_json().ok()));
        assert_eq!(book.open_incidents().len(), 1);
    }

    fn limits() -> StatusLimits {
        StatusLimits {
            max_tickets: 5,
            max_tickets_per_requester: 2,
            max_incidents: 2,
            max_text_chars: 8,
            closed_retention_days: 1,
        }
    }

    /// #16 item 9: one requester cannot hold more than their cap, and the whole book keeps
    /// at most `max_tickets`, evicting closed tickets before open ones.
    #[test]
    fn bounded_memory_status_book_caps_requesters_and_tickets() {
        let mut book = StatusBook::new(limits());
        let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        for n in 0..10 {
            let id = format!("T-{n}");
            book.apply_at(
                "st",
                &record("st", &id, state(&id, "mallory@x", TicketState::New, 1_800_000_000 + n)),
                at(0),
            );
        }
        assert_eq!(book.len().0, 2, "one requester holds at most 2");
        let theirs: Vec<String> = book
            .tickets_of(&["MALLORY@x".to_owned()])
            .into_iter()
            .map(|t| t.ticket_id)
            .collect();
        assert_eq!(theirs, ["T-9", "T-8"], "the newest are kept");
        for n in 0..10 {
            let id = format!("U-{n}");
            let state_of = if n == 0 { TicketState::Closed } else { TicketState::New };
            book.apply_at(
                "st",
                &record(
                    "st",
                    &id,
                    state(&id, &format!("user{n}@x"), state_of, 1_800_000_100 + n),
                ),
                at(0),
            );
        }
        assert_eq!(book.len().0, 5, "at most max_tickets in all");
        assert!(book.requesters() <= 5, "no requester entry outlives its tickets");
        assert!(
            book.tickets_of(&["user0@x".to_owned()]).is_empty(),
            "the closed ticket went first"
        );
        assert_eq!(book.tickets_of(&["user9@x".to_owned()]).len(), 1);
    }

    /// #16 item 9: closed tickets and resolved incidents past the retention are evicted;
    /// long subjects and titles are cut; incidents are capped.
    #[test]
    fn bounded_memory_status_book_expires_closed_entries_and_cuts_text() {
        let mut book = StatusBook::new(limits());
        let day = 86_400;
        let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let old = state("T-1", "a@x", TicketState::Resolved, 1_800_000_000);
        book.apply_at("st", &record("st", "T-1", old), at(0));
        let open = state("T-2", "a@x", TicketState::InProgress, 1_800_000_000);
        book.apply_at("st", &record("st", "T-2", open), at(0));
        assert_eq!(book.len().0, 2);
        book.apply_at("st", &record("other", "x", None), at(2 * day));
        let kept: Vec<String> = book
            .tickets_of(&["a@x".to_owned()])
            .into_iter()
            .map(|t| t.ticket_id)
            .collect();
        assert_eq!(kept, ["T-2"], "an open ticket is never expired");

        for n in 0..4 {
            let mut incident = Incident::sample();
            incident.incident_id = Uuid::from_u128(n);
            incident.status = IncidentStatus::Open;
            incident.title = "a very long incident title".into();
            incident.updated_at = at(i64::try_from(n).unwrap());
            let key = incident.incident_id.to_string();
            book.apply_at(
                "st",
                &record("inc", &key, Envelope::new("test", incident).to_json().ok()),
                at(2 * day),
            );
        }
        assert_eq!(book.len().1, 2, "at most max_incidents");
        let titles: Vec<String> = book.open_incidents().into_iter().map(|i| i.title).collect();
        assert_eq!(titles, ["a very l…", "a very l…"]);
        assert!(
            book.open_incidents()
                .iter()
                .all(|i| i.alert_ids.is_empty() && i.evidence.is_empty())
        );
    }
}
