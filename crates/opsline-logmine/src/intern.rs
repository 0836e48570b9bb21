//! Token interning: every distinct template token is stored once and compared as a `u32`.
//!
//! Line tokens are only *looked up* (never inserted) while matching, so variable values that end
//! up as wildcards never grow the table; tokens are inserted when they become part of a template.

use std::collections::HashMap;

use crate::hash::BuildTokenHasher;

use crate::mask::WILDCARD;

/// Id of the wildcard token `<*>`.
pub(crate) const WILD: u32 = 0;
/// Id given to line tokens that are not in the table (they match no template token).
pub(crate) const UNKNOWN: u32 = u32::MAX;

/// Pattern info for template tokens that mix text and wildcards, such as `uid=<*>`.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    prefix: Box<str>,
    suffix: Box<str>,
}

impl Pattern {
    /// Whether a concrete (masked) token fits the pattern.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        token.len() >= self.prefix.len() + self.suffix.len()
            && token.starts_with(&*self.prefix)
            && token.ends_with(&*self.suffix)
    }
}

/// The token table.
#[derive(Debug, Clone)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32, BuildTokenHasher>,
    strings: Vec<Box<str>>,
    patterns: Vec<Option<Pattern>>,
    /// Per id: whether masking the text as a line token leaves it as it is (see
    /// [`Self::lookup_word`]).
    kept: Vec<bool>,
}

impl Interner {
    pub(crate) fn new() -> Self {
        let mut me = Self {
            ids: HashMap::default(),
            strings: Vec::new(),
            patterns: Vec::new(),
            kept: Vec::new(),
        };
        me.intern(WILDCARD);
        me
    }

    /// The id of `token`, or [`UNKNOWN`].
    #[inline]
    pub(crate) fn lookup(&self, token: &str) -> u32 {
        self.ids.get(token).copied().unwrap_or(UNKNOWN)
    }

    /// The id of `token`, inserting it if needed.
    pub(crate) fn intern(&mut self, token: &str) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(token.into());
        self.ids.insert(token.into(), id);
        let pattern = match token.find(WILDCARD) {
            Some(at) if token != WILDCARD => {
                let prefix = &token[..at];
                let suffix = &token[at + WILDCARD.len()..];
                // Only single-wildcard shapes are patterns; more complex ones stay literal.
                (!suffix.contains(WILDCARD)).then(|| Pattern {
                    prefix: prefix.into(),
                    suffix: suffix.into(),
                })
            }
            _ => None,
        };
        self.patterns.push(pattern);
        self.kept.push(crate::mask::keeps(token));
        id
    }

    /// The id of `token` (or [`UNKNOWN`]) and whether masking leaves `token` as it is (for a
    /// token no longer than the longest token masking keeps). One table lookup answers both, so
    /// a line token seen before needs no masking.
    #[inline]
    pub(crate) fn lookup_word(&self, token: &str) -> (u32, bool) {
        match self.ids.get(token) {
            Some(&id) => (id, self.kept.get(id as usize).copied().unwrap_or(false)),
            None => (UNKNOWN, false),
        }
    }

    /// The text of a token id (`""` for unknown ids).
    #[inline]
    pub(crate) fn text(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// The pattern of a template token, if it mixes text and a wildcard.
    #[inline]
    pub(crate) fn pattern(&self, id: u32) -> Option<&Pattern> {
        self.patterns.get(id as usize).and_then(Option::as_ref)
    }
}
