//! Header format strings: parsing a Loghub-style format such as
//! `<date> <time> <level> <comp>: <content>` into typed elements, and matching a line against it.
//!
//! The matcher is hand written (no regex) so the hot path stays allocation free: every field is
//! matched lazily (shortest first) with bounded backtracking, and typed fields only accept the
//! characters their kind allows, which is what lets auto-detection tell formats apart.

use std::ops::Range;

use super::step::Step;
use crate::severity::{Severity, classify_level};

/// What a `<field>` in a header format accepts, and which header role it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// A date-like token: starts with a digit, then digits and `-/.:,TZ+`.
    Date,
    /// A time-like token: starts with a digit, then digits and `:.,`.
    Time,
    /// An English month abbreviation (`Jan` … `Dec`).
    Month,
    /// Day of month (digits), part of the timestamp.
    Day,
    /// Any run of non-blank characters treated as part of the timestamp (lazy, may contain blanks).
    Ts,
    /// An integer, optionally negative (pid, id, epoch, flag).
    Num,
    /// One non-blank token.
    Word,
    /// The host (node, machine) that wrote the line: one non-blank token.
    Host,
    /// A known severity word (`INFO`, `warn`, `E`, …).
    Level,
    /// The component (lazy: the shortest text after which the rest of the format matches).
    Comp,
    /// Anything (lazy), for example a bracketed thread or request context.
    Any,
    /// The message content: the rest of the line.
    Content,
}

impl FieldKind {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "date" => Self::Date,
            "time" => Self::Time,
            "month" => Self::Month,
            "day" => Self::Day,
            "ts" => Self::Ts,
            "num" => Self::Num,
            "word" => Self::Word,
            "host" => Self::Host,
            "level" => Self::Level,
            "comp" => Self::Comp,
            "any" => Self::Any,
            "content" => Self::Content,
            _ => return None,
        })
    }

    /// True when the field is part of the timestamp.
    pub(crate) fn is_time(self) -> bool {
        matches!(self, Self::Date | Self::Time | Self::Month | Self::Day | Self::Ts)
    }

    fn weight(self) -> u32 {
        match self {
            Self::Date | Self::Time | Self::Month | Self::Day | Self::Num | Self::Level => 3,
            Self::Word | Self::Host | Self::Comp | Self::Ts | Self::Any => 1,
            Self::Content => 0,
        }
    }

    /// Number of kinds (for tables indexed by `kind as usize`).
    pub(super) const COUNT: usize = 12;

    /// All kinds, in discriminant order.
    pub(super) const ALL: [Self; Self::COUNT] = [
        Self::Date,
        Self::Time,
        Self::Month,
        Self::Day,
        Self::Ts,
        Self::Num,
        Self::Word,
        Self::Host,
        Self::Level,
        Self::Comp,
        Self::Any,
        Self::Content,
    ];

    /// Whether the field accepts byte `b` (as its first byte when `first`).
    pub(super) const fn accepts_byte(self, b: u8, first: bool) -> bool {
        match self {
            Self::Date => {
                b.is_ascii_digit() || (!first && matches!(b, b'-' | b'/' | b'.' | b':' | b',' | b'T' | b'Z' | b'+'))
            }
            Self::Time => b.is_ascii_digit() || (!first && matches!(b, b':' | b'.' | b',')),
            Self::Num => b.is_ascii_digit() || (first && b == b'-'),
            Self::Day => b.is_ascii_digit(),
            Self::Month | Self::Level => b.is_ascii_alphabetic(),
            Self::Word | Self::Host => !b.is_ascii_whitespace(),
            Self::Ts | Self::Comp | Self::Any | Self::Content => true,
        }
    }
}

fn is_month(text: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS.contains(&text)
}

/// One element of a compiled header format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Element {
    /// A typed field.
    Field(FieldKind),
    /// One or more blanks.
    Space,
    /// Literal text.
    Lit(Box<str>),
}

