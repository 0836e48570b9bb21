//! Splitting templates: the inverse of the sibling merge in [`super::merge`].
//!
//! A wildcard born from plain words (a constant word generalised against another plain word, which
//! happens when a full tree leaf forces a line into its most similar template, or when a word
//! meets a template pattern it does not fit) may really be a small constant set, like
//! `port state changed to <*>` that only ever sees `up` and `down`. Such a position is watched:
//! the distinct words it takes are counted. It stops being watched (it is a variable) as soon as
//! it takes a masked value (a number, an address, …) or [`SIBLING_VALUES`] distinct words, the
//! same evidence that makes the sibling merge declare a position variable. When it has been
//! observed on [`SPLIT_EVIDENCE_LINES`] lines with fewer distinct words than that, the template is
//! retired and replaced by one template per word, each with a new id (or the id of an identical
//! live template), reported as [`TemplateChange::Split`].
//!
//! Wildcards from masked variables and from sibling merges are never watched, so the two rules
//! cannot oscillate: a split position has fewer than [`SIBLING_VALUES`] values, a merged one at
//! least that many.

use super::compare::render;
use super::line::LineTokens;
use super::{Cluster, Miner, SIBLING_VALUES, Template, TemplateChange};
use crate::intern::WILD;

/// Lines a watched position must be observed on before it may split. If the position were a
/// variable taking [`SIBLING_VALUES`] equally likely values, the chance of seeing fewer of them in
/// this many lines is below `5 * 0.8^100 ≈ 1e-9`: no per-data-set tuning involved.
pub const SPLIT_EVIDENCE_LINES: u64 = 100;

/// A template's wildcard positions that are watched for splitting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WildWatch {
    /// The watched positions (at most one entry per position).
    pub(crate) positions: Vec<WatchedPosition>,
}

/// One watched wildcard position and the words it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WatchedPosition {
    /// Token position in the template.
    pub(crate) pos: u32,
    /// Lines observed since the position became a wildcard.
    pub(crate) observed: u64,
    /// Distinct words (interned ids) with the number of lines that had each, in first-seen order.
    pub(crate) values: Vec<(u32, u64)>,
}

impl Miner {
    /// Records the line's words at the watched positions of cluster `idx`; a position that takes
    /// a masked value or too many words is dropped.
    pub(super) fn observe_watched(&mut self, idx: usize, lt: &LineTokens, content: &str) {
        let Some(watch) = self.clusters.get_mut(idx).and_then(|c| c.wild.as_mut()) else {
            return;
        };
        let mut i = 0;
        while i < watch.positions.len() {
            let w = &mut watch.positions[i];
            let keep = match (lt.ids.get(w.pos as usize), lt.spans.get(w.pos as usize)) {
                (Some(&id), Some(span)) if id != WILD && !span.is_rewritten() => {
                    let word = match id {
                        crate::intern::UNKNOWN => self.interner.intern(lt.text(w.pos as usize, content)),
                        known => known,
                    };
                    w.observed += 1;
                    match w.values.iter_mut().find(|v| v.0 == word) {
                        Some(v) => v.1 += 1,
                        None => w.values.push((word, 1)),
                    }
                    w.values.len() < SIBLING_VALUES
                }
                _ => false,
            };
            if !keep {
                watch.positions.remove(i);
                continue;
            }
            i += 1;
        }
        if watch.positions.is_empty()
            && let Some(c) = self.clusters.get_mut(idx)
        {
            c.wild = None;
        }
    }

    /// Splits cluster `idx` when one of its watched positions has enough evidence; returns the
    /// index of the template the current line belongs to.
    pub(super) fn split_if_ready(
        &mut self,
        idx: usize,
        lt: &LineTokens,
        content: &str,
        changes: &mut Vec<TemplateChange>,
    ) -> usize {
        let ready = self
            .clusters
            .get(idx)
            .and_then(|c| c.wild.as_ref())
            .and_then(|w| w.positions.iter().position(|p| p.observed >= SPLIT_EVIDENCE_LINES));
        let Some(which) = ready else {
            return idx;
        };
        let line_word = self
            .clusters
            .get(idx)
            .and_then(|c| c.wild.as_ref())
            .and_then(|w| w.positions.get(which))
            .map(|w| self.interner.lookup(lt.text(w.pos as usize, content)));
        self.split(idx, which, line_word, changes)
    }

    /// Starts watching position `pos` of cluster `idx`, which just became a wildcard: `old` was
    /// its constant word (on `old_count` lines) and the current line has the word `new`.
    pub(super) fn watch(&mut self, idx: usize, pos: usize, old: u32, old_count: u64, new: u32) {
        if !self.config.split_low_cardinality {
            return;
        }
        let Some(c) = self.clusters.get_mut(idx) else {
            return;
        };
        let watch = c.wild.get_or_insert_with(Box::default);
        watch.positions.retain(|w| w.pos as usize != pos);
        watch.positions.push(WatchedPosition {
            pos: pos as u32,
            observed: 1,
            values: vec![(old, old_count), (new, 1)],
        });
    }

