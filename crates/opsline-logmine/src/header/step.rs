//! Precomputed byte tests for the header matcher: which bytes each field accepts and where each
//! element may end, so matching a line is a few table lookups per byte.

use super::format::{Element, FieldKind};

/// A set of byte values.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ByteSet([u64; 4]);

impl ByteSet {
    /// The set of bytes for which `f` holds.
    fn from_fn(f: impl Fn(u8) -> bool) -> Self {
        let mut set = [0u64; 4];
        for b in 0..=255u8 {
            if f(b) {
                set[usize::from(b >> 6)] |= 1 << (b & 63);
            }
        }
        Self(set)
    }

    /// Whether `b` is in the set.
    #[inline(always)]
    pub(super) fn contains(&self, b: u8) -> bool {
        (self.0[usize::from(b >> 6)] >> (b & 63)) & 1 != 0
    }
}

/// Precomputed tests for one element: which bytes a field accepts, and where the element may end
/// (where the next element can start).
#[derive(Debug, Clone, Default)]
pub(super) struct Step {
    /// Bytes a field accepts as its first byte.
    pub(super) accept_first: ByteSet,
    /// Bytes a field accepts after the first.
    pub(super) accept_rest: ByteSet,
    /// Bytes at which the element may end (the byte that follows it).
    pub(super) end_before: ByteSet,
    /// Whether the element may end at the end of the line.
    pub(super) end_at_eol: bool,
    /// When the next element is a literal, the whole literal must follow.
    pub(super) end_lit: Option<Box<[u8]>>,
    /// The field accepts every byte (a free-text field: `ts`, `comp`, `any`).
    pub(super) accepts_all: bool,
    /// When set, the element can only end right before this byte (a blank or a literal's first
    /// byte), so a free-text field can jump from one occurrence to the next.
    pub(super) end_byte: Option<u8>,
    /// No byte the field accepts after its first can precede its end, so the only possible end
    /// is where the run of accepted bytes stops.
    pub(super) single_end: bool,
}

impl Step {
    /// The tests for element `at` of a compiled format.
    pub(super) fn new(elements: &[Element], at: usize) -> Self {
        let (accept_first, accept_rest) = match elements.get(at) {
            Some(Element::Field(k)) => (
                ByteSet::from_fn(|b| k.accepts_byte(b, true)),
                ByteSet::from_fn(|b| k.accepts_byte(b, false)),
            ),
            _ => (ByteSet::default(), ByteSet::default()),
        };
        // `b < 0x80 || b >= 0xC0`: the byte starts a character.
        let starts_char = |b: u8| (b as i8) >= -0x40;
        let (end_before, end_at_eol, end_lit) = match elements.get(at + 1) {
            None => (ByteSet::default(), true, None),
            Some(Element::Space) => (ByteSet::from_fn(|b| b.is_ascii_whitespace()), false, None),
            Some(Element::Lit(lit)) => {
                let first = lit.as_bytes().first().copied();
                (
                    ByteSet::from_fn(|b| Some(b) == first),
                    false,
                    Some(lit.as_bytes().into()),
                )
            }
            Some(Element::Field(FieldKind::Content)) => (ByteSet::from_fn(starts_char), true, None),
            Some(Element::Field(k)) => (
                ByteSet::from_fn(|b| starts_char(b) && k.accepts_byte(b, true)),
                false,
                None,
            ),
        };
        let accepts_all = (0..=255u8).all(|b| accept_first.contains(b) && accept_rest.contains(b));
        let mut members = (0..=255u8).filter(|&b| end_before.contains(b));
        let end_byte = match (members.next(), members.next(), end_at_eol) {
            (Some(b), None, false) => Some(b),
            _ => None,
        };
        let single_end = (0..=255u8).all(|b| !(accept_rest.contains(b) && end_before.contains(b)));
        Self {
            accept_first,
            accept_rest,
            end_before,
            end_at_eol,
            end_lit,
            accepts_all,
            end_byte,
            single_end,
        }
    }

    /// The next position after `from` (exclusive) where this free-text element may end, if any.
    #[inline]
    pub(super) fn next_free_end(&self, bytes: &[u8], from: usize) -> Option<usize> {
        let mut at = from + 1;
        loop {
            let rest = bytes.get(at..)?;
            let found = match self.end_byte {
                Some(b) => memchr::memchr(b, rest),
                None => rest.iter().position(|&b| self.end_before.contains(b)),
            };
            match found {
                Some(p) => {
                    at += p;
                    if self.end_lit.as_deref().is_none_or(|lit| bytes[at..].starts_with(lit)) {
                        return Some(at);
                    }
                    at += 1;
                }
                None => return self.end_at_eol.then_some(bytes.len()),
            }
        }
    }

    /// Whether the element may end at byte `end` of `bytes`: a character boundary where the next
    /// element can start.
    #[inline(always)]
    pub(super) fn may_end_at(&self, bytes: &[u8], end: usize) -> bool {
        match bytes.get(end) {
            None => self.end_at_eol,
            Some(&b) => {
                self.end_before.contains(b)
                    && self
                        .end_lit
                        .as_deref()
                        .is_none_or(|lit| bytes.get(end..).is_some_and(|rest| rest.starts_with(lit)))
            }
        }
    }
}
