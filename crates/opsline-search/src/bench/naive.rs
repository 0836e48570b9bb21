//! The floor: the same parsed queries evaluated by a linear scan over every document
//! (lower-cased substring matching, occurrence-count scoring, same access rule).

use std::ops::Bound;

use memchr::memmem;

use crate::access::Viewer;
use crate::document::SearchDocument;
use crate::query::{ClauseOccur, DateField, KeywordField, QueryNode};

/// A document prepared for scanning (done once, outside the timed section, like indexing).
pub(crate) struct ScanDoc {
    text: String,
    doc: SearchDocument,
}

/// Lower-cases and replaces non-alphanumerics by single spaces.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut last_space = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    if !last_space {
        out.push(' ');
    }
    out
}

pub(crate) fn prepare(docs: Vec<SearchDocument>) -> Vec<ScanDoc> {
    docs.into_iter()
        .map(|doc| {
            let doc = doc.normalized();
            ScanDoc {
                text: normalize(&format!("{} {}", doc.title, doc.body)),
                doc,
            }
        })
        .collect()
}

/// Scans every document; returns the number of matches and the top `limit` indexes.
pub(crate) fn scan(docs: &[ScanDoc], viewer: &Viewer, query: &QueryNode, limit: usize) -> (usize, Vec<usize>) {
    let mut matches: Vec<(u32, usize)> = Vec::new();
    for (i, scan_doc) in docs.iter().enumerate() {
        let d = &scan_doc.doc;
        if !viewer.can_read(d.kind, d.status, d.team.as_deref()) {
            continue;
        }
        if let Some(score) = eval(scan_doc, query) {
            matches.push((score, i));
        }
    }
    let total = matches.len();
    matches.sort_unstable_by_key(|&(score, _)| std::cmp::Reverse(score));
    (total, matches.into_iter().take(limit).map(|(_, i)| i).collect())
}

/// `Some(score)` if the document matches.
fn eval(doc: &ScanDoc, node: &QueryNode) -> Option<u32> {
    match node {
        QueryNode::MatchAll => Some(0),
        QueryNode::Text { text, .. } => {
            let needle = normalize(text);
            let needle = needle.trim();
            if needle.is_empty() {
                return None;
            }
            let count = memmem::find_iter(doc.text.as_bytes(), needle.as_bytes()).count() as u32;
            (count > 0).then_some(count)
        }
        QueryNode::Keyword { field, value } => {
            let d = &doc.doc;
            let hit = match field {
                KeywordField::Id => d.id == *value,
                KeywordField::Kind => d.kind.as_str() == value,
                KeywordField::Service => d.service.as_deref() == Some(value),
                KeywordField::Severity => d.severity.as_deref() == Some(value),
                KeywordField::Status => d.status.as_str() == value,
                KeywordField::Tag => d.tags.iter().any(|t| t == value),
                KeywordField::Team => d.team.as_deref() == Some(value),
            };
            hit.then_some(0)
        }
        QueryNode::DateRange { field, lower, upper } => {
            let value = match field {
                DateField::Created => doc.doc.created,
                DateField::Updated => doc.doc.updated,
            }?;
            let above = match lower {
                Bound::Included(t) => value >= *t,
                Bound::Excluded(t) => value > *t,
                Bound::Unbounded => true,
            };
            let below = match upper {
                Bound::Included(t) => value <= *t,
                Bound::Excluded(t) => value < *t,
                Bound::Unbounded => true,
            };
            (above && below).then_some(0)
        }
        QueryNode::Bool(clauses) => {
            let mut score = 0;
            let mut any_should = false;
            let mut has_must = false;
            for (occur, child) in clauses {
                let result = eval(doc, child);
                match occur {
                    ClauseOccur::Must => {
                        has_must = true;
                        score += result?;
                    }
                    ClauseOccur::MustNot => {
                        if result.is_some() {
                            return None;
                        }
                    }
                    ClauseOccur::Should => {
                        if let Some(s) = result {
                            any_should = true;
                            score += s;
                        }
                    }
                }
            }
            let only_must_not = clauses.iter().all(|(o, _)| *o == ClauseOccur::MustNot);
            (has_must || any_should || only_must_not).then_some(score)
        }
    }
}
