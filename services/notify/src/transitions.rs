//! Which transitions an incident revision brings for a target, given what the target was
//! already told: pure, so a revision that changes nothing sends nothing and a replayed
//! revision after a restart (the told state read back from the state topic) sends nothing again.

use opsline_events::incidents::{Incident, IncidentStatus, SevLevel};
use opsline_events::notify::{NotificationState, Transition};

use crate::rules::sev_of;

/// What a target knows about an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Told {
    /// Told it opened.
    pub opened: bool,
    /// The level it was told.
    pub sev: SevLevel,
    /// Told it was acknowledged.
    pub acknowledged: bool,
    /// Told it was resolved.
    pub resolved: bool,
    /// The incidents-topic offset of the revision it reflects (set by the processor).
    pub offset: Option<i64>,
}

impl From<&NotificationState> for Told {
    fn from(state: &NotificationState) -> Self {
        Self {
            opened: state.opened,
            sev: state.sev,
            acknowledged: state.acknowledged,
            resolved: state.resolved,
            offset: state.input_offset,
        }
    }
}

/// Whether someone acknowledged `incident`.
pub fn is_acknowledged(incident: &Incident) -> bool {
    incident.response.as_ref().is_some_and(|r| r.acknowledged_by.is_some())
}

/// The transitions from `told` to `incident`, in order, each with what the target knows after it.
/// An incident first seen already resolved brings none (there is nothing left to act on).
pub fn transitions(told: Option<Told>, incident: &Incident) -> Vec<(Transition, Told)> {
    let sev = sev_of(incident);
    let open = incident.status == IncidentStatus::Open;
    let acknowledged = is_acknowledged(incident);
    let mut out = Vec::new();
    let mut now = match told {
        Some(told) if told.opened && !(told.resolved && open) => told,
        _ if !open => return out,
        _ => {
            // Opened (or reopened after it was resolved): the message carries level and state.
            let told = Told {
                opened: true,
                sev,
                acknowledged: false,
                resolved: false,
                offset: told.and_then(|t| t.offset),
            };
            out.push((Transition::Opened, told));
            told
        }
    };
    if now.resolved {
        return out;
    }
    if open && now.sev != sev {
        now.sev = sev;
        out.push((Transition::SeverityChanged, now));
    }
    if acknowledged && !now.acknowledged {
        now.acknowledged = true;
        out.push((Transition::Acknowledged, now));
    }
    if !open {
        now.resolved = true;
        out.push((Transition::Resolved, now));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opsline_events::Event;
    use opsline_events::incidents::IncidentResponse;

    use super::*;

    fn incident(status: IncidentStatus, sev: SevLevel, acked: bool) -> Incident {
        let mut incident = Incident::sample();
        incident.status = status;
        incident.attention.as_mut().unwrap().sev = sev;
        incident.response = acked.then(|| IncidentResponse {
            acknowledged_by: Some("slack:U123".into()),
            ..IncidentResponse::default()
        });
        incident
    }

    fn kinds(told: Option<Told>, incident: &Incident) -> Vec<Transition> {
        transitions(told, incident).into_iter().map(|(t, _)| t).collect()
    }

    /// Feeds revisions one after the other, as the processor does.
    fn replay(revisions: &[Incident]) -> Vec<Transition> {
        let mut told = None;
        let mut all = Vec::new();
        for revision in revisions {
            for (transition, after) in transitions(told, revision) {
                all.push(transition);
                told = Some(after);
            }
        }
        all
    }

    #[test]
    fn a_lifecycle_gives_each_transition_once() {
        use IncidentStatus::{Open, Resolved};
        let revisions = [
            incident(Open, SevLevel::Sev3, false),
            incident(Open, SevLevel::Sev3, false),
            incident(Open, SevLevel::Sev2, false),
            incident(Open, SevLevel::Sev2, true),
            incident(Open, SevLevel::Sev2, true),
            incident(Resolved, SevLevel::Sev2, true),
            incident(Resolved, SevLevel::Sev2, true),
        ];
        assert_eq!(
            replay(&revisions),
            [
                Transition::Opened,
                Transition::SeverityChanged,
                Transition::Acknowledged,
                Transition::Resolved
            ]
        );
    }

    #[test]
    fn nothing_for_an_incident_first_seen_resolved_or_already_told() {
        assert!(kinds(None, &incident(IncidentStatus::Resolved, SevLevel::Sev1, true)).is_empty());
        let told = Told {
            opened: true,
            sev: SevLevel::Sev2,
            acknowledged: true,
            resolved: false,
            offset: None,
        };
        assert!(kinds(Some(told), &incident(IncidentStatus::Open, SevLevel::Sev2, true)).is_empty());
    }

    #[test]
    fn one_revision_can_bring_several_transitions_and_a_reopen_starts_again() {
        let first = incident(IncidentStatus::Open, SevLevel::Sev3, false);
        let (_, told) = transitions(None, &first)[0];
        assert_eq!(
            kinds(Some(told), &incident(IncidentStatus::Resolved, SevLevel::Sev1, true)),
            [Transition::Acknowledged, Transition::Resolved],
            "a resolve reports the acknowledgement before it, not the level"
        );
        let resolved = Told { resolved: true, ..told };
        assert_eq!(
            kinds(Some(resolved), &incident(IncidentStatus::Open, SevLevel::Sev3, true)),
            [Transition::Opened, Transition::Acknowledged]
        );
        assert_eq!(
            kinds(None, &incident(IncidentStatus::Open, SevLevel::Sev3, true)),
            [Transition::Opened, Transition::Acknowledged]
        );
    }
}
