//! Serializable miner state, so a restarted service continues with the same template ids and the
//! same decisions as an uninterrupted run (the prefix tree is stored node by node, in order).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::MinerConfig;
use crate::header::{Detector, HeaderFormat, HeaderStrategy};
use crate::intern::Interner;
use crate::miner::tree::Tree;
use crate::miner::{Cluster, Miner, MinerError, WatchedPosition, WildWatch, header_strategy};

/// Current snapshot format version.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Header parsing state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HeaderState {
    /// Rebuilt from the configuration (user format/regex, or no header parsing).
    FromConfig,
    /// Auto-detection in progress: hits per built-in format and lines seen.
    Detecting {
        /// Matches per built-in format, in [`crate::BUILTIN_FORMATS`] order.
        hits: Vec<u32>,
        /// Non-blank lines seen.
        seen: u32,
    },
    /// Detection finished with this format string.
    Locked {
        /// The format string.
        format: String,
    },
    /// Detection finished without a usable format.
    Unstructured,
}

/// One prefix-tree node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// Parent node index; `None` for a token-count node.
    pub parent: Option<u32>,
    /// The token (or, for a token-count node, the count in decimal).
    pub key: String,
    /// Template ids stored at this node, in order.
    pub templates: Vec<u64>,
}

/// One template (merged ones included, so ids keep resolving).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateState {
    /// Template id.
    pub id: u64,
    /// Template tokens.
    pub tokens: Vec<String>,
    /// Lines matched.
    pub count: u64,
    /// Tree node holding it.
    pub leaf: u32,
    /// The id it was merged into, if retired.
    pub merged_into: Option<u64>,
    /// The ids that replaced it, if it was split.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split_into: Vec<u64>,
    /// Wildcard positions watched for splitting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watched: Vec<WatchedState>,
}

/// A wildcard position watched for splitting, and the words it took so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedState {
    /// Token position.
    pub position: u32,
    /// Lines observed since it became a wildcard.
    pub observed: u64,
    /// Each distinct word with its line count, in first-seen order.
    pub values: Vec<(String, u64)>,
}

/// The complete, serde-serializable state of a [`Miner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version ([`SNAPSHOT_VERSION`]).
    pub version: u32,
    /// The configuration.
    pub config: MinerConfig,
    /// Header parsing state.
    pub header: HeaderState,
    /// Prefix-tree nodes in creation order.
    pub nodes: Vec<NodeState>,
    /// Templates in id order.
    pub templates: Vec<TemplateState>,
}

fn bad(msg: impl Into<String>) -> MinerError {
    MinerError::Snapshot(msg.into())
}