    /// When `drop` merges into `keep`, a position of `keep` stays watched only if `drop` watched
    /// it too (otherwise `drop`'s lines may have had variables there); the values are combined.
    pub(super) fn combine_watches(&mut self, drop: usize, keep: usize) {
        let dropped = self.clusters.get_mut(drop).and_then(|d| d.wild.take());
        let Some(k) = self.clusters.get_mut(keep) else {
            return;
        };
        let Some(kw) = k.wild.as_mut() else {
            return;
        };
        let Some(dw) = dropped else {
            k.wild = None;
            return;
        };
        kw.positions.retain_mut(|w| {
            let Some(other) = dw.positions.iter().find(|o| o.pos == w.pos) else {
                return false;
            };
            w.observed += other.observed;
            for &(word, n) in &other.values {
                match w.values.iter_mut().find(|v| v.0 == word) {
                    Some(v) => v.1 += n,
                    None => w.values.push((word, n)),
                }
            }
            w.values.len() < SIBLING_VALUES
        });
        if kw.positions.is_empty() {
            k.wild = None;
        }
    }

    /// Splits cluster `idx` at its watched position number `which` into one template per word and
    /// returns the index of the template for `line_word` (the current line's word there). The
    /// split is skipped (and the position no longer watched) when it would grow a tree leaf past
    /// `max_templates_per_leaf + SIBLING_VALUES - 1`, which keeps adversarial input bounded.
    pub(super) fn split(
        &mut self,
        idx: usize,
        which: usize,
        line_word: Option<u32>,
        changes: &mut Vec<TemplateChange>,
    ) -> usize {
        let Some((tokens, watched, from, old_text, leaf)) = self.clusters.get_mut(idx).and_then(|c| {
            let watched = c.wild.as_mut()?.positions.get(which)?.clone();
            Some((c.tokens.clone(), watched, c.id, c.text.clone(), c.leaf))
        }) else {
            return idx;
        };
        let pos = watched.pos as usize;
        let variants: Vec<(Vec<u32>, u64)> = watched
            .values
            .iter()
            .map(|&(word, n)| {
                let mut t = tokens.clone();
                if let Some(slot) = t.get_mut(pos) {
                    *slot = word;
                }
                (t, n)
            })
            .collect();
        let room = self.config.max_templates_per_leaf + SIBLING_VALUES - 1;
        let fits_tree = variants.iter().all(|(t, _)| {
            let size = self.tree.leaf_size(t, self.config.tree_depth);
            size + variants.len() <= room
        });
        if !fits_tree {
            if let Some(w) = self.clusters.get_mut(idx).and_then(|c| c.wild.as_mut()) {
                w.positions.remove(which);
                if w.positions.is_empty()
                    && let Some(c) = self.clusters.get_mut(idx)
                {
                    c.wild = None;
                }
            }
            return idx;
        }
        if let Some(node) = self.tree.nodes.get_mut(leaf as usize) {
            node.templates.retain(|&ci| ci as usize != idx);
        }
        let mut result = idx;
        let mut into = Vec::with_capacity(variants.len());
        for (variant, count) in variants {
            let is_line = variant.get(pos).copied() == line_word;
            let target = match self.live_twin(&variant) {
                Some(twin) => {
                    if let Some(c) = self.clusters.get_mut(twin) {
                        c.count += count;
                    }
                    twin
                }
                None => {
                    let new = self.insert_cluster(variant, count);
                    if let Some(c) = self.clusters.get(new) {
                        changes.push(TemplateChange::Created {
                            id: c.id,
                            template: c.text.clone(),
                        });
                    }
                    new
                }
            };
            if is_line {
                result = target;
            }
            if let Some(c) = self.clusters.get(target) {
                into.push(Template {
                    id: c.id,
                    text: c.text.clone(),
                    count: c.count,
                });
            }
        }
        if let Some(c) = self.clusters.get_mut(idx) {
            c.wild = None;
            c.split_into = into.iter().map(|t| t.id).collect();
        }
        changes.push(TemplateChange::Split {
            from,
            template: old_text,
            into,
        });
        result
    }

    /// A live template with exactly these tokens, if any.
    fn live_twin(&mut self, tokens: &[u32]) -> Option<usize> {
        let mut leaves = std::mem::take(&mut self.scratch.leaves);
        self.tree.candidate_leaves(tokens, self.config.tree_depth, &mut leaves);
        self.scratch.leaves_for = None;
        let twin = leaves
            .iter()
            .filter_map(|&leaf| self.tree.nodes.get(leaf as usize))
            .flat_map(|node| node.templates.iter())
            .map(|&ci| ci as usize)
            .find(|&ci| self.clusters.get(ci).is_some_and(|c| c.tokens == tokens));
        self.scratch.leaves = leaves;
        twin
    }

    /// Adds a new template (the next id) with these interned tokens to the tree.
    pub(super) fn insert_cluster(&mut self, tokens: Vec<u32>, count: u64) -> usize {
        let leaf = self
            .tree
            .leaf_for_insert(&tokens, self.config.tree_depth, self.config.max_children);
        let idx = self.clusters.len();
        if let Some(node) = self.tree.nodes.get_mut(leaf as usize) {
            node.templates.push(idx as u32);
        }
        let text = render(&self.interner, &tokens);
        self.clusters.push(Cluster {
            id: idx as u64 + 1,
            tokens,
            count,
            text,
            leaf,
            merged_into: None,
            wild: None,
            split_into: Vec::new(),
        });
        idx
    }
}
