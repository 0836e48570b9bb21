//! The Drain prefix tree: root keyed by token count, then one level per leading token, with the
//! templates in the leaves. Nodes are stored in a flat vector so the tree can be snapshotted and
//! rebuilt exactly (same nodes, same leaf order), which keeps template ids stable across restarts.

use std::collections::HashMap;

use crate::hash::BuildTokenHasher;

use crate::intern::{UNKNOWN, WILD};

/// One tree node.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// Child node per token id (the wildcard child is keyed by [`WILD`]).
    pub(crate) children: HashMap<u32, u32, BuildTokenHasher>,
    /// Template indices stored at this node (leaves only).
    pub(crate) templates: Vec<u32>,
    /// Depth below the length level (0 = the length node itself).
    pub(crate) depth: u32,
}

/// The prefix tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    /// Length node per token count.
    pub(crate) roots: HashMap<u32, u32, BuildTokenHasher>,
    /// All nodes.
    pub(crate) nodes: Vec<Node>,
    /// Parent and key of each node (`None` parent: a length node keyed by the token count).
    pub(crate) origin: Vec<(Option<u32>, u32)>,
}

fn new_map<V>() -> HashMap<u32, V, BuildTokenHasher> {
    HashMap::default()
}

impl Tree {
    pub(crate) fn new() -> Self {
        Self {
            roots: new_map(),
            nodes: Vec::new(),
            origin: Vec::new(),
        }
    }

    pub(crate) fn add_node(&mut self, parent: Option<u32>, key: u32, depth: u32) -> u32 {
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node {
            children: new_map(),
            templates: Vec::new(),
            depth,
        });
        self.origin.push((parent, key));
        match parent {
            None => {
                self.roots.insert(key, idx);
            }
            Some(p) => {
                if let Some(node) = self.nodes.get_mut(p as usize) {
                    node.children.insert(key, idx);
                }
            }
        }
        idx
    }

    /// Collects the leaves a line with these token ids may belong to: at every level the exact
    /// child (when the token is known) and the wildcard child are both followed.
    pub(crate) fn candidate_leaves(&self, ids: &[u32], depth: usize, out: &mut Vec<u32>) {
        out.clear();
        let Some(&root) = self.roots.get(&(ids.len() as u32)) else {
            return;
        };
        let levels = depth.min(ids.len());
        let mut frontier = [0u32; 64];
        let mut next = [0u32; 64];
        frontier[0] = root;
        let mut width = 1;
        for &token in ids.iter().take(levels) {
            let mut n = 0;
            for &node_idx in &frontier[..width] {
                let Some(node) = self.nodes.get(node_idx as usize) else {
                    continue;
                };
                if token != WILD
                    && token != UNKNOWN
                    && let Some(&c) = node.children.get(&token)
                    && n < next.len()
                {
                    next[n] = c;
                    n += 1;
                }
                if let Some(&c) = node.children.get(&WILD)
                    && n < next.len()
                {
                    next[n] = c;
                    n += 1;
                }
            }
            frontier[..n].copy_from_slice(&next[..n]);
            width = n;
            if width == 0 {
                return;
            }
        }
        out.extend_from_slice(&frontier[..width]);
    }

    /// How many templates the leaf that [`Self::leaf_for_insert`] would choose holds now (0 when
    /// it would create the leaf), without changing the tree.
    pub(crate) fn leaf_size(&self, ids: &[u32], depth: usize) -> usize {
        let Some(&root) = self.roots.get(&(ids.len() as u32)) else {
            return 0;
        };
        let mut node = root;
        for &token in ids.iter().take(depth.min(ids.len())) {
            let Some(n) = self.nodes.get(node as usize) else {
                return 0;
            };
            match n.children.get(&token).or_else(|| n.children.get(&WILD)) {
                Some(&c) => node = c,
                None => return 0,
            }
        }
        self.nodes.get(node as usize).map_or(0, |n| n.templates.len())
    }

    /// Finds or creates the leaf for a new template with these (interned) token ids.
    pub(crate) fn leaf_for_insert(&mut self, ids: &[u32], depth: usize, max_children: usize) -> u32 {
        let len_key = ids.len() as u32;
        let mut node = match self.roots.get(&len_key) {
            Some(&r) => r,
            None => self.add_node(None, len_key, 0),
        };
        let levels = depth.min(ids.len());
        for (level, &token) in ids.iter().take(levels).enumerate() {
            let (exists, full) = match self.nodes.get(node as usize) {
                Some(n) => (
                    n.children.get(&token).copied(),
                    n.children.len() + usize::from(!n.children.contains_key(&WILD)) >= max_children.max(2),
                ),
                None => (None, true),
            };
            node = match exists {
                Some(c) => c,
                None => {
                    let key = if full { WILD } else { token };
                    match self
                        .nodes
                        .get(node as usize)
                        .and_then(|n| n.children.get(&key).copied())
                    {
                        Some(c) => c,
                        None => self.add_node(Some(node), key, level as u32 + 1),
                    }
                }
            };
        }
        node
    }
}
