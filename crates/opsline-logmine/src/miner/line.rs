//! Turning a line's content into masked, interned tokens without per-token allocations.

use super::neighbours;
use crate::intern::{Interner, UNKNOWN, WILD};
use crate::mask::{BLANK, Masked, WILDCARD, byte_class, mask_classified};

/// Where one token of the current line sits (byte offsets; lines are capped well below 4 GiB).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TokenSpan {
    /// Start of the original token in the content.
    pub(crate) start: u32,
    /// End of the original token in the content.
    pub(crate) end: u32,
    /// Start of the masked text in [`LineTokens::masked`].
    masked_start: u32,
    /// End of the masked text; equal to `masked_start` when the raw text was kept.
    masked_end: u32,
}

impl TokenSpan {
    /// Whether masking rewrote part of the token (`uid=0` → `uid=<*>`).
    #[inline]
    pub(crate) fn is_rewritten(&self) -> bool {
        self.masked_end > self.masked_start
    }

    /// The original token's byte range.
    #[inline]
    pub(crate) fn raw(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Reusable buffers holding the current line's tokens: interned ids (parallel to `spans`), spans
/// and the rewritten text of partly masked tokens.
#[derive(Debug, Default)]
pub(crate) struct LineTokens {
    /// Interned id of each token's masked text, [`WILD`] or [`UNKNOWN`].
    pub(crate) ids: Vec<u32>,
    /// Position of each token.
    pub(crate) spans: Vec<TokenSpan>,
    /// Rewritten texts, back to back.
    pub(crate) masked: String,
}

impl LineTokens {
    /// Tokenises `content` on whitespace, masks and looks up every token.
    pub(crate) fn fill(&mut self, content: &str, interner: &Interner, max_tokens: usize, max_token_bytes: usize) {
        self.ids.clear();
        self.spans.clear();
        self.masked.clear();
        let max_tokens = max_tokens.max(1);
        let bytes = content.as_bytes();
        let len = bytes.len();
        let mut i = 0;
        // What the neighbour rules need to know about the previous token.
        let (mut after_number, mut after_user) = (false, false);
        loop {
            i += bytes[i..].iter().take_while(|&&b| byte_class(b) & BLANK != 0).count();
            if i >= len {
                break;
            }
            if self.ids.len() + 1 == max_tokens {
                // The rest of the line becomes one variable.
                let end = content.trim_end().len().max(i);
                self.push(WILD, i, end, 0, 0);
                break;
            }
            let start = i;
            let mut class = 0;
            for &b in &bytes[start..] {
                let c = byte_class(b);
                if c & BLANK != 0 {
                    break;
                }
                class |= c;
                i += 1;
            }
            let Some(raw) = content.get(start..i) else {
                continue;
            };
            let mstart = self.masked.len();
            let masked = mask_classified(raw, class, max_token_bytes, &mut self.masked);
            let (was_number, was_user) = (after_number, after_user);
            after_number = masked == Masked::Wildcard && raw.as_bytes().last().is_some_and(u8::is_ascii_digit);
            after_user = masked == Masked::Unchanged && matches!(raw.as_bytes(), [b'u', b's', b'e', b'r']);
            match masked {
                Masked::Unchanged => {
                    let candidate = (was_number && raw.len() <= neighbours::MAX_UNIT_BYTES + 1) || was_user;
                    if !(candidate && self.neighbour_rules(raw, was_number, was_user, interner, start, i)) {
                        self.push(interner.lookup(raw), start, i, 0, 0);
                    }
                }
                Masked::Wildcard => self.push(WILD, start, i, 0, 0),
                Masked::Rewritten => {
                    let mend = self.masked.len();
                    let id = interner.lookup(self.masked.get(mstart..mend).unwrap_or(""));
                    self.push(id, start, i, mstart, mend);
                }
            }
        }
    }

    /// Rules that need the previous token, for a word the token rules kept: a unit after a
    /// number joins it (`5.2 KB` → `<*>`), a name after `user` is a variable. Returns whether
    /// the word was consumed (pushed or merged).
    fn neighbour_rules(
        &mut self,
        raw: &str,
        after_number: bool,
        after_user: bool,
        interner: &Interner,
        start: usize,
        end: usize,
    ) -> bool {
        let (word, punct) = neighbours::split_trailing_punct(raw);
        let merge_unit = after_number && neighbours::is_unit(word);
        let user_name = !merge_unit && after_user && neighbours::is_user_name(word);
        if !merge_unit && !user_name {
            return false;
        }
        let token_start = if merge_unit {
            self.ids.pop();
            self.spans.pop().map_or(start, |s| s.start as usize)
        } else {
            start
        };
        if punct.is_empty() {
            self.push(WILD, token_start, end, 0, 0);
        } else {
            let mstart = self.masked.len();
            self.masked.push_str(WILDCARD);
            self.masked.push_str(punct);
            let mend = self.masked.len();
            let id = interner.lookup(self.masked.get(mstart..mend).unwrap_or(""));
            self.push(id, token_start, end, mstart, mend);
        }
        true
    }

    #[inline]
    fn push(&mut self, id: u32, start: usize, end: usize, masked_start: usize, masked_end: usize) {
        self.ids.push(id);
        self.spans.push(TokenSpan {
            start: start as u32,
            end: end as u32,
            masked_start: masked_start as u32,
            masked_end: masked_end as u32,
        });
    }

    /// The masked text of token `i` (its raw text when nothing was masked).
    pub(crate) fn text<'a>(&'a self, i: usize, content: &'a str) -> &'a str {
        let (Some(&id), Some(span)) = (self.ids.get(i), self.spans.get(i)) else {
            return "";
        };
        if id == WILD {
            WILDCARD
        } else if span.is_rewritten() {
            self.masked
                .get(span.masked_start as usize..span.masked_end as usize)
                .unwrap_or("")
        } else {
            content.get(span.raw()).unwrap_or("")
        }
    }

    /// Interns every token that is not known yet (used when a line founds a template).
    pub(crate) fn intern_all(&mut self, content: &str, interner: &mut Interner) {
        for i in 0..self.ids.len() {
            if self.ids[i] == UNKNOWN {
                let id = interner.intern(self.text(i, content));
                self.ids[i] = id;
            }
        }
    }
}
