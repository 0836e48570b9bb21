//! Turning a line's content into masked, interned tokens without per-token allocations.

use std::ops::Range;

use crate::intern::{Interner, UNKNOWN, WILD};
use crate::mask::{Masked, WILDCARD, mask_token};

/// One token of the current line.
#[derive(Debug, Clone)]
pub(crate) struct LineToken {
    /// Interned id of the masked text, [`WILD`] or [`UNKNOWN`].
    pub(crate) id: u32,
    /// Byte range of the original token in the content.
    pub(crate) raw: Range<usize>,
    /// Byte range of the masked text in [`LineTokens::masked`], when it differs from the raw text.
    pub(crate) masked: Option<Range<usize>>,
}

/// Reusable buffers holding the current line's tokens.
#[derive(Debug, Default)]
pub(crate) struct LineTokens {
    pub(crate) tokens: Vec<LineToken>,
    pub(crate) masked: String,
}

impl LineTokens {
    /// Tokenises `content` on whitespace, masks and looks up every token.
    pub(crate) fn fill(&mut self, content: &str, interner: &Interner, max_tokens: usize, max_token_bytes: usize) {
        self.tokens.clear();
        self.masked.clear();
        let max_tokens = max_tokens.max(1);
        let bytes = content.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            if self.tokens.len() + 1 == max_tokens {
                // The rest of the line becomes one variable.
                let end = content.trim_end().len().max(i);
                self.tokens.push(LineToken {
                    id: WILD,
                    raw: i..end,
                    masked: None,
                });
                break;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let raw = &content[start..i];
            let mstart = self.masked.len();
            let (id, masked) = match mask_token(raw, max_token_bytes, &mut self.masked) {
                Masked::Unchanged => (interner.lookup(raw), None),
                Masked::Wildcard => (WILD, None),
                Masked::Rewritten => {
                    let text = &self.masked[mstart..];
                    (interner.lookup(text), Some(mstart..self.masked.len()))
                }
            };
            self.tokens.push(LineToken {
                id,
                raw: start..i,
                masked,
            });
        }
    }

    /// The masked text of token `i` (its raw text when nothing was masked).
    pub(crate) fn text<'a>(&'a self, i: usize, content: &'a str) -> &'a str {
        match self.tokens.get(i) {
            Some(t) if t.id == WILD => WILDCARD,
            Some(t) => match &t.masked {
                Some(r) => &self.masked[r.clone()],
                None => &content[t.raw.clone()],
            },
            None => "",
        }
    }

    /// Interns every token that is not known yet (used when a line founds a template).
    pub(crate) fn intern_all(&mut self, content: &str, interner: &mut Interner) {
        for i in 0..self.tokens.len() {
            if self.tokens[i].id == UNKNOWN {
                let id = interner.intern(self.text(i, content));
                self.tokens[i].id = id;
            }
        }
    }
}
