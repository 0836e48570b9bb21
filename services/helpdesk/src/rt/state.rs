//! What Opsline keeps on each RT ticket, and the pure write-back decision.
//!
//! RT comments are immutable transactions, so Opsline's note lives in a **custom field**
//! (`rt.note_field`, Text, one value) that every later revision overwrites in place, plus
//! **at most one private comment** (posted with the first revision applied, so the ticket's
//! history shows when Opsline routed it). The state custom field (`rt.state_field`, Freeform,
//! one value) holds [`RtState`] as JSON: the highest revision applied (a replay of an older
//! one is ignored), the queue Opsline put the ticket in (a different current queue means a
//! person moved it: Opsline never moves it again), whether the comment was posted, and the
//! last queue a person chose that was reported as feedback.

use opsline_events::tickets::RoutedTicket;
use serde::{Deserialize, Serialize};

use crate::config::RtConfig;
use crate::rt::client::RtTicket;

/// Opsline's state on one RT ticket (the state custom field, JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RtState {
    /// The highest routed revision applied (0: only taken in).
    #[serde(default)]
    pub revision: u32,
    /// The RT queue Opsline put (or left) the ticket in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The routing confidence of the applied revision.
    #[serde(default)]
    pub confidence: f64,
    /// Whether Opsline's one comment was posted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub commented: bool,
    /// The last RT queue a person chose, already published as feedback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human: Option<String>,
}

impl RtState {
    /// The state in the custom field's `value` (none yet: the default). A value that is not
    /// Opsline's JSON counts as "commented" so a damaged field never causes a second comment.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            None => Self::default(),
            Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Self {
                commented: true,
                ..Self::default()
            }),
        }
    }

    /// The custom field's value.
    pub fn to_value(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether a person moved the ticket away from where Opsline put it (or, before Opsline
    /// routed it, out of the triage queue).
    pub fn moved_by_person(&self, current_queue: &str, triage_queue: &str) -> bool {
        self.human.is_some() || current_queue != self.queue.as_deref().unwrap_or(triage_queue)
    }
}

/// What to do with one routed revision.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The ticket already has this revision or a later one.
    Stale,
    /// Apply it.
    Apply(Plan),
}

/// The update of one revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The RT queue to move the ticket to (none: leave it).
    pub move_to: Option<String>,
    /// Where the ticket is, in words, for the note.
    pub placement: String,
    /// The state to write.
    pub state: RtState,
    /// Whether Opsline's one comment is still to be posted.
    pub comment: bool,
}

/// The decision for revision `ticket` on RT ticket `current` in `state`.
pub fn decide(config: &RtConfig, ticket: &RoutedTicket, current: &RtTicket, state: &RtState) -> Decision {
    if state.revision >= ticket.revision {
        return Decision::Stale;
    }
    let triage = config.triage_queue.as_str();
    let confident = ticket.confidence >= config.min_confidence;
    let target = if confident {
        config.rt_queue(&ticket.queue).to_owned()
    } else {
        triage.to_owned()
    };
    let (move_to, placement, queue) = if state.moved_by_person(&current.queue, triage) {
        (
            None,
            format!("left in {}, where a person put it", current.queue),
            state.queue.clone(),
        )
    } else if !confident {
        (
            None,
            format!("stays in {triage}: confidence below {:.2}", config.min_confidence),
            Some(target.clone()),
        )
    } else if current.queue == target {
        (None, format!("in {target}"), Some(target.clone()))
    } else {
        (Some(target.clone()), format!("moved to {target}"), Some(target))
    };
    Decision::Apply(Plan {
        move_to,
        placement,
        comment: !state.commented,
        state: RtState {
            revision: ticket.revision,
            queue,
            confidence: ticket.confidence,
            commented: true,
            human: state.human.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opsline_events::Event;

    use super::*;

    fn rt_ticket(queue: &str) -> RtTicket {
        RtTicket {
            id: "7".into(),
            queue: queue.into(),
            ..RtTicket::default()
        }
    }

    fn routed(revision: u32, queue: &str, confidence: f64) -> RoutedTicket {
        RoutedTicket {
            revision,
            queue: queue.into(),
            confidence,
            ..RoutedTicket::sample()
        }
    }

    fn plan(decision: Decision) -> Plan {
        match decision {
            Decision::Apply(plan) => plan,
            Decision::Stale => panic!("stale"),
        }
    }

    #[test]
    fn a_confident_revision_moves_the_ticket_and_comments_once() {
        let config = RtConfig::default();
        let first = plan(decide(
            &config,
            &routed(1, "Hardware", 0.9),
            &rt_ticket("Triage"),
            &RtState::default(),
        ));
        assert_eq!(first.move_to.as_deref(), Some("Hardware"));
        assert!(first.comment);
        let second = plan(decide(
            &config,
            &routed(2, "Hardware", 0.9),
            &rt_ticket("Hardware"),
            &first.state,
        ));
        assert_eq!(second.move_to, None, "already there");
        assert!(!second.comment, "one comment only");
        assert_eq!(second.state.revision, 2);
        let replay = decide(
            &config,
            &routed(1, "Hardware", 0.9),
            &rt_ticket("Hardware"),
            &second.state,
        );
        assert_eq!(replay, Decision::Stale);
    }

    #[test]
    fn a_low_confidence_ticket_stays_in_triage() {
        let config = RtConfig::default();
        let p = plan(decide(
            &config,
            &routed(1, "Hardware", 0.3),
            &rt_ticket("Triage"),
            &RtState::default(),
        ));
        assert_eq!(p.move_to, None);
        assert_eq!(p.state.queue.as_deref(), Some("Triage"));
        assert!(p.placement.contains("stays in Triage"), "{}", p.placement);
    }

    #[test]
    fn a_person_s_move_wins_over_any_later_revision() {
        let config = RtConfig::default();
        let routed_state = RtState {
            revision: 1,
            queue: Some("Hardware".into()),
            commented: true,
            ..RtState::default()
        };
        let p = plan(decide(
            &config,
            &routed(2, "Hardware", 0.9),
            &rt_ticket("Access"),
            &routed_state,
        ));
        assert_eq!(p.move_to, None);
        assert_eq!(
            p.state.queue.as_deref(),
            Some("Hardware"),
            "Opsline's queue kept: the move stays visible"
        );
        let before_routing = plan(decide(
            &config,
            &routed(1, "Hardware", 0.9),
            &rt_ticket("Access"),
            &RtState::default(),
        ));
        assert_eq!(before_routing.move_to, None);
    }

    #[test]
    fn a_damaged_state_never_causes_a_second_comment() {
        assert!(RtState::parse(Some("not json")).commented);
        let state = RtState {
            revision: 3,
            queue: Some("HR Support".into()),
            confidence: 0.5,
            commented: true,
            human: None,
        };
        assert_eq!(RtState::parse(Some(&state.to_value())), state);
    }
}
