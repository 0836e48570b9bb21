//! A small memo of the general masking path ([`super::mask_pieces`]): tokens such as
//! `R02-M1-N0-C:J12-U11`, `HTTP/1.1"` or `[QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:...]` repeat
//! from line to line, and their masked text depends on their bytes alone, so a direct-mapped
//! table of recent tokens and their outcomes answers them without scanning again.
//!
//! The table is small and fixed (it holds recent tokens, not a corpus): [`SLOTS`] slots of at
//! most [`MAX_KEY`] token bytes each, allocated on first use; a token that does not fit is
//! masked every time. A hit gives exactly what masking would give.

use std::hash::Hasher;

use super::Masked;
use crate::hash::TokenHasher;

/// Number of slots (a power of two).
const SLOTS: usize = 512;
/// Longest token kept in the memo.
pub(super) const MAX_KEY: usize = 64;
/// Bytes per slot: the token, then its masked text.
const SLOT_BYTES: usize = 160;

/// One remembered token: `bytes[..key_len]` is the token, the `out_len` bytes after it the
/// text masking appended (empty unless the outcome is [`Masked::Rewritten`]).
#[derive(Clone)]
struct Slot {
    key_len: u8,
    out_len: u8,
    outcome: Masked,
    bytes: [u8; SLOT_BYTES],
}

const EMPTY: Slot = Slot {
    key_len: 0,
    out_len: 0,
    outcome: Masked::Unchanged,
    bytes: [0; SLOT_BYTES],
};

/// The memo (empty until first used).
#[derive(Clone, Default)]
pub(crate) struct MaskMemo {
    slots: Vec<Slot>,
}

impl std::fmt::Debug for MaskMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskMemo")
            .field("used", &self.slots.iter().filter(|s| s.key_len > 0).count())
            .finish()
    }
}

/// The slot index of a token.
#[inline]
fn slot_of(token: &[u8]) -> usize {
    let mut h = TokenHasher::default();
    h.write(token);
    (h.finish() as usize) & (SLOTS - 1)
}

impl MaskMemo {
    /// Masks `token` with `mask` (which appends to `out`), or replays the remembered outcome.
    #[inline]
    pub(super) fn mask(&mut self, token: &str, out: &mut String, mask: impl FnOnce(&mut String) -> Masked) -> Masked {
        let key = token.as_bytes();
        if key.is_empty() || key.len() > MAX_KEY {
            return mask(out);
        }
        let at = slot_of(key);
        if let Some(slot) = self.slots.get(at)
            && usize::from(slot.key_len) == key.len()
            && slot.bytes.get(..key.len()) == Some(key)
        {
            let text = slot.bytes.get(key.len()..key.len() + usize::from(slot.out_len));
            if let Some(text) = text.and_then(|t| std::str::from_utf8(t).ok()) {
                out.push_str(text);
                return slot.outcome;
            }
        }
        let start = out.len();
        let outcome = mask(out);
        let text = out.as_bytes().get(start..).unwrap_or_default();
        if key.len() + text.len() <= SLOT_BYTES
            && let (Ok(key_len), Ok(out_len)) = (u8::try_from(key.len()), u8::try_from(text.len()))
        {
            if self.slots.is_empty() {
                self.slots = vec![EMPTY; SLOTS];
            }
            if let Some(slot) = self.slots.get_mut(at) {
                slot.key_len = key_len;
                slot.out_len = out_len;
                slot.outcome = outcome;
                slot.bytes[..key.len()].copy_from_slice(key);
                slot.bytes[key.len()..key.len() + text.len()].copy_from_slice(text);
            }
        }
        outcome
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn replays_the_outcome_and_text_and_runs_once_per_token() {
        let mut memo = MaskMemo::default();
        let mut calls = 0;
        for _ in 0..3 {
            let mut out = String::from("x");
            let outcome = memo.mask("uid=0", &mut out, |o| {
                calls += 1;
                o.push_str("uid=<*>");
                Masked::Rewritten
            });
            assert_eq!((outcome, out.as_str()), (Masked::Rewritten, "xuid=<*>"));
        }
        assert_eq!(calls, 1);
    }

    #[test]
    fn long_tokens_are_not_remembered() {
        let mut memo = MaskMemo::default();
        let long = "a1".repeat(MAX_KEY);
        let mut calls = 0;
        for _ in 0..2 {
            memo.mask(&long, &mut String::new(), |_| {
                calls += 1;
                Masked::Wildcard
            });
        }
        assert_eq!(calls, 2);
    }
}
