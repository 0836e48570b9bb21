//! The postmortem policy: which incidents get a postmortem draft.
//!
//! Default ([`PostmortemPolicy`]): severity sev2 or worse **and** lasting at least 15 minutes
//! (first to last signal), **or** at least 3 linked helpdesk tickets, **or** declared by a
//! person (API, console or chat). Every other incident is closed with a short resolution
//! record and stays searchable as an incident, not as a postmortem draft. The decision and its
//! reason are written on the incident each time it changes; the postmortem service drafts only
//! resolved incidents whose decision is `draft`.

use opsline_events::logs::{Incident, IncidentStatus, PostmortemChoice, PostmortemDecision, SevLevel};

use crate::attention::{GroupFacts, duration_words};
use crate::config::PostmortemPolicy;

/// Decides for `incident` (its attention already computed) with the facts of its signals.
pub fn decide(incident: &Incident, facts: &GroupFacts, policy: &PostmortemPolicy) -> PostmortemDecision {
    let sev = incident.attention.as_ref().map_or(SevLevel::Sev4, |a| a.sev);
    let duration = facts.duration_ms();
    let lasted = duration >= crate::detector::suppress::secs_to_ms(policy.min_duration_secs);
    let severe = sev_number(sev) <= policy.max_sev;
    let resolution = (incident.status == IncidentStatus::Resolved).then(|| resolution(incident, facts));
    if let Some(by) = &facts.declared_by {
        return PostmortemDecision {
            decision: PostmortemChoice::Draft,
            reason: format!("declared by {by}"),
            decided_by: by.clone(),
            resolution: None,
        };
    }
    let (decision, reason) = if facts.tickets >= policy.min_tickets && policy.min_tickets > 0 {
        (PostmortemChoice::Draft, format!("{} linked tickets", facts.tickets))
    } else if severe && lasted {
        (
            PostmortemChoice::Draft,
            format!("{} for {}", sev.as_str(), duration_words(duration)),
        )
    } else {
        (
            PostmortemChoice::Skip,
            format!(
                "below policy: {} for {}, {} linked tickets (needs sev{} or worse for {}, or {} tickets, or a declaration)",
                sev.as_str(),
                duration_words(duration),
                facts.tickets,
                policy.max_sev,
                duration_words(crate::detector::suppress::secs_to_ms(policy.min_duration_secs)),
                policy.min_tickets
            ),
        )
    };
    PostmortemDecision {
        decision,
        reason,
        decided_by: "policy".to_owned(),
        resolution: if decision == PostmortemChoice::Skip {
            resolution
        } else {
            None
        },
    }
}

/// `sev1` is 1 ... `sev4` is 4.
pub fn sev_number(sev: SevLevel) -> u8 {
    match sev {
        SevLevel::Sev1 => 1,
        SevLevel::Sev2 => 2,
        SevLevel::Sev3 => 3,
        SevLevel::Sev4 => 4,
    }
}

/// The short resolution record of a closed incident.
fn resolution(incident: &Incident, facts: &GroupFacts) -> String {
    let by = incident.resolved_by.as_deref().unwrap_or("unknown");
    format!(
        "resolved by {by} after {} of signals; {} alerts, {} lines, {} templates",
        duration_words(facts.duration_ms()),
        facts.alerts,
        facts.lines,
        facts.template_count
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use opsline_events::Event;

    fn incident(sev: SevLevel) -> Incident {
        let mut incident = Incident::sample();
        if let Some(a) = incident.attention.as_mut() {
            a.sev = sev;
        }
        incident
    }

    fn facts(minutes: i64, tickets: u64) -> GroupFacts {
        GroupFacts {
            first_ms: 0,
            last_ms: minutes * 60_000,
            tickets,
            alerts: 2,
            ..GroupFacts::default()
        }
    }

    #[test]
    fn severe_and_lasting_is_drafted_else_skipped_with_a_resolution() {
        let policy = PostmortemPolicy::default();
        let drafted = decide(&incident(SevLevel::Sev2), &facts(20, 0), &policy);
        assert_eq!(drafted.decision, PostmortemChoice::Draft);
        assert_eq!(drafted.reason, "sev2 for 20 min");
        let short = decide(&incident(SevLevel::Sev1), &facts(5, 0), &policy);
        assert_eq!(short.decision, PostmortemChoice::Skip);
        assert!(
            short.reason.starts_with("below policy: sev1 for 5 min"),
            "{}",
            short.reason
        );
        assert!(short.resolution.is_some(), "the sample is resolved");
        let minor = decide(&incident(SevLevel::Sev3), &facts(60, 0), &policy);
        assert_eq!(minor.decision, PostmortemChoice::Skip);
    }

    #[test]
    fn tickets_or_a_declaration_draft_whatever_the_severity() {
        let policy = PostmortemPolicy::default();
        let tickets = decide(&incident(SevLevel::Sev3), &facts(1, 3), &policy);
        assert_eq!(tickets.decision, PostmortemChoice::Draft);
        assert_eq!(tickets.reason, "3 linked tickets");
        let mut declared = facts(1, 0);
        declared.declared_by = Some("alice".into());
        let decision = decide(&incident(SevLevel::Sev4), &declared, &policy);
        assert_eq!(decision.decision, PostmortemChoice::Draft);
        assert_eq!(decision.decided_by, "alice");
    }
}
