//! E-mail addresses and IP addresses (IPv4 with octet ranges, IPv6 parsed by
//! the standard library so only real addresses count).

use std::net::Ipv6Addr;

use regex::Regex;

use super::{Span, byte_before, bytes_after, compile, priority};
use crate::EntityKind;

/// Compiled e-mail and IP patterns.
pub(crate) struct NetworkRules {
    email: Regex,
    ipv4: Regex,
    ipv6_candidate: Regex,
}

impl NetworkRules {
    /// Compiles the patterns.
    pub(crate) fn new() -> Option<Self> {
        Some(Self {
            email: compile(
                r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b",
            )?,
            ipv4: compile(
                r"\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b",
            )?,
            ipv6_candidate: compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")?,
        })
    }

    /// Reports e-mail and IP spans.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<Span>) {
        for m in self.email.find_iter(text) {
            out.push(Span {
                start: m.start(),
                end: m.end(),
                kind: EntityKind::Email,
                priority: priority::EMAIL,
            });
        }
        for m in self.ipv4.find_iter(text) {
            let before_ok = !matches!(byte_before(text, m.start()), Some(b'.'));
            let after_ok = !matches!(bytes_after(text, m.end()), (Some(b'.'), Some(b'0'..=b'9')));
            if before_ok && after_ok {
                out.push(Span {
                    start: m.start(),
                    end: m.end(),
                    kind: EntityKind::Ip,
                    priority: priority::IP,
                });
            }
        }
        for m in self.ipv6_candidate.find_iter(text) {
            if let Some((start, end)) = ipv6_span(text, m.start(), m.end()) {
                out.push(Span {
                    start,
                    end,
                    kind: EntityKind::Ip,
                    priority: priority::IP,
                });
            }
        }
    }
}

/// Trims sentence punctuation off an IPv6 candidate and checks that it is a
/// whole word and a real address with some substance (not `::`, not `d::` in
/// `std::io`).
fn ipv6_span(text: &str, start: usize, mut end: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    while end > start && bytes[end - 1] == b'.' {
        end -= 1;
    }
    let word = |b: Option<u8>| b.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
    if word(byte_before(text, start)) || word(bytes.get(end).copied()) {
        return None;
    }
    let candidate = text.get(start..end)?;
    candidate.parse::<Ipv6Addr>().ok()?;
    let groups = candidate.split(':').filter(|g| !g.is_empty()).count();
    let has_digit = candidate.bytes().any(|b| b.is_ascii_digit());
    (groups >= 3 || (has_digit && groups >= 1)).then_some((start, end))
}
