//! Numbers that identify a person: payment cards (Luhn), IBANs (mod-97),
//! national ids (US SSN, UK NINO) and phone numbers (international `+` forms,
//! North American forms, national trunk-`0` forms). Context checks keep dates,
//! times, versions, ticket ids and plain short numbers out.

use regex::Regex;

use super::{Span, byte_before, bytes_after, compile, priority};
use crate::EntityKind;
use crate::checks::{iban_valid, luhn_valid, nino_prefix_valid, ssn_valid};

/// Compiled number patterns.
pub(crate) struct NumberRules {
    digit_groups: Regex,
    iban: Regex,
    ssn: Regex,
    nino: Regex,
    phones: [Regex; 4],
}

impl NumberRules {
    /// Compiles the patterns.
    pub(crate) fn new() -> Option<Self> {
        Some(Self {
            digit_groups: compile(r"\b[0-9]+(?:[ -][0-9]+)*\b")?,
            iban: compile(r"\b[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{1,4}){3,8})\b")?,
            ssn: compile(r"\b([0-9]{3})-([0-9]{2})-([0-9]{4})\b")?,
            nino: compile(r"\b([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b")?,
            phones: [
                // +44 20 7946 0958, +1 (555) 123-4567, +49-30-1234567
                compile(r"\+[0-9]{1,3}(?:[ .-]?\([0-9]{1,4}\))?(?:[ .-]?[0-9]{1,5}){2,6}\b")?,
                // (555) 123-4567
                compile(r"\([2-9][0-9]{2}\)[ .-]?[0-9]{3}[ .-]?[0-9]{4}\b")?,
                // 555-123-4567, 555.123.4567, 555 123 4567
                compile(r"\b[2-9][0-9]{2}([ .-])[0-9]{3}([ .-])[0-9]{4}\b")?,
                // 020 7946 0958, 030-1234567, 06 12 34 56 78, 07700900123
                compile(r"\b0[1-9][0-9]{0,4}(?:[ /-]?[0-9]{2,8}){1,4}\b")?,
            ],
        })
    }

    /// Reports card, IBAN, national id and phone spans.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<Span>) {
        for m in self.digit_groups.find_iter(text) {
            cards(text, m.start(), m.as_str(), out);
        }
        for m in self.iban.find_iter(text) {
            iban(m.start(), m.as_str(), out);
        }
        for caps in self.ssn.captures_iter(text) {
            let (Some(all), Some(area), Some(group), Some(serial)) =
                (caps.get(0), caps.get(1), caps.get(2), caps.get(3))
            else {
                continue;
            };
            if standalone_number(text, all.start(), all.end())
                && ssn_valid(area.as_str(), group.as_str(), serial.as_str())
            {
                out.push(national_id(all.start(), all.end()));
            }
        }
        for caps in self.nino.captures_iter(text) {
            let (Some(all), Some(prefix)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            if nino_prefix_valid(prefix.as_str()) {
                out.push(national_id(all.start(), all.end()));
            }
        }
        for (i, pattern) in self.phones.iter().enumerate() {
            for m in pattern.find_iter(text) {
                // The greedy match may have swallowed a trailing number; try
                // shorter group sequences before giving up.
                let mut end = m.end();
                loop {
                    if phone_ok(text, i, m.start(), end) {
                        out.push(Span {
                            start: m.start(),
                            end,
                            kind: EntityKind::Phone,
                            priority: priority::PHONE,
                        });
                        break;
                    }
                    match text.get(m.start()..end).and_then(|s| s.rfind([' ', '.', '-', '/'])) {
                        Some(cut) if cut > 0 => end = m.start() + cut,
                        _ => break,
                    }
                }
            }
        }
    }
}

fn national_id(start: usize, end: usize) -> Span {
    Span {
        start,
        end,
        kind: EntityKind::NationalId,
        priority: priority::NATIONAL_ID,
    }
}

/// Not glued to an identifier, version, path or longer number.
fn standalone_number(text: &str, start: usize, end: usize) -> bool {
    clean_before(text, start) && clean_after(text, end)
}

fn clean_before(text: &str, start: usize) -> bool {
    !byte_before(text, start)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b':' | b'#' | b'@'))
}

