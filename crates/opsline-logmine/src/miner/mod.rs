//! The online template miner: header split, masking, Drain-style prefix-tree search with a
//! similarity threshold on constant tokens, template generalisation, and merging of templates
//! that become identical. Pure: no I/O.

mod compare;
mod line;
pub(crate) mod tree;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::MinerConfig;
use crate::header::{Detector, Header, HeaderFormat, HeaderStrategy, strip_pid};
use crate::intern::{Interner, WILD};
use compare::{compare, generalise, params_of, render};
use line::LineTokens;
use tree::Tree;

/// A change to the template set, reported so downstream consumers can re-label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TemplateChange {
    /// A new template was created.
    Created {
        /// The new template's id.
        id: u64,
        /// Its text.
        template: Arc<str>,
    },
    /// A template was generalised (some constant became a wildcard).
    Updated {
        /// The template's id.
        id: u64,
        /// Text before.
        old: Arc<str>,
        /// Text after.
        new: Arc<str>,
    },
    /// Template `from` became identical to `into` and was merged into it; `from` is retired and
    /// lines labelled `from` should be re-labelled `into`.
    Merged {
        /// The retired id.
        from: u64,
        /// The surviving id.
        into: u64,
        /// The surviving template text.
        template: Arc<str>,
    },
}

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

/// A template as currently known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Its id (stable across snapshot/restore).
    pub id: u64,
    /// Its text.
    pub text: Arc<str>,
    /// How many lines matched it (including lines of templates merged into it).
    pub count: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) id: u64,
    pub(crate) tokens: Vec<u32>,
    pub(crate) count: u64,
    pub(crate) text: Arc<str>,
    pub(crate) leaf: u32,
    pub(crate) merged_into: Option<u64>,
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
    line: LineTokensHolder,
    leaves: Vec<u32>,
    ids: Vec<u32>,
}

/// Scratch buffers are not part of the miner's identity; cloning gives fresh ones.
#[derive(Debug, Default)]
struct LineTokensHolder(LineTokens);

impl Clone for LineTokensHolder {
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
            line: LineTokensHolder::default(),
            leaves: Vec::new(),
            ids: Vec::new(),
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

