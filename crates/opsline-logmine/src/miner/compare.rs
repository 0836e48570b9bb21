//! Comparing a line with a template, generalising tokens, and rendering templates and parameters.

use std::sync::Arc;

use super::line::LineTokens;
use crate::intern::{Interner, UNKNOWN, WILD};
use crate::mask::WILDCARD;

/// How a line compares with a template of the same length.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Comparison {
    /// Positions that agree: equal tokens, a template pattern the token fits, or a template
    /// wildcard against a masked variable.
    pub(crate) matched: usize,
    /// Wildcards in the template.
    pub(crate) wild: usize,
    /// Positions where a plain word differs from a constant word.
    pub(crate) word_conflicts: usize,
    /// The first such position.
    pub(crate) first_conflict: usize,
}

impl Comparison {
    /// Similarity ignoring one conflicting position (for sibling detection).
    pub(crate) fn similarity_without_conflict(&self, len: usize) -> f64 {
        if self.word_conflicts != 1 || len <= 1 {
            -1.0
        } else {
            self.matched as f64 / (len - 1) as f64
        }
    }
}

/// Compares a line with a template (both of the same length).
pub(crate) fn compare(interner: &Interner, tpl: &[u32], lt: &LineTokens, content: &str) -> Comparison {
    let mut c = Comparison::default();
    for (pos, ((&t, &id), span)) in tpl.iter().zip(&lt.ids).zip(&lt.spans).enumerate() {
        if t == WILD {
            c.wild += 1;
            if id == WILD {
                c.matched += 1;
            }
            continue;
        }
        if t == id {
            c.matched += 1;
        } else if id != WILD
            && let Some(p) = interner.pattern(t)
            && p.accepts(lt.text(pos, content))
        {
            c.matched += 1;
        } else if id != WILD && !span.is_rewritten() && interner.pattern(t).is_none() {
            if c.word_conflicts == 0 {
                c.first_conflict = pos;
            }
            c.word_conflicts += 1;
        }
    }
    c
}

/// Drain-style similarity of a line and a template of the same length: `matched / len`, or `-1`
/// when a word conflicts (words are constants, so a differing word means another template).
/// Stops at the first conflict: this is the hot path of template search.
#[inline]
pub(crate) fn similarity(interner: &Interner, tpl: &[u32], lt: &LineTokens, content: &str) -> f64 {
    let mut matched = 0usize;
    for (pos, ((&t, &id), span)) in tpl.iter().zip(&lt.ids).zip(&lt.spans).enumerate() {
        if t == id {
            matched += 1;
        } else if t == WILD || id == WILD {
            // A template wildcard against a concrete token, or a variable against a constant:
            // neither matches nor conflicts.
        } else if let Some(p) = interner.pattern(t) {
            if p.accepts(lt.text(pos, content)) {
                matched += 1;
            } else if span.is_rewritten() {
                // Two masked tokens whose constant text differs (`(uid=<*>)`, `LOGIN(uid=<*>)`).
                return -1.0;
            }
        } else if !span.is_rewritten() {
            return -1.0;
        }
    }
    if tpl.is_empty() {
        1.0
    } else {
        matched as f64 / tpl.len() as f64
    }
}

/// Whether the line matches the template at every position (similarity `1.0`): equal tokens,
/// template patterns the token fits, and wildcards exactly where the line has variables.
#[inline]
pub(crate) fn fits(interner: &Interner, tpl: &[u32], lt: &LineTokens, content: &str) -> bool {
    tpl.iter().zip(&lt.ids).enumerate().all(|(pos, (&t, &id))| {
        t == id || (t != WILD && id != WILD && interner.pattern(t).is_some_and(|p| p.accepts(lt.text(pos, content))))
    })
}

/// Number of wildcard tokens in a template.
#[inline]
pub(crate) fn wildcards(tpl: &[u32]) -> usize {
    tpl.iter().filter(|&&t| t == WILD).count()
}

/// Generalises two differing tokens: keeps a shared prefix ending at punctuation and a shared
/// suffix starting at punctuation around one wildcard (`user=alice`/`user=bob` → `user=<*>`).
/// `None` means the whole token is a variable.
pub(crate) fn generalise(a: &str, b: &str) -> Option<String> {
    if a == WILDCARD || b == WILDCARD || a.is_empty() || b.is_empty() {
        return None;
    }
    let is_punct = |c: u8| c.is_ascii_punctuation() && c != b'_' && c != b'*';
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let mut p = 0;
    let mut keep_p = 0;
    while p < ab.len() && p < bb.len() && ab[p] == bb[p] {
        if is_punct(ab[p]) && ab[p] != b'<' {
            keep_p = p + 1;
        }
        p += 1;
    }
    let mut s = 0;
    let mut keep_s = 0;
    while s < ab.len() - keep_p && s < bb.len() - keep_p && ab[ab.len() - 1 - s] == bb[bb.len() - 1 - s] {
        let c = ab[ab.len() - 1 - s];
        if is_punct(c) && c != b'>' {
            keep_s = s + 1;
        }
        s += 1;
    }
    if keep_p == 0 && keep_s == 0 {
        return None;
    }
    let prefix = &a[..keep_p];
    let suffix = &a[a.len() - keep_s..];
    if prefix.contains(WILDCARD) || suffix.contains(WILDCARD) {
        return None;
    }
    Some(format!("{prefix}{WILDCARD}{suffix}"))
}

pub(crate) fn render(interner: &Interner, tokens: &[u32]) -> Arc<str> {
    let mut s = String::new();
    for (i, &t) in tokens.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(if t == UNKNOWN { WILDCARD } else { interner.text(t) });
    }
    Arc::from(s)
}

/// The raw text of the line's variable tokens, in order: tokens under a template wildcard or
/// pattern, and tokens whose masking rewrote part of them.
pub(crate) fn params_of<'a>(
    interner: &'a Interner,
    tpl: &'a [u32],
    lt: &'a LineTokens,
    content: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    tpl.iter()
        .zip(&lt.ids)
        .zip(&lt.spans)
        .filter(move |&((&t, &id), span)| {
            t == WILD || (t != id && interner.pattern(t).is_some()) || (t == id && span.is_rewritten())
        })
        .filter_map(move |(_, span)| content.get(span.raw()))
}
