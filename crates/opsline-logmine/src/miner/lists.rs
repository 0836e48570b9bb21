//! Variable-length lists: a run of whole variables (`blk_1 blk_2 blk_3`) whose length changes
//! between otherwise identical lines is one list, so it collapses into one wildcard instead of
//! giving one template per length.
//!
//! A list is a run of two or more whole variables with the same stem (the text before the first
//! digit: `blk_1 blk_-2`, `3552 3534`; `Jun 17` is not a list). A run length alone proves nothing
//! (`Fan speeds ( 3552 3534 3375 )` always has three values), so lists collapse only for a line
//! shape that has been seen with two different lengths. The shape is the line with every list
//! collapsed. Only lines that fit no template as they are are looked at (a line that fits has
//! a known length). When a shape first
//! shows two lengths, the template its first line went to merges into the collapsed one
//! (a [`TemplateChange::Merged`]). Shapes are not part of snapshots: after a restore the
//! evidence is gathered again.

use std::collections::HashMap;
use std::hash::Hasher;

use super::line::{LineTokens, TokenSpan};
use super::{Miner, TemplateChange};
use crate::hash::{BuildTokenHasher, TokenHasher};
use crate::intern::WILD;

/// At most this many line shapes are remembered (a bound against adversarial input; once full,
/// new shapes never collapse).
pub(crate) const MAX_LIST_SHAPES: usize = 4096;

/// What is known about one collapsed line shape.
#[derive(Debug, Clone, Copy)]
struct ListShape {
    /// Token count of the first line seen with this shape.
    first_len: usize,
    /// The template id that first line went to.
    first_template: Option<u64>,
    /// Whether lines of this shape came with different lengths (its runs are lists).
    variable: bool,
}

/// Line shapes seen with runs of whole variables.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListShapes {
    shapes: HashMap<u64, ListShape, BuildTokenHasher>,
}

/// What to do with the current line after mining it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListAction {
    /// Nothing to record.
    None,
    /// Record the line's template as the first of shape `key`.
    Record(u64),
    /// The shape just became a list: merge this template (the first line's) into the line's.
    Merge(u64),
}

/// The text before a token's first digit, without a trailing sign (`blk_` for `blk_-42` and
/// `blk_7`); the whole token when it has no digit.
fn stem(raw: &[u8]) -> &[u8] {
    let digit = raw.iter().position(u8::is_ascii_digit).unwrap_or(raw.len());
    let mut end = digit;
    while end > 0 && digit < raw.len() && matches!(raw[end - 1], b'-' | b'+') {
        end -= 1;
    }
    &raw[..end]
}

/// Whether token `b` continues a list after token `a` (id and span): both are whole variables
/// of the same stem (`blk_1 blk_-2`, `3552 3534`; not `Jun 17`).
#[inline]
fn joins(content: &str, a: (u32, TokenSpan), b: (u32, TokenSpan)) -> bool {
    let text = |s: TokenSpan| content.as_bytes().get(s.raw()).unwrap_or_default();
    a.0 == WILD && b.0 == WILD && stem(text(a.1)) == stem(text(b.1))
}

/// Whether token `i` of the line continues a list.
#[inline]
fn joins_previous(lt: &LineTokens, content: &str, i: usize) -> bool {
    match (
        lt.ids.get(i.wrapping_sub(1)),
        lt.spans.get(i.wrapping_sub(1)),
        lt.ids.get(i),
        lt.spans.get(i),
    ) {
        (Some(&pa), Some(&sa), Some(&pb), Some(&sb)) => joins(content, (pa, sa), (pb, sb)),
        _ => false,
    }
}

/// Whether the line has a list: two whole variables of the same stem in a row.
#[inline]
fn has_list(lt: &LineTokens, content: &str) -> bool {
    (1..lt.ids.len()).any(|i| joins_previous(lt, content, i))
}

impl ListShapes {
    /// Looks at a line with at least one run: returns the shape key and whether it is a list.
    fn classify(&mut self, lt: &LineTokens, content: &str) -> (u64, ListAction, bool) {
        let mut h = TokenHasher::default();
        for i in 0..lt.ids.len() {
            if joins_previous(lt, content, i) {
                continue;
            }
            // Texts, not ids: a word's id appears when a template first holds it.
            h.write(lt.text(i, content).as_bytes());
            h.write_u8(0xff);
        }
        let key = h.finish();
        let len = lt.ids.len();
        let full = self.shapes.len() >= MAX_LIST_SHAPES;
        match self.shapes.get_mut(&key) {
            None if full => (key, ListAction::None, false),
            None => {
                self.shapes.insert(
                    key,
                    ListShape {
                        first_len: len,
                        first_template: None,
                        variable: false,
                    },
                );
                (key, ListAction::Record(key), false)
            }
            Some(s) if s.variable => (key, ListAction::None, true),
            Some(s) if s.first_len == len => (key, ListAction::None, false),
            Some(s) => {
                s.variable = true;
                let action = s.first_template.map_or(ListAction::None, ListAction::Merge);
                (key, action, true)
            }
        }
    }

