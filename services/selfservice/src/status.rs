//! Ticket and service status, materialized from the compacted ticket-state topic
//! (`ticket.state`, latest per ticket id) and the incidents topic (`incident`, latest
//! per incident id): rebuilt at start with `reader::read_until_idle`, then followed by a
//! group-less `opsline_kafka::TopicFollower` (manual assignment from the beginning, no
//! consumer group, no commits: every replica sees every partition, restarts leave nothing
//! on the broker).
//! Applying a record is an idempotent upsert (or a delete for a tombstone), so
//! replays are harmless. Status answers only show a user their own tickets.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use opsline_events::logs::{Incident, IncidentStatus};
use opsline_events::tickets::TicketStateChange;
use opsline_kafka::InRecord;
use uuid::Uuid;

/// The materialized tickets and incidents.
#[derive(Debug, Default)]
pub struct StatusBook {
    tickets: HashMap<String, TicketStateChange>,
    incidents: HashMap<Uuid, Incident>,
}

/// The book shared by the follower and the chat handler.
pub type SharedStatus = Arc<RwLock<StatusBook>>;

impl StatusBook {
    /// Applies one record of the ticket-state or incidents topic (other records are ignored).
    pub fn apply(&mut self, ticket_topic: &str, record: &InRecord) {
        let key = record.key.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        if record.topic == ticket_topic {
            match record.payload {
                None => {
                    self.tickets.remove(key.as_ref());
                }
                Some(_) => {
                    if let Ok(envelope) = record.envelope::<TicketStateChange>() {
                        let state = envelope.data;
                        let newer = self
                            .tickets
                            .get(&state.ticket_id)
                            .is_none_or(|old| old.updated_at <= state.updated_at);
                        if newer {
                            self.tickets.insert(state.ticket_id.clone(), state);
                        }
                    }
                }
            }
        } else if record.payload.is_none() {
            if let Ok(id) = Uuid::parse_str(&key) {
                self.incidents.remove(&id);
            }
        } else if let Ok(envelope) = record.envelope::<Incident>() {
            let incident = envelope.data;
            let newer = self
                .incidents
                .get(&incident.incident_id)
                .is_none_or(|old| old.updated_at <= incident.updated_at || incident.status == IncidentStatus::Resolved);
            if newer {
                self.incidents.insert(incident.incident_id, incident);
            }
        }
    }

    /// The tickets whose requester is one of `identities` (case-insensitive), newest first.
    pub fn tickets_of(&self, identities: &[String]) -> Vec<TicketStateChange> {
        let mut mine: Vec<TicketStateChange> = self
            .tickets
            .values()
            .filter(|t| identities.iter().any(|id| id.eq_ignore_ascii_case(&t.requester)))
            .cloned()
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
        self.tickets.is_empty() && self.incidents.is_empty()
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
}
