//! The document model: postmortems and runbooks as they are indexed and returned.
//!
//! Keyword fields (`service`, `severity`, `tags`, `team`) are normalised to trimmed lower
//! case by [`SearchDocument::normalized`] so filters are case-insensitive; the index stores
//! and returns the normalised values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::SearchError;

/// Longest accepted document id, in bytes.
pub const MAX_ID_BYTES: usize = 512;

/// What kind of document this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    /// A postmortem (incident review).
    Postmortem,
    /// A runbook (operational procedure).
    Runbook,
}

impl DocKind {
    /// The keyword stored in the index (`postmortem` or `runbook`).
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Postmortem => "postmortem",
            DocKind::Runbook => "runbook",
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = SearchError;

    /// Accepts `postmortem` (also `post-mortem`, `incident`, `incident-review`) and `runbook`
    /// (also `playbook`), case-insensitively.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "postmortem" | "post-mortem" | "post mortem" | "incident" | "incident-review" => Ok(DocKind::Postmortem),
            "runbook" | "playbook" | "run-book" => Ok(DocKind::Runbook),
            other => Err(SearchError::InvalidDocument(format!("unknown kind `{other}`"))),
        }
    }
}

/// Review status of a document; drives what non-SRE viewers may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocStatus {
    /// Being written; visible to SREs only.
    Draft,
    /// Reviewed but not yet published; visible to SREs only.
    Reviewed,
    /// Published; visible to every role.
    Published,
}

impl DocStatus {
    /// The keyword stored in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::Draft => "draft",
            DocStatus::Reviewed => "reviewed",
            DocStatus::Published => "published",
        }
    }
}

impl fmt::Display for DocStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocStatus {
    type Err = SearchError;

    /// Accepts `draft`, `reviewed` and `published` case-insensitively.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(DocStatus::Draft),
            "reviewed" | "review" | "in-review" => Ok(DocStatus::Reviewed),
            "published" | "final" | "public" => Ok(DocStatus::Published),
            other => Err(SearchError::InvalidDocument(format!("unknown status `{other}`"))),
        }
    }
}

/// One postmortem or runbook.
///
/// Serializes to JSON (dates as RFC 3339) so the same value can travel on Kafka and be
/// replayed into a fresh index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDocument {
    /// Stable unique id; [`crate::SearchIndex::upsert`] replaces any document with this id.
    pub id: String,
    /// Postmortem or runbook.
    pub kind: DocKind,
    /// Title shown in results.
    pub title: String,
    /// Body text (plain text or Markdown); snippets are cut from it.
    pub body: String,
    /// Affected or owning service (keyword, e.g. `payments`).
    #[serde(default)]
    pub service: Option<String>,
    /// Severity keyword (e.g. `sev1`).
    #[serde(default)]
    pub severity: Option<String>,
    /// When the document (or the incident) was created.
    #[serde(default)]
    pub created: Option<jiff::Timestamp>,
    /// When the document was last updated.
    #[serde(default)]
    pub updated: Option<jiff::Timestamp>,
    /// Review status.
    pub status: DocStatus,
    /// Free keyword tags (e.g. `dns`, `config`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Team restriction: `None` is visible to all roles allowed by the status matrix,
    /// `Some(team)` only to viewers that are members of `team`.
    #[serde(default)]
    pub team: Option<String>,
    /// Canonical URL of the document, if it has one.
    #[serde(default)]
    pub url: Option<String>,
    /// Source file the document was imported from, if any.
    #[serde(default)]
    pub source_path: Option<String>,
}

impl SearchDocument {
    /// Creates a document with the required fields; the optional ones start empty.
    pub fn new(
        id: impl Into<String>,
        kind: DocKind,
        title: impl Into<String>,
        body: impl Into<String>,
        status: DocStatus,
    ) -> Self {
        SearchDocument {
            id: id.into(),
            kind,
            title: title.into(),
            body: body.into(),
            service: None,
            severity: None,
            created: None,
            updated: None,
            status,
            tags: Vec::new(),
            team: None,
            url: None,
            source_path: None,
        }
    }

    /// Checks the invariants the index relies on (non-empty id of bounded length).
    pub fn validate(&self) -> Result<(), SearchError> {
        if self.id.trim().is_empty() {
            return Err(SearchError::InvalidDocument("empty id".to_string()));
        }
        if self.id.len() > MAX_ID_BYTES {
            return Err(SearchError::InvalidDocument(format!(
                "id longer than {MAX_ID_BYTES} bytes"
            )));
        }
        Ok(())
    }

    /// Returns a copy with keyword fields trimmed and lower-cased, empty keywords dropped
    /// and tags de-duplicated.
    pub fn normalized(mut self) -> Self {
        self.service = normalize_keyword_opt(self.service);
        self.severity = normalize_keyword_opt(self.severity);
        self.team = normalize_keyword_opt(self.team);
        let mut tags: Vec<String> = self
            .tags
            .iter()
            .map(|tag| normalize_keyword(tag))
            .filter(|tag| !tag.is_empty())
            .collect();
        tags.sort();
        tags.dedup();
        self.tags = tags;
        self
    }
}

/// Trims and lower-cases a keyword value the way the index stores it.
pub fn normalize_keyword(value: &str) -> String {
    value.trim().to_lowercase()
}

fn normalize_keyword_opt(value: Option<String>) -> Option<String> {
    value.map(|v| normalize_keyword(&v)).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_status_parse_leniently() {
        assert_eq!("Post-Mortem".parse::<DocKind>().ok(), Some(DocKind::Postmortem));
        assert_eq!("RUNBOOK".parse::<DocKind>().ok(), Some(DocKind::Runbook));
        assert!("memo".parse::<DocKind>().is_err());
        assert_eq!(" Published ".parse::<DocStatus>().ok(), Some(DocStatus::Published));
        assert!("secret".parse::<DocStatus>().is_err());
    }

    #[test]
    fn normalization_lowercases_and_dedups() {
        let mut doc = SearchDocument::new("a", DocKind::Runbook, "t", "b", DocStatus::Draft);
        doc.service = Some(" Payments ".into());
        doc.team = Some("  ".into());
        doc.tags = vec!["DNS".into(), "dns".into(), "".into()];
        let doc = doc.normalized();
        assert_eq!(doc.service.as_deref(), Some("payments"));
        assert_eq!(doc.team, None);
        assert_eq!(doc.tags, vec!["dns".to_string()]);
    }

    #[test]
    fn validation_rejects_empty_and_huge_ids() {
        let doc = SearchDocument::new(" ", DocKind::Runbook, "t", "b", DocStatus::Draft);
        assert!(doc.validate().is_err());
        let doc = SearchDocument::new("x".repeat(600), DocKind::Runbook, "t", "b", DocStatus::Draft);
        assert!(doc.validate().is_err());
    }

    #[test]
    fn json_round_trip_keeps_dates() {
        let mut doc = SearchDocument::new("a", DocKind::Postmortem, "t", "b", DocStatus::Published);
        doc.created = "2024-03-01T10:00:00Z".parse().ok();
        let json = serde_json::to_string(&doc).unwrap();
        let back: SearchDocument = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
    }
}
