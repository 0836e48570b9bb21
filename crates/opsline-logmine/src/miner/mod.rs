//! The online template miner: header split, masking, Drain-style prefix-tree search with a
//! similarity threshold on constant tokens, template generalisation, and merging of templates
//! that become identical. Pure: no I/O.

mod change;
mod compare;
mod line;
mod lists;
mod merge;
mod neighbours;
mod parsed;
mod split;
pub(crate) mod tree;

use std::sync::Arc;

use crate::config::MinerConfig;
use crate::header::{Detector, Header, HeaderFormat, HeaderMatch, HeaderStrategy};
use crate::intern::{Interner, WILD};
pub use change::{Template, TemplateChange};
use compare::{fits, generalise, render, similarity, wildcards};
use line::LineTokens;
pub use parsed::{HeaderRef, ParsedRef};
pub use split::SPLIT_EVIDENCE_LINES;
pub(crate) use split::{WatchedPosition, WildWatch};
use tree::Tree;

/// The result of mining one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Id of the template the line belongs to.
    pub template_id: u64,
    /// The template text, with `<*>` for variables.
    pub template: Arc<str>,
    /// The values of the line's variable tokens, in order.
    pub params: Vec<String>,
    /// The header fields.
    pub header: Header,
    /// Template changes caused by this line (usually empty).
    pub changes: Vec<TemplateChange>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) id: u64,
    pub(crate) tokens: Vec<u32>,
    pub(crate) count: u64,
    pub(crate) text: Arc<str>,
    pub(crate) leaf: u32,
    pub(crate) merged_into: Option<u64>,
    /// Wildcard positions watched for splitting (see [`split`]); `None` for most templates.
    pub(crate) wild: Option<Box<WildWatch>>,
    /// The ids that replaced this template when it was split (empty: not split).
    pub(crate) split_into: Vec<u64>,
}

/// Error building a miner from a configuration.
#[derive(Debug, thiserror::Error)]
pub enum MinerError {
    /// The configured header format does not compile.
    #[error("invalid header_format: {0}")]
    Format(#[from] crate::header::FormatError),
    /// The configured header regex does not compile.
    #[error("invalid header_regex: {0}")]
    Regex(#[from] regex::Error),
    /// A snapshot is inconsistent.
    #[error("invalid snapshot: {0}")]
    Snapshot(String),
}

/// A word position that took this many distinct values in otherwise identical templates is a
/// variable (see [`Miner::merge_siblings`]).
pub const SIBLING_VALUES: usize = 5;

/// The streaming template miner.
#[derive(Debug, Clone)]
pub struct Miner {
    pub(crate) config: MinerConfig,
    pub(crate) header: HeaderStrategy,
    pub(crate) interner: Interner,
    pub(crate) tree: Tree,
    pub(crate) clusters: Vec<Cluster>,
    pub(super) scratch: Scratch,
    /// Line shapes with runs of variables, for list collapsing (see [`lists`]).
    pub(super) lists: lists::ListShapes,
}

/// Per-line working state, reused from line to line (and describing the last line mined).
#[derive(Debug)]
pub(super) struct Scratch {
    /// The last line's tokens.
    pub(super) line: LineTokens,
    /// Candidate tree leaves of the last line.
    pub(super) leaves: Vec<u32>,
    /// What `leaves` were computed for (`None`: not reusable).
    pub(super) leaves_for: Option<LeavesKey>,
    /// The last line, when it was not valid UTF-8 (lossily converted).
    pub(super) lossy: String,
    /// Template changes caused by the last line.
    pub(super) changes: Vec<TemplateChange>,
    /// Header ranges of the last line.
    pub(super) split: HeaderMatch,
    /// Length of the last line without its line break.
    pub(super) line_len: usize,
    /// An empty template text, for the (unreachable) case of a line without a cluster.
    pub(super) empty: Arc<str>,
}

/// Everything the candidate leaves of a line depend on: its length, its leading token ids (up to
/// the tree depth, at most 4) and the tree's size (nodes are only ever added).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LeavesKey {
    len: usize,
    prefix: [u32; 4],
    nodes: usize,
}

impl LeavesKey {
    fn new(ids: &[u32], depth: usize, nodes: usize) -> Option<Self> {
        if depth > 4 {
            return None;
        }
        let mut prefix = [0; 4];
        for (slot, &id) in prefix.iter_mut().zip(ids.iter().take(depth)) {
            *slot = id;
        }
        Some(Self {
            len: ids.len(),
            prefix,
            nodes,
        })
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            line: LineTokens::default(),
            leaves: Vec::new(),
            leaves_for: None,
            lossy: String::new(),
            changes: Vec::new(),
            split: HeaderMatch::default(),
            line_len: 0,
            empty: Arc::from(""),
        }
    }
}