/// A compiled header format.
#[derive(Debug, Clone)]
pub(crate) struct HeaderFormat {
    /// The format string it was compiled from.
    pub(crate) source: String,
    elements: Vec<Element>,
    /// Precomputed byte tests, one per element (same index).
    steps: Vec<Step>,
    /// Number of fields (captures) in the format.
    fields: usize,
    /// The kind of each field, in order.
    field_kinds: Vec<FieldKind>,
    /// How discriminating the format is (typed fields and literals weigh more).
    pub(crate) specificity: u32,
}

/// Error compiling a header format string.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    /// A `<name>` that is not one of the known field kinds.
    #[error("unknown header field `<{0}>` (known: date time month day ts num word level comp any content)")]
    UnknownField(String),
    /// A `<` without its closing `>`.
    #[error("unterminated `<` in header format")]
    Unterminated,
    /// The format must end with `<content>` and contain it exactly once.
    #[error("header format must end with `<content>`")]
    ContentNotLast,
}

/// The byte ranges a successful match captured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HeaderMatch {
    pub(crate) timestamp: Option<Range<usize>>,
    pub(crate) level: Option<Range<usize>>,
    pub(crate) component: Option<Range<usize>>,
    pub(crate) host: Option<Range<usize>>,
    pub(crate) content: Range<usize>,
    /// Severity of the level field, when the format classified it while matching.
    pub(crate) severity: Option<Severity>,
}

/// Mutable state of one match attempt.
struct MatchState {
    /// Byte range captured by each field.
    caps: [(u32, u32); MAX_FIELDS],
    /// Steps left (see [`STEP_BUDGET`]).
    budget: u32,
    /// Severity of the last level field that validated (that of the matching path on success).
    severity: Option<Severity>,
}

impl MatchState {
    /// Whether `line[pos..end]` is a level word; remembers its severity.
    #[inline]
    fn level_at(&mut self, line: &str, pos: usize, end: usize) -> bool {
        let severity = line.get(pos..end).and_then(classify_level);
        if severity.is_some() {
            self.severity = severity;
        }
        severity.is_some()
    }
}

/// Upper bound on backtracking steps per line, so no input can make matching slow.
const STEP_BUDGET: u32 = 4096;
/// Most fields a format may hold (captures live in a fixed array).
const MAX_FIELDS: usize = 16;

