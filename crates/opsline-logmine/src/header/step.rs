//! Precomputed byte tests for the header matcher: which bytes each field accepts and where each
//! element may end, so matching a line is a few table lookups per byte.

use super::format::{Element, FieldKind};

/// A set of byte values: one of the static tables below, so testing a byte is one load.
#[derive(Debug, Clone, Copy)]
pub(super) struct ByteSet(&'static [bool; 256]);

impl Default for ByteSet {
    fn default() -> Self {
        Self(&NONE)
    }
}

impl ByteSet {
    /// Whether `b` is in the set.
    #[inline(always)]
    pub(super) fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

/// `b < 0x80 || b >= 0xC0`: the byte starts a character.
const fn starts_char(b: u8) -> bool {
    (b as i8) >= -0x40
}

/// What a field accepts: `[kind][first as usize][byte]`.
static ACCEPT: [[[bool; 256]; 2]; FieldKind::COUNT] = {
    let mut table = [[[false; 256]; 2]; FieldKind::COUNT];
    let mut k = 0;
    while k < FieldKind::COUNT {
        let mut b = 0;
        while b < 256 {
            table[k][0][b] = FieldKind::ALL[k].accepts_byte(b as u8, false);
            table[k][1][b] = FieldKind::ALL[k].accepts_byte(b as u8, true);
            b += 1;
        }
        k += 1;
    }
    table
};

/// Bytes where a field of each kind can start: `[kind][byte]` (a character start it accepts).
static STARTS: [[bool; 256]; FieldKind::COUNT] = {
    let mut table = [[false; 256]; FieldKind::COUNT];
    let mut k = 0;
    while k < FieldKind::COUNT {
        let mut b = 0;
        while b < 256 {
            table[k][b] = starts_char(b as u8) && FieldKind::ALL[k].accepts_byte(b as u8, true);
            b += 1;
        }
        k += 1;
    }
    table
};

/// Blanks.
static BLANKS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_whitespace();
        b += 1;
    }
    table
};

/// Character starts.
static CHAR_STARTS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = starts_char(b as u8);
        b += 1;
    }
    table
};

/// No byte.
static NONE: [bool; 256] = [false; 256];
/// Every byte.
static EVERY: [bool; 256] = [true; 256];

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
            Some(Element::Field(k)) => (ByteSet(&ACCEPT[*k as usize][1]), ByteSet(&ACCEPT[*k as usize][0])),
            _ => (ByteSet::default(), ByteSet::default()),
        };
        // Where the element may end: where the next one can start. A literal is checked whole
        // (`end_lit`), so its set admits every byte and `end_byte` jumps to its first byte.
        let (end_before, end_at_eol, end_lit) = match elements.get(at + 1) {
            None => (ByteSet(&NONE), true, None),
            Some(Element::Space) => (ByteSet(&BLANKS), false, None),
            Some(Element::Lit(lit)) => (ByteSet(&EVERY), false, Some(Box::<[u8]>::from(lit.as_bytes()))),
            Some(Element::Field(FieldKind::Content)) => (ByteSet(&CHAR_STARTS), true, None),
            Some(Element::Field(k)) => (ByteSet(&STARTS[*k as usize]), false, None),
        };
        let lit_first = end_lit.as_deref().and_then(<[u8]>::first).copied();
        let accepts_all = (0..=255u8).all(|b| accept_first.contains(b) && accept_rest.contains(b));
        let end_byte = lit_first;
        let single_end = match lit_first {
            Some(first) => !accept_rest.contains(first),
            None => (0..=255u8).all(|b| !(accept_rest.contains(b) && end_before.contains(b))),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_the_field_definitions() {
        for (i, kind) in FieldKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i);
            for b in 0..=255u8 {
                assert_eq!(ACCEPT[i][1][usize::from(b)], kind.accepts_byte(b, true));
                assert_eq!(ACCEPT[i][0][usize::from(b)], kind.accepts_byte(b, false));
                let starts = (b as char).is_ascii() || b >= 0xC0;
                assert_eq!(STARTS[i][usize::from(b)], starts && kind.accepts_byte(b, true));
                assert_eq!(CHAR_STARTS[usize::from(b)], starts);
                assert_eq!(BLANKS[usize::from(b)], b.is_ascii_whitespace());
            }
        }
    }
}
