//! Turning a line's content into masked, interned tokens without per-token allocations.

use super::neighbours;
use crate::intern::{Interner, UNKNOWN, WILD};
use crate::mask::{BLANK, DIGIT, MaskMemo, Masked, WILDCARD, byte_class, mask_classified};

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

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The end of the token starting at `start`: the first ASCII whitespace byte after it, or the
/// end of `bytes`. Eight bytes are checked at once for any byte up to `0x20` (whitespace and
/// other control bytes); the lowest flagged byte of that test is exact.
#[inline]
fn token_end(bytes: &[u8], start: usize) -> usize {
    let n = bytes.len();
    let mut j = start;
    loop {
        if let Some(word) = bytes.get(j..j + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            let w = u64::from_le_bytes(word);
            let low = w.wrapping_sub(ONES * 0x21) & !w & HIGHS;
            if low == 0 {
                j += 8;
                continue;
            }
            j += (low.trailing_zeros() / 8) as usize;
        } else {
            while j < n && bytes[j] > 0x20 {
                j += 1;
            }
            if j >= n {
                return n;
            }
        }
        // `bytes[j]` is at most 0x20: whitespace ends the token, other control bytes belong to it.
        if byte_class(bytes[j]) & BLANK != 0 {
            return j;
        }
        j += 1;
    }
}

/// The union of [`byte_class`] over `bytes`, four bytes per step.
#[inline]
fn class_of(bytes: &[u8]) -> u16 {
    let mut chunks = bytes.chunks_exact(4);
    let (mut a, mut b) = (0, 0);
    for c in &mut chunks {
        if let &[w, x, y, z] = c {
            a |= byte_class(w) | byte_class(x);
            b |= byte_class(y) | byte_class(z);
        }
    }
    for &x in chunks.remainder() {
        a |= byte_class(x);
    }
    a | b
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
    /// Outcomes of the general masking path for recent tokens.
    memo: MaskMemo,
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
            i = token_end(bytes, start);
            let class = class_of(&bytes[start..i]);
            let Some(raw) = content.get(start..i) else {
                continue;
            };
            let mstart = self.masked.len();
            // A token without digits that is already in the table as a text masking keeps needs
            // no masking (the verdict was taken when it was interned); otherwise its id is known
            // for the case masking keeps it.
            let (masked, known) = if class & DIGIT == 0 && raw.len() <= max_token_bytes {
                match interner.lookup_word(raw) {
                    (id, true) => (Masked::Unchanged, Some(id)),
                    (id, false) => (
                        mask_classified(raw, class, max_token_bytes, &mut self.masked, Some(&mut self.memo)),
                        Some(id),
                    ),
                }
            } else {
                (
                    mask_classified(raw, class, max_token_bytes, &mut self.masked, Some(&mut self.memo)),
                    None,
                )
            };
            let (was_number, was_user) = (after_number, after_user);
            after_number = masked == Masked::Wildcard && raw.as_bytes().last().is_some_and(u8::is_ascii_digit);
            after_user = masked == Masked::Unchanged && matches!(raw.as_bytes(), [b'u', b's', b'e', b'r']);
            match masked {
                Masked::Unchanged => {
                    let candidate = (was_number && raw.len() <= neighbours::MAX_UNIT_BYTES + 1) || was_user;
                    if !(candidate && self.neighbour_rules(raw, was_number, was_user, interner, start, i)) {
                        let id = known.unwrap_or_else(|| interner.lookup(raw));
                        self.push(id, start, i, 0, 0);
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
