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
    /// Drain-style similarity (`matched / len`), or `-1` when a word conflicts: words are
    /// constants, so a differing word means another template.
    pub(crate) fn similarity(&self, len: usize) -> f64 {
        if self.word_conflicts > 0 {
            -1.0
        } else if len == 0 {
            1.0
        } else {
            self.matched as f64 / len as f64
        }
    }

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
    for (pos, (&t, tok)) in tpl.iter().zip(lt.tokens.iter()).enumerate() {
        if t == WILD {
            c.wild += 1;
            if tok.id == WILD {
                c.matched += 1;
            }
            continue;
        }
        if t == tok.id {
            c.matched += 1;
        } else if tok.id != WILD
            && let Some(p) = interner.pattern(t)
            && p.accepts(lt.text(pos, content))
        {
            c.matched += 1;
        } else if tok.id != WILD && tok.masked.is_none() && interner.pattern(t).is_none() {
            if c.word_conflicts == 0 {
                c.first_conflict = pos;
            }
            c.word_conflicts += 1;
        }
    }
    c
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

pub(crate) fn params_of(interner: &Interner, tpl: &[u32], lt: &LineTokens, content: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (&t, tok) in tpl.iter().zip(lt.tokens.iter()) {
        if t == WILD || (t != tok.id && interner.pattern(t).is_some()) || (t == tok.id && tok.masked.is_some()) {
            if let Some(raw) = content.get(tok.raw.clone()) {
                out.push(raw.to_string());
            }
        }
    }
    out
}