/// Scratch buffers are not part of the miner's identity; cloning gives fresh ones.
impl Clone for Scratch {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Miner {
    /// Creates a miner; fails when the configured header format or regex is invalid.
    pub fn new(config: MinerConfig) -> Result<Self, MinerError> {
        let header = header_strategy(&config)?;
        Ok(Self::with_parts(
            config,
            header,
            Interner::new(),
            Tree::new(),
            Vec::new(),
        ))
    }

    pub(crate) fn with_parts(
        config: MinerConfig,
        header: HeaderStrategy,
        interner: Interner,
        tree: Tree,
        clusters: Vec<Cluster>,
    ) -> Self {
        Self {
            config,
            header,
            interner,
            tree,
            clusters,
            scratch: Scratch::default(),
            lists: lists::ListShapes::default(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MinerConfig {
        &self.config
    }

    /// The header format locked in by detection or configuration, if any.
    pub fn header_format(&self) -> Option<&str> {
        self.header.locked_format()
    }

    /// Mines one raw line (header included; a trailing newline is ignored; any bytes accepted)
    /// and returns owned results. Parameters are extracted when
    /// [`MinerConfig::extract_params`] is set. [`Self::ingest_ref`] is the allocation-free form.
    pub fn ingest(&mut self, raw: &[u8]) -> Parsed {
        let extract_params = self.config.extract_params;
        let view = self.ingest_ref(raw);
        Parsed {
            template_id: view.template_id,
            template: view.template.clone(),
            params: if extract_params {
                view.params().map(str::to_string).collect()
            } else {
                Vec::new()
            },
            header: view.header.to_header(),
            changes: view.changes.to_vec(),
        }
    }

    /// Mines one raw line like [`Self::ingest`], without allocating: the result borrows the line
    /// and the miner (header fields are slices of the line, parameters are computed only when
    /// [`ParsedRef::params`] is called). This is the hot path for services.
    pub fn ingest_ref<'a>(&'a mut self, raw: &'a [u8]) -> ParsedRef<'a> {
        let cut = truncate_at_boundary(raw, self.config.max_line_bytes.min(u32::MAX as usize));
        let valid = std::str::from_utf8(cut).ok();
        let mut lossy = std::mem::take(&mut self.scratch.lossy);
        lossy.clear();
        if valid.is_none() {
            lossy.push_str(&String::from_utf8_lossy(cut));
        }
        let idx = {
            let text = valid.unwrap_or(&lossy);
            let line = text.trim_end_matches(['\n', '\r']);
            self.scratch.line_len = line.len();
            self.scratch.split = self.header.split(line);
            let content = line.get(self.scratch.split.content.clone()).unwrap_or("");
            self.mine_content(content)
        };
        self.scratch.lossy = lossy;
        let text = valid.unwrap_or(&self.scratch.lossy);
        ParsedRef::new(self, text, idx)
    }

    /// Mines the content part of a line; returns the cluster index it belongs to.
    fn mine_content(&mut self, content: &str) -> usize {
        let mut lt = std::mem::take(&mut self.scratch.line);
        let mut changes = std::mem::take(&mut self.scratch.changes);
        changes.clear();
        lt.fill(
            content,
            &self.interner,
            self.config.max_tokens,
            self.config.max_token_bytes,
        );
        let mut found = self.best_match(&lt, content);
        let mut list_action = lists::ListAction::None;
        if !matches!(found, Some((_, true))) {
            // Only a line no template fits as it is can bring list evidence (see [`lists`]).
            let collapsed;
            (list_action, collapsed) = self.lists_before(&mut lt, content);
            if collapsed {
                found = self.best_match(&lt, content);
            }
        }
        let idx = match found {
            Some((idx, true)) => {
                // A perfect match changes nothing but the count (and has variables, not words, at
                // the template's wildcards: watched positions stop being watched).
                if let Some(c) = self.clusters.get_mut(idx) {
                    c.count += 1;
                    if c.wild.is_some() {
                        self.observe_watched(idx, &lt, content);
                    }
                }
                idx
            }
            Some((idx, false)) => self.absorb(idx, &mut lt, content, &mut changes),
            None => match self.merge_siblings(&lt, content, &mut changes) {
                Some(idx) => self.absorb(idx, &mut lt, content, &mut changes),
                None => self.create(&mut lt, content, &mut changes),
            },
        };
        let idx = self.lists_after(list_action, idx, &mut changes);
        self.scratch.line = lt;
        self.scratch.changes = changes;
        idx
    }

    /// The most similar template reachable in the tree, if it passes the threshold (or the leaf is
    /// full, in which case the best one is taken regardless). Ties go to the template with more
    /// wildcards, then to the first one found. The flag tells whether the match is perfect (the
    /// template already covers the line).
    fn best_match(&mut self, lt: &LineTokens, content: &str) -> Option<(usize, bool)> {
        let mut leaves = std::mem::take(&mut self.scratch.leaves);
        // Consecutive lines often share their length and leading tokens: reuse the leaves then.
        let key = LeavesKey::new(&lt.ids, self.config.tree_depth, self.tree.nodes.len());
        if key.is_none() || key != self.scratch.leaves_for {
            self.tree.candidate_leaves(&lt.ids, self.config.tree_depth, &mut leaves);
            self.scratch.leaves_for = key;
        }
        // A template matching every position wins outright: nothing scores higher, and all such
        // templates have their wildcards exactly where the line has variables, so they tie and
        // the first one found wins. Checking for that first is much cheaper than scoring.
        let perfect_passes = self.config.similarity_threshold <= 1.0;
        for &leaf in leaves.iter().filter(|_| perfect_passes) {
            let Some(node) = self.tree.nodes.get(leaf as usize) else {
                continue;
            };
            for &ci in &node.templates {
                if let Some(c) = self.clusters.get(ci as usize)
                    && fits(&self.interner, &c.tokens, lt, content)
                {
                    self.scratch.leaves = leaves;
                    return Some((ci as usize, true));
                }
            }
        }
        let mut best: Option<(usize, f64, usize)> = None;
        let mut leaf_full = false;
        for &leaf in &leaves {
            let Some(node) = self.tree.nodes.get(leaf as usize) else {
                continue;
            };
            leaf_full |= node.templates.len() >= self.config.max_templates_per_leaf;
            for &ci in &node.templates {
                let Some(c) = self.clusters.get(ci as usize) else {
                    continue;
                };
                let sim = similarity(&self.interner, &c.tokens, lt, content);
                let better = match best {
                    None => true,
                    Some((_, bs, bw)) => sim > bs || (sim == bs && wildcards(&c.tokens) > bw),
                };
                if better {
                    best = Some((ci as usize, sim, wildcards(&c.tokens)));
                }
            }
        }
        self.scratch.leaves = leaves;
        best.filter(|&(_, sim, _)| sim >= self.config.similarity_threshold || leaf_full)
            .map(|(i, _, _)| (i, false))
    }

    fn create(&mut self, lt: &mut LineTokens, content: &str, changes: &mut Vec<TemplateChange>) -> usize {
        lt.intern_all(content, &mut self.interner);
        let idx = self.insert_cluster(lt.ids.clone(), 1);
        if let Some(c) = self.clusters.get(idx) {
            changes.push(TemplateChange::Created {
                id: c.id,
                template: c.text.clone(),
            });
        }
        idx
    }

    /// Whether the template at `tokens` already covers the line, so absorbing it changes nothing.
    fn covers(&self, tokens: &[u32], lt: &LineTokens, content: &str) -> bool {
        tokens.iter().zip(&lt.ids).enumerate().all(|(pos, (&t, &id))| {
            t == WILD
                || t == id
                || self
                    .interner
                    .pattern(t)
                    .is_some_and(|p| p.accepts(lt.text(pos, content)))
        })
    }

    /// Adds the line to cluster `idx`, generalising the template where the line differs, and
    /// returns the index of the live template the line ends up in (after merges and splits).
    fn absorb(&mut self, idx: usize, lt: &mut LineTokens, content: &str, changes: &mut Vec<TemplateChange>) -> usize {
        let mut new_tokens = match self.clusters.get(idx) {
            Some(c) if self.covers(&c.tokens, lt, content) => {
                if let Some(c) = self.clusters.get_mut(idx) {
                    c.count += 1;
                }
                self.observe_watched(idx, lt, content);
                return self.split_if_ready(idx, lt, content, changes);
            }
            Some(c) => c.tokens.clone(),
            None => return idx,
        };
        let mut changed = false;
        // Positions where a constant word became a wildcard against another plain word.
        let mut word_wilds: Vec<(usize, u32, u32)> = Vec::new();
        for (pos, slot) in new_tokens.iter_mut().enumerate() {
            let t = *slot;
            let Some(&id) = lt.ids.get(pos) else { break };
            if t == WILD || t == id {
                continue;
            }
            let line_text = lt.text(pos, content);
            if let Some(p) = self.interner.pattern(t)
                && p.accepts(line_text)
            {
                continue;
            }
            let generalised = generalise(self.interner.text(t), line_text);
            *slot = match generalised {
                Some(g) => self.interner.intern(&g),
                None => WILD,
            };
            let plain_word = |span: Option<&line::TokenSpan>| span.is_some_and(|s| !s.is_rewritten());
            if *slot == WILD && id != WILD && self.interner.pattern(t).is_none() && plain_word(lt.spans.get(pos)) {
                word_wilds.push((pos, t, self.interner.intern(line_text)));
            }
            changed = true;
        }
        let Some(c) = self.clusters.get_mut(idx) else {
            return idx;
        };
        c.count += 1;
        let old_count = c.count - 1;
        if !changed {
            self.observe_watched(idx, lt, content);
            return self.split_if_ready(idx, lt, content, changes);
        }
        let old = c.text.clone();
        let new = render(&self.interner, &new_tokens);
        c.tokens = new_tokens;
        c.text = new.clone();
        let id = c.id;
        changes.push(TemplateChange::Updated { id, old, new });
        self.observe_watched(idx, lt, content);
        for (pos, old_word, new_word) in word_wilds {
            self.watch(idx, pos, old_word, old_count, new_word);
        }
        self.merge_duplicates(idx, changes);
        let live = self.resolve(idx);
        self.split_if_ready(live, lt, content, changes)
    }

    /// Follows merges to the surviving cluster index.
    fn resolve(&self, mut idx: usize) -> usize {
        for _ in 0..self.clusters.len() {
            match self.clusters.get(idx).and_then(|c| c.merged_into) {
                Some(into) => idx = (into as usize).saturating_sub(1),
                None => break,
            }
        }
        idx
    }

    /// The current template with this id (a merged id resolves to its survivor; a split id gives
    /// its last text, see [`Self::split_into`]).
    pub fn template(&self, id: u64) -> Option<Template> {
        let idx = usize::try_from(id).ok()?.checked_sub(1)?;
        self.clusters.get(idx)?;
        let c = self.clusters.get(self.resolve(idx))?;
        Some(Template {
            id: c.id,
            text: c.text.clone(),
            count: c.count,
        })
    }

    /// The ids that replaced a split template (`None` when the id is unknown or was not split).
    pub fn split_into(&self, id: u64) -> Option<&[u64]> {
        let idx = usize::try_from(id).ok()?.checked_sub(1)?;
        let c = self.clusters.get(self.resolve(idx))?;
        (!c.split_into.is_empty()).then_some(c.split_into.as_slice())
    }

    /// All live templates, ordered by id.
    pub fn templates(&self) -> Vec<Template> {
        self.clusters
            .iter()
            .filter(|c| c.merged_into.is_none() && c.split_into.is_empty())
            .map(|c| Template {
                id: c.id,
                text: c.text.clone(),
                count: c.count,
            })
            .collect()
    }

    /// Number of live templates.
    pub fn template_count(&self) -> usize {
        self.clusters
            .iter()
            .filter(|c| c.merged_into.is_none() && c.split_into.is_empty())
            .count()
    }
}

pub(crate) fn header_strategy(config: &MinerConfig) -> Result<HeaderStrategy, MinerError> {
    Ok(if let Some(re) = &config.header_regex {
        HeaderStrategy::Regex(Box::new(regex::Regex::new(re)?))
    } else if let Some(f) = &config.header_format {
        HeaderStrategy::Fixed(Box::new(HeaderFormat::compile(f)?))
    } else if config.detect_header {
        HeaderStrategy::Detecting(Box::new(Detector::new()))
    } else {
        HeaderStrategy::None
    })
}

fn truncate_at_boundary(raw: &[u8], max: usize) -> &[u8] {
    if raw.len() <= max {
        return raw;
    }
    let mut end = max;
    // Do not cut inside a UTF-8 sequence (continuation bytes are 0b10xx_xxxx).
    while end > 0 && end < raw.len() && (raw[end] & 0xC0) == 0x80 && max - end < 4 {
        end -= 1;
    }
    &raw[..end]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod split_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod mask_props;
