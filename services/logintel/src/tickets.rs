//! Linked helpdesk tickets: triage links a ticket to an open incident (`incident_id` on the
//! triaged ticket); the log service follows the triaged-tickets topic and raises that
//! incident's attention score (users noticed), publishing its new state.
//!
//! # Delivery guarantee
//!
//! Every replica follows the whole topic from its beginning at each start (a group-less
//! follower), and linking is idempotent (a ticket counts once per incident), so a restart
//! re-links everything. The new incident state is enqueued on the producer without waiting:
//! if it is lost, the incident's next change or snapshot carries the link.

use opsline_events::tickets::TriagedTicket;
use opsline_kafka::{InRecord, Producer};

use crate::engine::Outputs;
use crate::processor::{SharedState, Topics, encode_outputs, lock};

/// Applies followed triaged tickets to the incidents they are linked to.
pub(crate) struct TicketLinker {
    pub(crate) shared: SharedState,
    pub(crate) producer: Producer,
    pub(crate) topics: Topics,
}

impl TicketLinker {
    /// One followed record: links its ticket when it names an incident this replica knows.
    pub(crate) fn apply(&self, record: &InRecord) {
        let Ok(envelope) = record.envelope::<TriagedTicket>() else {
            tracing::debug!(offset = record.offset, "skipping a record that is not a triaged ticket");
            return;
        };
        let ticket = envelope.data;
        let Some(incident_id) = ticket.incident_id else { return };
        let linked = lock(&self.shared)
            .engine
            .on_ticket_linked(incident_id, &ticket.ticket_id);
        let Some(incident) = linked else { return };
        let outputs = Outputs {
            incidents: vec![incident],
            ..Outputs::default()
        };
        match encode_outputs(&outputs, &self.topics) {
            Ok(records) => {
                for out in &records {
                    if let Err(error) = self.producer.enqueue(out) {
                        tracing::warn!(%error, %incident_id, "linked-ticket update not enqueued; the next change carries it");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, %incident_id, "cannot encode the linked incident"),
        }
    }
}