impl Miner {
    /// Captures the miner's state.
    pub fn snapshot(&self) -> Snapshot {
        let header = match &self.header {
            HeaderStrategy::Detecting(d) => HeaderState::Detecting {
                hits: d.hits.clone(),
                seen: d.seen,
            },
            HeaderStrategy::Fixed(f) if self.config.header_format.is_none() && self.config.header_regex.is_none() => {
                HeaderState::Locked {
                    format: f.source.clone(),
                }
            }
            HeaderStrategy::None if self.config.detect_header => HeaderState::Unstructured,
            _ => HeaderState::FromConfig,
        };
        let nodes = self
            .tree
            .nodes
            .iter()
            .zip(self.tree.origin.iter())
            .map(|(node, &(parent, key))| NodeState {
                parent,
                key: match parent {
                    None => key.to_string(),
                    Some(_) => self.interner.text(key).to_string(),
                },
                templates: node.templates.iter().map(|&i| u64::from(i) + 1).collect(),
            })
            .collect();
        let templates = self
            .clusters
            .iter()
            .map(|c| TemplateState {
                id: c.id,
                tokens: c.tokens.iter().map(|&t| self.interner.text(t).to_string()).collect(),
                count: c.count,
                leaf: c.leaf,
                merged_into: c.merged_into,
                split_into: c.split_into.clone(),
                watched: c
                    .wild
                    .iter()
                    .flat_map(|w| w.positions.iter())
                    .map(|w| WatchedState {
                        position: w.pos,
                        observed: w.observed,
                        values: w
                            .values
                            .iter()
                            .map(|&(word, n)| (self.interner.text(word).to_string(), n))
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        Snapshot {
            version: SNAPSHOT_VERSION,
            config: self.config.clone(),
            header,
            nodes,
            templates,
        }
    }

    /// Rebuilds a miner from a snapshot; it continues exactly where the snapshotted one stopped.
    pub fn restore(snapshot: Snapshot) -> Result<Self, MinerError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(bad(format!("unsupported version {}", snapshot.version)));
        }
        let config = snapshot.config;
        let header = match snapshot.header {
            HeaderState::FromConfig => header_strategy(&config)?,
            HeaderState::Unstructured => HeaderStrategy::None,
            HeaderState::Locked { format } => HeaderStrategy::Fixed(Box::new(HeaderFormat::compile(&format)?)),
            HeaderState::Detecting { hits, seen } => {
                let mut d = Detector::new();
                if hits.len() != d.hits.len() {
                    return Err(bad("detector state does not match the built-in formats"));
                }
                d.hits = hits;
                d.seen = seen;
                HeaderStrategy::Detecting(Box::new(d))
            }
        };
        let mut interner = Interner::new();
        let mut tree = Tree::new();
        let n_templates = snapshot.templates.len() as u64;
        for (i, node) in snapshot.nodes.iter().enumerate() {
            let key = match node.parent {
                None => node
                    .key
                    .parse::<u32>()
                    .map_err(|_| bad(format!("node {i}: bad token count {:?}", node.key)))?,
                Some(p) if (p as usize) < i => interner.intern(&node.key),
                Some(p) => return Err(bad(format!("node {i}: parent {p} not before it"))),
            };
            let depth = match node.parent {
                None => 0,
                Some(p) => tree.nodes.get(p as usize).map_or(0, |n| n.depth + 1),
            };
            let idx = tree.add_node(node.parent, key, depth) as usize;
            for &id in &node.templates {
                if id == 0 || id > n_templates {
                    return Err(bad(format!("node {i}: unknown template {id}")));
                }
                if let Some(n) = tree.nodes.get_mut(idx) {
                    n.templates.push((id - 1) as u32);
                }
            }
        }
        let mut clusters = Vec::with_capacity(snapshot.templates.len());
        for (i, t) in snapshot.templates.into_iter().enumerate() {
            if t.id != i as u64 + 1 {
                return Err(bad(format!("template ids must be 1..n in order, got {}", t.id)));
            }
            if t.leaf as usize >= tree.nodes.len() {
                return Err(bad(format!("template {}: unknown leaf {}", t.id, t.leaf)));
            }
            let tokens: Vec<u32> = t.tokens.iter().map(|s| interner.intern(s)).collect();
            let text: Arc<str> = Arc::from(t.tokens.join(" "));
            let positions: Vec<WatchedPosition> = t
                .watched
                .iter()
                .map(|w| WatchedPosition {
                    pos: w.position,
                    observed: w.observed,
                    values: w.values.iter().map(|(word, n)| (interner.intern(word), *n)).collect(),
                })
                .collect();
            if t.split_into.iter().any(|&id| id == 0 || id > n_templates) {
                return Err(bad(format!("template {}: split into an unknown template", t.id)));
            }
            clusters.push(Cluster {
                id: t.id,
                tokens,
                count: t.count,
                text,
                leaf: t.leaf,
                merged_into: t.merged_into,
                wild: (!positions.is_empty()).then(|| Box::new(WildWatch { positions })),
                split_into: t.split_into,
            });
        }
        Ok(Miner::with_parts(config, header, interner, tree, clusters))
    }
}