    /// Mines one raw line (header included; a trailing newline is ignored; any bytes accepted).
    pub fn ingest(&mut self, raw: &[u8]) -> Parsed {
        let cut = truncate_at_boundary(raw, self.config.max_line_bytes);
        let text = match std::str::from_utf8(cut) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(cut),
        };
        let line = text.trim_end_matches(['\n', '\r']);
        let split = self.header.split(line);
        let header = Header {
            timestamp: split.timestamp.map(|r| line[r].to_string()),
            level: split.level.map(|r| line[r].to_string()),
            component: split.component.map(|r| strip_pid(&line[r]).to_string()),
        };
        let content = &line[split.content];
        let (template_id, template, params, changes) = self.mine_content(content);
        Parsed {
            template_id,
            template,
            params,
            header,
            changes,
        }
    }

    fn mine_content(&mut self, content: &str) -> (u64, Arc<str>, Vec<String>, Vec<TemplateChange>) {
        let mut lt = std::mem::take(&mut self.line.0);
        lt.fill(
            content,
            &self.interner,
            self.config.max_tokens,
            self.config.max_token_bytes,
        );
        self.ids.clear();
        self.ids.extend(lt.tokens.iter().map(|t| t.id));
        let mut changes = Vec::new();
        let idx = match self.best_match(&lt, content) {
            Some((idx, _)) => {
                self.absorb(idx, &mut lt, content, &mut changes);
                self.resolve(idx)
            }
            None => match self.merge_siblings(&lt, content, &mut changes) {
                Some(idx) => {
                    self.absorb(idx, &mut lt, content, &mut changes);
                    self.resolve(idx)
                }
                None => self.create(&mut lt, content, &mut changes),
            },
        };
        let (id, text, params) = match self.clusters.get(idx) {
            Some(c) => {
                let params = if self.config.extract_params {
                    params_of(&self.interner, &c.tokens, &lt, content)
                } else {
                    Vec::new()
                };
                (c.id, c.text.clone(), params)
            }
            None => (0, Arc::from(""), Vec::new()),
        };
        self.line.0 = lt;
        (id, text, params, changes)
    }

    /// The most similar template reachable in the tree, if it passes the threshold (or the leaf is
    /// full, in which case the best one is taken regardless).
    fn best_match(&mut self, lt: &LineTokens, content: &str) -> Option<(usize, f64)> {
        let mut leaves = std::mem::take(&mut self.leaves);
        self.tree
            .candidate_leaves(&self.ids, self.config.tree_depth, &mut leaves);
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
                let cmp = compare(&self.interner, &c.tokens, lt, content);
                let (sim, wild) = (cmp.similarity(c.tokens.len()), cmp.wild);
                let better = match best {
                    None => true,
                    Some((_, bs, bw)) => sim > bs || (sim == bs && wild > bw),
                };
                if better {
                    best = Some((ci as usize, sim, wild));
                }
            }
        }
        self.leaves = leaves;
        best.filter(|&(_, sim, _)| sim >= self.config.similarity_threshold || leaf_full)
            .map(|(i, s, _)| (i, s))
    }

    /// When a line conflicts with [`SIBLING_VALUES`]` - 1` templates at the same single word
    /// position (and agrees with them elsewhere), that position is a variable after all: the
    /// siblings merge into the oldest, whose position becomes `<*>`. Returns the survivor.
    /// Uses the candidate leaves left in `self.leaves` by [`Self::best_match`].
    fn merge_siblings(&mut self, lt: &LineTokens, content: &str, changes: &mut Vec<TemplateChange>) -> Option<usize> {
        let mut siblings: Vec<(usize, usize)> = Vec::new();
        for &leaf in &self.leaves {
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

    fn create(&mut self, lt: &mut LineTokens, content: &str, changes: &mut Vec<TemplateChange>) -> usize {
        lt.intern_all(content, &mut self.interner);
        let tokens: Vec<u32> = lt.tokens.iter().map(|t| t.id).collect();
        let leaf = self
            .tree
            .leaf_for_insert(&tokens, self.config.tree_depth, self.config.max_children);
        let idx = self.clusters.len();
        let id = idx as u64 + 1;
        let text = render(&self.interner, &tokens);
        if let Some(node) = self.tree.nodes.get_mut(leaf as usize) {
            node.templates.push(idx as u32);
        }
        self.clusters.push(Cluster {
            id,
            tokens,
            count: 1,
            text: text.clone(),
            leaf,
            merged_into: None,
        });
        changes.push(TemplateChange::Created { id, template: text });
        idx
    }

    fn absorb(&mut self, idx: usize, lt: &mut LineTokens, content: &str, changes: &mut Vec<TemplateChange>) {
        let mut changed = false;
        let mut new_tokens = match self.clusters.get(idx) {
            Some(c) => c.tokens.clone(),
            None => return,
        };
        for (pos, slot) in new_tokens.iter_mut().enumerate() {
            let t = *slot;
            let Some(tok) = lt.tokens.get(pos) else { break };
            if t == WILD || t == tok.id {
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
            changed = true;
        }
        let Some(c) = self.clusters.get_mut(idx) else {
            return;
        };
        c.count += 1;
        if !changed {
            return;
        }
        let old = c.text.clone();
        let new = render(&self.interner, &new_tokens);
        c.tokens = new_tokens;
        c.text = new.clone();
        let id = c.id;
        changes.push(TemplateChange::Updated { id, old, new });
        self.merge_duplicates(idx, changes);
    }

    /// After a generalisation, merges any other template that became identical.
    fn merge_duplicates(&mut self, idx: usize, changes: &mut Vec<TemplateChange>) {
        let Some(tokens) = self.clusters.get(idx).map(|c| c.tokens.clone()) else {
            return;
        };
        let mut leaves = std::mem::take(&mut self.leaves);
        self.tree.candidate_leaves(&tokens, self.config.tree_depth, &mut leaves);
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
        self.leaves = leaves;
        for twin in twins {
            let (keep, drop) = if twin < idx { (twin, idx) } else { (idx, twin) };
            self.merge_into(drop, keep, changes);
        }
    }

    fn merge_into(&mut self, drop: usize, keep: usize, changes: &mut Vec<TemplateChange>) {
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

    /// The current template with this id (a merged id resolves to its survivor).
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

    /// All live templates, ordered by id.
    pub fn templates(&self) -> Vec<Template> {
        self.clusters
            .iter()
            .filter(|c| c.merged_into.is_none())
            .map(|c| Template {
                id: c.id,
                text: c.text.clone(),
                count: c.count,
            })
            .collect()
    }

    /// Number of live templates.
    pub fn template_count(&self) -> usize {
        self.clusters.iter().filter(|c| c.merged_into.is_none()).count()
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
