//! Detection: every detector reports candidate spans with a kind and a
//! priority; overlaps are resolved so the strongest evidence wins (an explicit
//! credential beats a card number beats an e-mail address ...).
//!
//! All patterns use the `regex` crate (finite automata, linear time in the
//! input); the checksum filters are linear too, so redaction is linear in the
//! text length whatever the input. If a pattern ever failed to compile the
//! whole text is reported as one secret: fail closed, never leak.

mod network;
mod numbers;
mod secrets;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::EntityKind;

/// One detected sensitive value: a byte range of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// Start byte (a char boundary).
    pub start: usize,
    /// End byte, exclusive (a char boundary).
    pub end: usize,
    /// What it is.
    pub kind: EntityKind,
    /// Higher wins when spans overlap.
    pub priority: u8,
}

/// Priorities: explicit credentials first, then checksum-validated numbers,
/// then shapes, then names.
pub(crate) mod priority {
    /// PEM private key blocks.
    pub const PEM: u8 = 100;
    /// Key/value credentials, bearer tokens, known key shapes.
    pub const SECRET: u8 = 90;
    /// Luhn-valid card numbers.
    pub const CARD: u8 = 80;
    /// Mod-97-valid IBANs.
    pub const IBAN: u8 = 75;
    /// National ids.
    pub const NATIONAL_ID: u8 = 70;
    /// E-mail addresses.
    pub const EMAIL: u8 = 60;
    /// IP addresses.
    pub const IP: u8 = 50;
    /// Phone numbers.
    pub const PHONE: u8 = 40;
    /// Long high-entropy tokens without a key.
    pub const ENTROPY: u8 = 35;
    /// Directory names.
    pub const PERSON: u8 = 30;
}

/// Compiles a constant pattern; `\b` is made ASCII-only so the fast DFA
/// engines apply (all these patterns are about ASCII shapes).
pub(crate) fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).ok()
}

/// All compiled constant detectors.
struct Rules {
    secrets: secrets::SecretRules,
    network: network::NetworkRules,
    numbers: numbers::NumberRules,
}

static RULES: LazyLock<Option<Rules>> = LazyLock::new(|| {
    Some(Rules {
        secrets: secrets::SecretRules::new()?,
        network: network::NetworkRules::new()?,
        numbers: numbers::NumberRules::new()?,
    })
});

/// Whether every constant pattern compiled (checked by a test).
#[cfg(test)]
pub(crate) fn rules_compiled() -> bool {
    RULES.is_some()
}

/// Finds every sensitive value in `text`: non-overlapping spans in text order.
pub(crate) fn detect(text: &str, person_names: &[Regex]) -> Vec<Span> {
    let Some(rules) = RULES.as_ref() else {
        if text.is_empty() {
            return Vec::new();
        }
        return vec![Span {
            start: 0,
            end: text.len(),
            kind: EntityKind::Secret,
            priority: priority::PEM,
        }];
    };
    let mut candidates = Vec::new();
    rules.secrets.find(text, &mut candidates);
    rules.network.find(text, &mut candidates);
    rules.numbers.find(text, &mut candidates);
    for names in person_names {
        for m in names.find_iter(text) {
            candidates.push(Span {
                start: m.start(),
                end: m.end(),
                kind: EntityKind::Person,
                priority: priority::PERSON,
            });
        }
    }
    resolve(candidates)
}

/// Keeps the strongest of overlapping spans (priority, then length, then the
/// earliest), returned in text order.
fn resolve(mut candidates: Vec<Span>) -> Vec<Span> {
    candidates.retain(|s| s.start < s.end);
    candidates.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    // Accepted spans by start; they never overlap each other, so only the one
    // starting last before a candidate's end can overlap it.
    let mut accepted: BTreeMap<usize, Span> = BTreeMap::new();
    for span in candidates {
        let overlaps = accepted
            .range(..span.end)
            .next_back()
            .is_some_and(|(_, prev)| prev.end > span.start);
        if !overlaps {
            accepted.insert(span.start, span);
        }
    }
    accepted.into_values().collect()
}

/// The byte before `start`, if any.
pub(crate) fn byte_before(text: &str, start: usize) -> Option<u8> {
    start.checked_sub(1).and_then(|i| text.as_bytes().get(i).copied())
}

/// The byte at `end` and the one after it, if any.
pub(crate) fn bytes_after(text: &str, end: usize) -> (Option<u8>, Option<u8>) {
    let bytes = text.as_bytes();
    (bytes.get(end).copied(), bytes.get(end + 1).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize, priority: u8) -> Span {
        Span {
            start,
            end,
            kind: EntityKind::Secret,
            priority,
        }
    }

    #[test]
    fn constant_patterns_compile() {
        assert!(rules_compiled());
    }

    #[test]
    fn overlaps_keep_the_strongest() {
        let out = resolve(vec![span(0, 10, 10), span(2, 4, 50), span(5, 12, 10), span(12, 14, 1)]);
        assert_eq!(out, vec![span(2, 4, 50), span(5, 12, 10), span(12, 14, 1)]);
    }
}
