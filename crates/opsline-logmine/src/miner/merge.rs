//! Merging templates: sibling templates that differ in one word position (which is then a
//! variable), and templates that became identical after a generalisation.

use super::compare::{compare, render};
use super::line::LineTokens;
use super::{Miner, SIBLING_VALUES, TemplateChange};
use crate::intern::WILD;

impl Miner {
    /// When a line conflicts with [`SIBLING_VALUES`]` - 1` templates at the same single word
    /// position (and agrees with them elsewhere), that position is a variable after all: the
    /// siblings merge into the oldest, whose position becomes `<*>`. Returns the survivor.
    /// Uses the candidate leaves left in `self.scratch.leaves` by [`Self::best_match`].
    pub(super) fn merge_siblings(
        &mut self,
        lt: &LineTokens,
        content: &str,
        changes: &mut Vec<TemplateChange>,
    ) -> Option<usize> {
        let mut siblings: Vec<(usize, usize)> = Vec::new();
        for &leaf in &self.scratch.leaves {
            let Some(node) = self.tree.nodes.get(leaf as usize) else {
                continue;
            };
            for &ci in &node.templates {
                let Some(c) = self.clusters.get(ci as usize) else {
                    continue;
                };
                let cmp = compare(&self.interner, &c.tokens, lt, content);
                if cmp.similarity_without_conflict(c.tokens.len()) >= self.config.similarity_threshold {
                    siblings.push((cmp.first_conflict, ci as usize));
                }
            }
        }
        if siblings.len() + 1 < SIBLING_VALUES {
            return None;
        }
        siblings.sort_unstable();
        let mut best: Option<(usize, usize, usize)> = None; // (pos, start, len)
        let mut i = 0;
        while i < siblings.len() {
            let pos = siblings[i].0;
            let len = siblings[i..].iter().take_while(|s| s.0 == pos).count();
            if best.is_none_or(|b| len > b.2) {
                best = Some((pos, i, len));
            }
            i += len;
        }
        let (pos, start, len) = best?;
        if len + 1 < SIBLING_VALUES {
            return None;
        }
        let group: Vec<usize> = siblings[start..start + len].iter().map(|s| s.1).collect();
        let keep = *group.iter().min()?;
        let c = self.clusters.get_mut(keep)?;
        let old = c.text.clone();
        if let Some(slot) = c.tokens.get_mut(pos) {
            *slot = WILD;
        }
        c.text = render(&self.interner, &c.tokens);
        let (id, new) = (c.id, c.text.clone());
        changes.push(TemplateChange::Updated { id, old, new });
        for &other in group.iter().filter(|&&g| g != keep) {
            self.merge_into(other, keep, changes);
        }
        Some(keep)
    }

    /// After a generalisation, merges any other template that became identical.
    pub(super) fn merge_duplicates(&mut self, idx: usize, changes: &mut Vec<TemplateChange>) {
        let Some(tokens) = self.clusters.get(idx).map(|c| c.tokens.clone()) else {
            return;
        };
        let mut leaves = std::mem::take(&mut self.scratch.leaves);
        self.tree.candidate_leaves(&tokens, self.config.tree_depth, &mut leaves);
        self.scratch.leaves_for = None;
        let mut twins: Vec<usize> = Vec::new();
        for &leaf in &leaves {
            if let Some(node) = self.tree.nodes.get(leaf as usize) {
                for &ci in &node.templates {
                    let ci = ci as usize;
                    if ci != idx && self.clusters.get(ci).is_some_and(|c| c.tokens == tokens) {
                        twins.push(ci);
                    }
                }
            }
        }
        self.scratch.leaves = leaves;
        for twin in twins {
            let (keep, drop) = if twin < idx { (twin, idx) } else { (idx, twin) };
            self.merge_into(drop, keep, changes);
        }
    }

    pub(super) fn merge_into(&mut self, drop: usize, keep: usize, changes: &mut Vec<TemplateChange>) {
        let Some(d) = self.clusters.get(drop) else {
            return;
        };
        if d.merged_into.is_some() {
            return;
        }
        let (count, leaf, from) = (d.count, d.leaf, d.id);
        if let Some(node) = self.tree.nodes.get_mut(leaf as usize) {
            node.templates.retain(|&ci| ci as usize != drop);
        }
        self.combine_watches(drop, keep);
        let Some(k) = self.clusters.get_mut(keep) else {
            return;
        };
        k.count += count;
        let (into, template) = (k.id, k.text.clone());
        if let Some(d) = self.clusters.get_mut(drop) {
            d.merged_into = Some(into);
        }
        changes.push(TemplateChange::Merged { from, into, template });
    }
}