fn clean_after(text: &str, end: usize) -> bool {
    match bytes_after(text, end) {
        (Some(b), _) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b'@') => false,
        (Some(b'-' | b'.' | b':'), Some(n)) if n.is_ascii_digit() => false,
        _ => true,
    }
}

/// Part of a longer sequence of digit groups (`0044 0532 0130 01`).
fn amid_digit_groups(text: &str, start: usize, end: usize) -> bool {
    let before = start
        .checked_sub(2)
        .and_then(|i| text.as_bytes().get(i))
        .is_some_and(u8::is_ascii_digit)
        && matches!(byte_before(text, start), Some(b' '));
    let after = matches!(bytes_after(text, end), (Some(b' '), Some(b'0'..=b'9')));
    before || after
}

/// Phone context and digit-count rules for pattern `which` (see `new`).
fn phone_ok(text: &str, which: usize, start: usize, end: usize) -> bool {
    let Some(s) = text.get(start..end) else {
        return false;
    };
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let context = if which == 0 || which == 1 {
        // `+` / `(` starts the match: only the character before it matters.
        !byte_before(text, start).is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') && clean_after(text, end)
    } else {
        standalone_number(text, start, end) && !amid_digit_groups(text, start, end)
    };
    let count_ok = match which {
        0 => (8..=15).contains(&digits),
        1 | 2 => digits == 10,
        _ => (9..=12).contains(&digits) && !date_like(s),
    };
    context && count_ok
}

/// `01-02-2024`, `2024 01 15`: date-shaped digit groups.
fn date_like(s: &str) -> bool {
    let groups: Vec<usize> = s.split([' ', '-', '/']).map(str::len).collect();
    matches!(groups.as_slice(), [2, 2, 4] | [4, 2, 2] | [2, 2, 2])
}

/// Card numbers: 13-19 digits in groups of at least 3 (or one run), starting
/// 2-6, Luhn-valid. Tries the longest group sequence first from each group.
fn cards(text: &str, base: usize, run: &str, out: &mut Vec<Span>) {
    // (start, end) byte offsets of the digit groups inside `run`.
    let mut groups = Vec::new();
    let mut pos = 0;
    for part in run.split([' ', '-']) {
        groups.push((pos, pos + part.len()));
        pos += part.len() + 1;
    }
    let bytes = run.as_bytes();
    let mut i = 0;
    while i < groups.len() {
        let mut ends = Vec::new();
        let mut total = 0;
        for (j, &(gs, ge)) in groups.iter().enumerate().skip(i) {
            total += ge - gs;
            if total > 19 || (j > i && (ge - gs < 3 || groups[i].1 - groups[i].0 < 3)) {
                break;
            }
            if total >= 13 {
                ends.push(j);
            }
        }
        let mut found = None;
        for &j in ends.iter().rev() {
            let digits: Vec<u8> = groups[i..=j]
                .iter()
                .flat_map(|&(s, e)| bytes[s..e].iter().copied())
                .collect();
            if matches!(digits.first(), Some(b'2'..=b'6')) && luhn_valid(&digits) {
                let (start, end) = (base + groups[i].0, base + groups[j].1);
                if standalone_number(text, start, end) {
                    out.push(Span {
                        start,
                        end,
                        kind: EntityKind::Card,
                        priority: priority::CARD,
                    });
                }
                found = Some(j);
                break;
            }
        }
        i = found.map_or(i + 1, |j| j + 1);
    }
}

/// IBANs: the longest prefix of the space-separated groups that validates.
fn iban(base: usize, candidate: &str, out: &mut Vec<Span>) {
    let mut end = candidate.len();
    loop {
        let Some(part) = candidate.get(..end) else {
            return;
        };
        let compact: Vec<u8> = part.bytes().filter(|b| *b != b' ').collect();
        if compact.len() < 15 {
            return;
        }
        if iban_valid(&compact) {
            out.push(Span {
                start: base,
                end: base + end,
                kind: EntityKind::Iban,
                priority: priority::IBAN,
            });
            return;
        }
        match part.rfind(' ') {
            Some(cut) => end = cut,
            None => return,
        }
    }
}