impl HeaderFormat {
    /// Compiles a format string such as `<date> <time> <level> <comp>: <content>`.
    pub(crate) fn compile(source: &str) -> Result<Self, FormatError> {
        let mut elements = Vec::new();
        let mut rest = source;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('<') {
                let end = after.find('>').ok_or(FormatError::Unterminated)?;
                let name = &after[..end];
                let kind = FieldKind::from_name(name).ok_or_else(|| FormatError::UnknownField(name.to_string()))?;
                elements.push(Element::Field(kind));
                rest = &after[end + 1..];
            } else if rest.starts_with(char::is_whitespace) {
                let end = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
                elements.push(Element::Space);
                rest = &rest[end..];
            } else {
                let end = rest.find(|c: char| c == '<' || c.is_whitespace()).unwrap_or(rest.len());
                elements.push(Element::Lit(rest[..end].into()));
                rest = &rest[end..];
            }
        }
        let content_count = elements
            .iter()
            .filter(|e| **e == Element::Field(FieldKind::Content))
            .count();
        if content_count != 1 || elements.last() != Some(&Element::Field(FieldKind::Content)) {
            return Err(FormatError::ContentNotLast);
        }
        let fields = elements.iter().filter(|e| matches!(e, Element::Field(_))).count();
        if fields > MAX_FIELDS {
            return Err(FormatError::UnknownField(format!(
                "too many fields ({fields} > {MAX_FIELDS})"
            )));
        }
        let specificity = elements
            .iter()
            .map(|e| match e {
                Element::Field(k) => k.weight(),
                Element::Lit(l) => 2 * l.len() as u32,
                Element::Space => 0,
            })
            .sum();
        let steps = (0..elements.len()).map(|at| Step::new(&elements, at)).collect();
        let field_kinds = elements
            .iter()
            .filter_map(|e| match e {
                Element::Field(k) => Some(*k),
                _ => None,
            })
            .collect();
        Ok(Self {
            source: source.to_string(),
            elements,
            steps,
            fields,
            field_kinds,
            specificity,
        })
    }

    /// Matches `line` (already stripped of its trailing newline) against the format.
    pub(crate) fn matches(&self, line: &str) -> Option<HeaderMatch> {
        let mut state = MatchState {
            caps: [(0, 0); MAX_FIELDS],
            budget: STEP_BUDGET,
            severity: None,
        };
        if !self.match_from(line, 0, 0, 0, &mut state) {
            return None;
        }
        let caps = state.caps;
        let fields = self.fields;
        let mut out = HeaderMatch::default();
        let mut ts: Option<Range<usize>> = None;
        for (&kind, &(start, end)) in self.field_kinds.iter().zip(caps.iter().take(fields)) {
            let (start, end) = (start as usize, end as usize);
            match kind {
                k if k.is_time() => {
                    ts = Some(match ts {
                        Some(r) => r.start..end,
                        None => start..end,
                    });
                }
                FieldKind::Level => out.level = Some(start..end),
                FieldKind::Comp => out.component = Some(start..end),
                FieldKind::Host => out.host = Some(start..end),
                FieldKind::Content => out.content = start..end,
                _ => {}
            }
        }
        out.timestamp = ts;
        out.severity = state.severity;
        Some(out)
    }

    fn match_from(&self, line: &str, elem: usize, field: usize, pos: usize, state: &mut MatchState) -> bool {
        if state.budget == 0 {
            return false;
        }
        state.budget -= 1;
        let bytes = line.as_bytes();
        let Some(element) = self.elements.get(elem) else {
            return pos == line.len();
        };
        match element {
            Element::Space => {
                let mut end = pos;
                while end < bytes.len() && bytes[end].is_ascii_whitespace() {
                    end += 1;
                }
                end > pos && self.match_from(line, elem + 1, field, end, state)
            }
            Element::Lit(lit) => {
                line[pos..].starts_with(&**lit) && self.match_from(line, elem + 1, field, pos + lit.len(), state)
            }
            Element::Field(FieldKind::Content) => {
                state.caps[field] = (pos as u32, line.len() as u32);
                true
            }
            Element::Field(kind) => {
                let kind = *kind;
                let Some(step) = self.steps.get(elem) else {
                    return false;
                };
                if matches!(kind, FieldKind::Comp | FieldKind::Ts)
                    && line
                        .get(pos..)
                        .is_some_and(|rest| rest.starts_with(char::is_whitespace))
                {
                    // Every candidate would fail validation.
                    return false;
                }
                if step.accepts_all {
                    // Free text: jump from one possible end to the next.
                    let mut end = pos;
                    while let Some(next) = step.next_free_end(bytes, end) {
                        end = next;
                        state.caps[field] = (pos as u32, end as u32);
                        if self.match_from(line, elem + 1, field + 1, end, state) {
                            return true;
                        }
                        if state.budget == 0 {
                            return false;
                        }
                    }
                    return false;
                }
                if step.single_end {
                    // Typed field: the run of accepted bytes is the only candidate.
                    if !bytes.get(pos).is_some_and(|&b| step.accept_first.contains(b)) {
                        return false;
                    }
                    let rest = bytes.get(pos + 1..).unwrap_or_default();
                    let end = pos
                        + 1
                        + rest
                            .iter()
                            .position(|&b| !step.accept_rest.contains(b))
                            .unwrap_or(rest.len());
                    if !step.may_end_at(bytes, end) {
                        return false;
                    }
                    let valid = match kind {
                        FieldKind::Level => state.level_at(line, pos, end),
                        FieldKind::Month => line.get(pos..end).is_some_and(is_month),
                        FieldKind::Num => bytes[pos..end].iter().any(u8::is_ascii_digit),
                        _ => true,
                    };
                    if !valid {
                        return false;
                    }
                    state.caps[field] = (pos as u32, end as u32);
                    return self.match_from(line, elem + 1, field + 1, end, state);
                }
                let mut end = pos;
                let mut has_digit = false;
                while let Some(&b) = bytes.get(end) {
                    let accepted = if end == pos {
                        step.accept_first.contains(b)
                    } else {
                        step.accept_rest.contains(b)
                    };
                    if !accepted {
                        break;
                    }
                    has_digit |= b.is_ascii_digit();
                    end += 1;
                    if !step.may_end_at(bytes, end) {
                        continue;
                    }
                    let valid = match kind {
                        FieldKind::Level => state.level_at(line, pos, end),
                        FieldKind::Month => line.get(pos..end).is_some_and(is_month),
                        FieldKind::Num => has_digit,
                        _ => true,
                    };
                    if !valid {
                        continue;
                    }
                    state.caps[field] = (pos as u32, end as u32);
                    if self.match_from(line, elem + 1, field + 1, end, state) {
                        return true;
                    }
                    if state.budget == 0 {
                        return false;
                    }
                }
                false
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parts<'a>(f: &HeaderFormat, line: &'a str) -> Option<(&'a str, &'a str, &'a str, &'a str)> {
        let m = f.matches(line)?;
        let get = |r: Option<Range<usize>>| r.map_or("", |r| &line[r]);
        Some((get(m.timestamp), get(m.level), get(m.component), &line[m.content]))
    }

    #[test]
    fn compiles_and_matches_hdfs_shape() {
        let f = HeaderFormat::compile("<date> <time> <num> <level> <comp>: <content>").unwrap();
        let line = "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block";
        assert_eq!(
            parts(&f, line),
            Some((
                "081109 203615",
                "INFO",
                "dfs.DataNode$PacketResponder",
                "PacketResponder 1 for block"
            ))
        );
    }

    #[test]
    fn lazy_fields_backtrack_over_nested_brackets() {
        let f = HeaderFormat::compile("<date> <time> - <level> [<any>] - <content>").unwrap();
        let line = "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200";
        let (ts, level, _, content) = parts(&f, line).unwrap();
        assert_eq!(ts, "2015-07-29 17:41:44,747");
        assert_eq!(level, "INFO");
        assert_eq!(content, "Notification time out: 3200");
    }

    #[test]
    fn numbers_may_be_negative() {
        let f = HeaderFormat::compile("<num> <word> <comp> <word> <num> <num> <content>").unwrap();
        let line = "2286759 full partition status 1061219795 -1 running";
        assert_eq!(parts(&f, line).map(|p| p.3), Some("running"));
        assert!(
            f.matches("2286759 full partition status 1061219795 - running")
                .is_none()
        );
    }

    #[test]
    fn rejects_bad_formats() {
        assert!(matches!(
            HeaderFormat::compile("<date> <bogus> <content>"),
            Err(FormatError::UnknownField(_))
        ));
        assert_eq!(
            HeaderFormat::compile("<content> <level>").err(),
            Some(FormatError::ContentNotLast)
        );
        assert_eq!(HeaderFormat::compile("<date").err(), Some(FormatError::Unterminated));
    }

    #[test]
    fn typed_fields_reject_wrong_shapes() {
        let f = HeaderFormat::compile("<date> <time> <level> <comp>: <content>").unwrap();
        assert!(f.matches("hello world INFO x: y").is_none());
        assert!(f.matches("17/06/09 20:10:40 NOTALEVEL x: y").is_none());
    }
}
