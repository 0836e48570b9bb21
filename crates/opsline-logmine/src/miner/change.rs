//! The template types reported to callers: [`Template`] and the [`TemplateChange`] events that
//! let downstream consumers re-label lines when templates are created, generalised, merged or
//! split.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

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
    /// Template `from` was retired because one of its wildcards turned out to be a small set of
    /// constant words (see [`SPLIT_EVIDENCE_LINES`](crate::SPLIT_EVIDENCE_LINES)): lines labelled
    /// `from` should be re-labelled with whichever template of `into` matches them. `into` lists
    /// new ids (each reported by a [`TemplateChange::Created`] just before), or the ids of
    /// identical live templates that already existed.
    Split {
        /// The retired id.
        from: u64,
        /// The retired template text.
        template: Arc<str>,
        /// The templates replacing it, one per word, with their line counts.
        into: Vec<Template>,
    },
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
