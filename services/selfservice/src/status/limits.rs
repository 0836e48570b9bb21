//! The bounds of the status book (hardening issue, item 9): however many tickets, requesters
//! and incidents the followed topics hold, the book keeps at most these, and evicts the
//! least useful entries first (closed before open, oldest before newest).

use serde::{Deserialize, Serialize};

/// Caps of the materialized ticket and incident state (`[status]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusLimits {
    /// Tickets held in all; past it the oldest closed (else the oldest) ticket is evicted.
    pub max_tickets: usize,
    /// Tickets held per requester (a chat answer shows at most five); past it the
    /// requester's least recently updated ticket is evicted.
    pub max_tickets_per_requester: usize,
    /// Incidents held; past it the oldest resolved (else the oldest) incident is evicted.
    pub max_incidents: usize,
    /// Characters kept of a ticket subject or an incident title (longer ones are cut).
    pub max_text_chars: usize,
    /// Closed or resolved tickets and resolved incidents not updated for this many days are
    /// evicted.
    pub closed_retention_days: u32,
}

impl Default for StatusLimits {
    fn default() -> Self {
        Self {
            max_tickets: 100_000,
            max_tickets_per_requester: 50,
            max_incidents: 10_000,
            max_text_chars: 200,
            closed_retention_days: 30,
        }
    }
}

/// `text` cut to `max` characters (with an ellipsis when cut).
pub(crate) fn cut(text: &mut String, max: usize) {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
        text.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_text_and_cuts_on_a_character_boundary() {
        let mut short = "ok".to_owned();
        cut(&mut short, 5);
        assert_eq!(short, "ok");
        let mut long = "ééééééé".to_owned();
        cut(&mut long, 3);
        assert_eq!(long, "ééé…");
    }
}
