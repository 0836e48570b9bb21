//! Ticket priority from documented rules (the data has no priority labels).
//!
//! The rules look at the (redacted, lower-cased) subject and description, then a
//! linked incident may raise the result, never lower it:
//!
//! | priority | when the text says ... |
//! |---|---|
//! | P1 | an outage or many people blocked: `outage`, `production down`, `prod down`, `site down`, `system down`, `everyone`, `all users`, `many users`, `whole team`, `entire office`, `nobody can`, `no one can` |
//! | P2 | one person blocked or a degraded service: `urgent`, `asap`, `blocked`, `cannot work`, `can't work`, `unable to work`, `not working`, `down`, `broken`, `crash`, `slow` |
//! | P4 | low urgency: `no rush`, `low priority`, `when you have time`, `fyi`, `question`, `how do i`, `information` |
//! | P3 | anything else (a normal request) |
//!
//! A linked open incident raises the priority to P1 when it is `critical`, to at
//! least P2 when `warning`, to at least P3 when `info`. The words are matched on
//! word boundaries, so `download` is not `down`.

use opsline_events::logs::Severity;
use opsline_events::tickets::Priority;

const P1_PHRASES: &[&str] = &[
    "outage",
    "production down",
    "prod down",
    "site down",
    "system down",
    "everyone",
    "all users",
    "many users",
    "whole team",
    "entire office",
    "nobody can",
    "no one can",
];

const P2_PHRASES: &[&str] = &[
    "urgent",
    "asap",
    "blocked",
    "cannot work",
    "can't work",
    "unable to work",
    "not working",
    "down",
    "broken",
    "crash",
    "crashes",
    "crashed",
    "slow",
];

const P4_PHRASES: &[&str] = &[
    "no rush",
    "low priority",
    "when you have time",
    "fyi",
    "question",
    "how do i",
    "information",
];

/// Why a priority was chosen, for the routing reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityDecision {
    /// The priority.
    pub priority: Priority,
    /// The rule that decided it, e.g. `text: "outage"` or `incident: critical`.
    pub rule: String,
}

/// The priority of a ticket with `text` (subject and description), raised by a linked incident.
pub fn priority(text: &str, incident: Option<Severity>) -> PriorityDecision {
    let words = normalize(text);
    let from_text = if let Some(hit) = find(&words, P1_PHRASES) {
        PriorityDecision {
            priority: Priority::P1,
            rule: format!("text: \"{hit}\""),
        }
    } else if let Some(hit) = find(&words, P2_PHRASES) {
        PriorityDecision {
            priority: Priority::P2,
            rule: format!("text: \"{hit}\""),
        }
    } else if let Some(hit) = find(&words, P4_PHRASES) {
        PriorityDecision {
            priority: Priority::P4,
            rule: format!("text: \"{hit}\""),
        }
    } else {
        PriorityDecision {
            priority: Priority::P3,
            rule: "default".to_owned(),
        }
    };
    let Some(severity) = incident else {
        return from_text;
    };
    let floor = match severity {
        Severity::Critical => Priority::P1,
        Severity::Warning => Priority::P2,
        Severity::Info => Priority::P3,
    };
    // `Priority` orders P1 < P2 < ...: the more urgent is the smaller.
    if floor < from_text.priority {
        PriorityDecision {
            priority: floor,
            rule: format!("incident: {}", severity.as_str()),
        }
    } else {
        from_text
    }
}

/// Lower-cased words joined by single spaces, with a leading and trailing space.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
    {
        out.push_str(&word.to_lowercase());
        out.push(' ');
    }
    out
}

fn find<'a>(words: &str, phrases: &[&'a str]) -> Option<&'a str> {
    phrases
        .iter()
        .copied()
        .find(|phrase| words.contains(&format!(" {phrase} ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_and_many_users_are_p1() {
        assert_eq!(priority("Email outage", None).priority, Priority::P1);
        assert_eq!(priority("production down since 9am", None).priority, Priority::P1);
        assert_eq!(priority("Nobody can log in to the VPN", None).priority, Priority::P1);
        assert_eq!(priority("all users see errors", None).priority, Priority::P1);
    }

    #[test]
    fn one_user_blocked_is_p2() {
        assert_eq!(priority("My laptop is broken", None).priority, Priority::P2);
        assert_eq!(priority("VPN not working, urgent", None).priority, Priority::P2);
    }

    #[test]
    fn low_urgency_is_p4_and_default_is_p3() {
        assert_eq!(
            priority("Question about the expense tool, no rush", None).priority,
            Priority::P4
        );
        assert_eq!(priority("Please install Visio", None).priority, Priority::P3);
    }

    #[test]
    fn words_match_on_boundaries() {
        assert_eq!(priority("download of the installer", None).priority, Priority::P3);
        assert_eq!(priority("the server is down", None).priority, Priority::P2);
    }

    #[test]
    fn incident_severity_raises_never_lowers() {
        let raised = priority("Please install Visio", Some(Severity::Critical));
        assert_eq!(raised.priority, Priority::P1);
        assert_eq!(raised.rule, "incident: critical");
        assert_eq!(priority("no rush", Some(Severity::Warning)).priority, Priority::P2);
        assert_eq!(priority("Email outage", Some(Severity::Info)).priority, Priority::P1);
    }
}