    fn record(&mut self, key: u64, template: u64) {
        if let Some(s) = self.shapes.get_mut(&key) {
            s.first_template = Some(template);
        }
    }
}

/// Collapses every list (see [`joins_previous`]) into its first token, whose span then covers
/// the list.
fn collapse_lists(lt: &mut LineTokens, content: &str) {
    let mut w = 0;
    // The original token before `r` (slots before `r` are rewritten as the loop goes).
    let mut prev: Option<(u32, TokenSpan)> = None;
    for r in 0..lt.ids.len() {
        let cur = (lt.ids[r], lt.spans[r]);
        let join = prev.is_some_and(|p| joins(content, p, cur));
        prev = Some(cur);
        if join && w > 0 {
            lt.spans[w - 1].end = cur.1.end;
            continue;
        }
        lt.ids[w] = cur.0;
        lt.spans[w] = cur.1;
        w += 1;
    }
    lt.ids.truncate(w);
    lt.spans.truncate(w);
}

impl Miner {
    /// Before mining a line that fits no template as it is: collapses its lists when its shape
    /// is known to hold lists. Returns what to do after mining (see [`Self::lists_after`]) and
    /// whether the line was collapsed.
    pub(super) fn lists_before(&mut self, lt: &mut LineTokens, content: &str) -> (ListAction, bool) {
        if !has_list(lt, content) {
            return (ListAction::None, false);
        }
        let (_, action, collapse) = self.lists.classify(lt, content);
        if collapse {
            collapse_lists(lt, content);
        }
        (action, collapse)
    }

    /// After mining a line into cluster `idx`: records or merges (see [`ListAction`]). Returns
    /// the live cluster index.
    pub(super) fn lists_after(&mut self, action: ListAction, idx: usize, changes: &mut Vec<TemplateChange>) -> usize {
        match action {
            ListAction::None => idx,
            ListAction::Record(key) => {
                if let Some(c) = self.clusters.get(idx) {
                    self.lists.record(key, c.id);
                }
                idx
            }
            ListAction::Merge(first) => {
                let Some(other) = usize::try_from(first).ok().and_then(|i| i.checked_sub(1)) else {
                    return idx;
                };
                let other = self.resolve(other);
                let live =
                    |c: Option<&super::Cluster>| c.is_some_and(|c| c.merged_into.is_none() && c.split_into.is_empty());
                if other != idx && live(self.clusters.get(other)) && live(self.clusters.get(idx)) {
                    self.merge_into(other, idx, changes);
                }
                idx
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::{Miner, MinerConfig};

    fn miner() -> Miner {
        Miner::new(MinerConfig {
            detect_header: false,
            ..MinerConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn lists_of_changing_length_collapse_into_one_template() {
        let mut m = miner();
        let a = m.ingest(b"purge queued for segments seg_11 seg_12 seg_13 seg_14");
        let b = m.ingest(b"purge queued for segments seg_21 seg_22");
        let c = m.ingest(b"purge queued for segments seg_31 seg_32 seg_33");
        let d = m.ingest(b"purge queued for segments seg_41");
        assert_eq!(&*b.template, "purge queued for segments <*>");
        assert_eq!(b.params, vec!["seg_21 seg_22".to_string()]);
        assert!(
            b.changes
                .iter()
                .any(|ch| matches!(ch, crate::TemplateChange::Merged { from, into, .. } if *from == a.template_id && *into == b.template_id))
        );
        assert_eq!(c.template_id, b.template_id);
        assert_eq!(d.template_id, b.template_id);
        assert_eq!(m.template(a.template_id).unwrap().id, b.template_id);
        assert_eq!(m.template_count(), 1);
    }

    #[test]
    fn stems() {
        assert_eq!(super::stem(b"blk_-42"), b"blk_");
        assert_eq!(super::stem(b"blk_7"), b"blk_");
        assert_eq!(super::stem(b"3552"), b"");
        assert_eq!(super::stem(b"Jun"), b"Jun");
        assert_eq!(super::stem(b"-"), b"-");
    }

    #[test]
    fn different_stems_are_not_lists() {
        let mut m = miner();
        let a = m.ingest(b"backup done at Jun 17 after retries");
        let b = m.ingest(b"backup done at Jun 17 2024 after retries");
        assert_eq!(&*a.template, "backup done at <*> <*> after retries");
        assert_eq!(&*b.template, "backup done at <*> <*> <*> after retries");
    }

    #[test]
    fn fixed_length_runs_stay_as_they_are() {
        let mut m = miner();
        for i in 0..20 {
            let p = m.ingest(format!("fan rpm ( {} {} {} ) ok", 3000 + i, 3100 + i, 3200 + i).as_bytes());
            assert_eq!(&*p.template, "fan rpm ( <*> <*> <*> ) ok");
        }
        let p = m.ingest(b"fan rpm ( 3000 3100 3200 ) fail");
        assert_eq!(&*p.template, "fan rpm ( <*> <*> <*> ) fail");
    }
}
