//! Miner configuration. One default serves every log source; the knobs exist for resource caps
//! and for sources whose header format the auto-detection cannot know.

use serde::{Deserialize, Serialize};

/// Configuration of a [`crate::Miner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinerConfig {
    /// Minimum share of a template's constant tokens a line must match to join it (0..=1).
    pub similarity_threshold: f64,
    /// Number of leading tokens used as prefix-tree levels (after the token count).
    pub tree_depth: usize,
    /// Maximum children of one prefix-tree node; further tokens share a wildcard child.
    pub max_children: usize,
    /// Maximum templates in one tree leaf; when full, a line joins the most similar template.
    pub max_templates_per_leaf: usize,
    /// Lines are truncated to this many bytes (at a character boundary) before parsing.
    pub max_line_bytes: usize,
    /// Maximum tokens per line; the rest of the line becomes one trailing wildcard.
    pub max_tokens: usize,
    /// Tokens longer than this many bytes are treated as variables.
    pub max_token_bytes: usize,
    /// Detect the header format from the first lines (ignored when a format or regex is set).
    pub detect_header: bool,
    /// A header format in Loghub syntax, e.g. `"<date> <time> <level> <comp>: <content>"`
    /// (fields: date time month day ts num word host level comp any content).
    pub header_format: Option<String>,
    /// A header regex with optional named groups `timestamp`, `level`, `component`, `host`, `content`.
    pub header_regex: Option<String>,
    /// Whether to extract parameter values for every line.
    pub extract_params: bool,
    /// Split a template whose wildcard, born from plain words, keeps taking only a few distinct
    /// words (a constant set, not a variable) into one template per word; see
    /// [`crate::SPLIT_EVIDENCE_LINES`].
    pub split_low_cardinality: bool,
}

impl Default for MinerConfig {
    fn default() -> Self {
        Self {
            similarity_threshold: 0.5,
            tree_depth: 2,
            max_children: 100,
            max_templates_per_leaf: 512,
            max_line_bytes: 64 * 1024,
            max_tokens: 256,
            max_token_bytes: 256,
            detect_header: true,
            header_format: None,
            header_regex: None,
            extract_params: true,
            split_low_cardinality: true,
        }
    }
}
