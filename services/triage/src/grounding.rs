//! Context for the enrichment: the runbooks most related to a ticket (the
//! `opsline-search` index of `runbooks/*.md`, MoreLikeThis on the redacted text)
//! and similar recently routed tickets (a small in-memory ring, term overlap).
//! Every item has a reference (`runbooks/<file>.md` or a ticket id); only
//! citations of references that were in the context are kept.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

use opsline_search::{DocKind, Role, SearchIndex, SimilarTo, Viewer};

use crate::text::{jaccard, terms};

/// Characters of a similar ticket's subject shown to the model.
const SUBJECT_CHARS: usize = 80;

/// One grounding item shown to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextItem {
    /// `runbook` or `ticket`.
    pub kind: &'static str,
    /// Runbook path or ticket id: what the model may cite.
    pub reference: String,
    /// A line of text about it (title and snippet, or queue and subject), redacted.
    pub text: String,
}

/// The runbook index (in memory, built once at start-up).
pub struct Runbooks {
    index: Option<SearchIndex>,
    viewer: Viewer,
    /// Only runbooks carrying this tag are context (`None`: every runbook).
    tag: Option<String>,
}

impl std::fmt::Debug for Runbooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runbooks")
            .field("indexed", &self.index.is_some())
            .finish()
    }
}

impl Runbooks {
    /// Indexes the runbooks under `dir`, of which only those tagged `tag` (when given) are
    /// context; without a readable directory there is no runbook context.
    pub fn load(dir: Option<&Path>, tag: Option<&str>) -> Self {
        let viewer = Viewer::new(Role::Helpdesk, Vec::<String>::new());
        let tag = tag.map(str::to_owned);
        let Some(dir) = dir.filter(|d| d.is_dir()) else {
            return Self {
                index: None,
                viewer,
                tag,
            };
        };
        let index = SearchIndex::in_memory().and_then(|index| {
            let summary = opsline_search::import_path(&index, dir, &|_| {})?;
            tracing::info!(documents = summary.documents_indexed, dir = %dir.display(), "runbooks indexed");
            Ok(index)
        });
        match index {
            Ok(index) => Self {
                index: Some(index),
                viewer,
                tag,
            },
            Err(error) => {
                tracing::warn!(%error, dir = %dir.display(), "runbooks not indexed; enrichment without runbooks");
                Self {
                    index: None,
                    viewer,
                    tag,
                }
            }
        }
    }

    /// Up to `limit` runbooks related to `text`.
    pub fn related(&self, text: &str, limit: usize) -> Vec<ContextItem> {
        let Some(index) = &self.index else {
            return Vec::new();
        };
        let hits = match index.similar(&self.viewer, SimilarTo::Text(text), limit.saturating_mul(3)) {
            Ok(hits) => hits,
            Err(error) => {
                tracing::debug!(%error, "runbook search failed");
                return Vec::new();
            }
        };
        hits.into_iter()
            .filter(|hit| hit.kind == DocKind::Runbook)
            .filter(|hit| self.tag.as_ref().is_none_or(|tag| hit.tags.contains(tag)))
            .filter_map(|hit| {
                let file = hit
                    .source_path
                    .as_deref()
                    .and_then(|p| Path::new(p).file_name())
                    .map(|f| f.to_string_lossy().into_owned())?;
                // What the model needs to decide whether to cite it: the title (a snippet of
                // the body cost 40 prompt tokens a runbook and led the model to quote steps of
                // runbooks that did not fit the ticket).
                Some(ContextItem {
                    kind: "runbook",
                    reference: format!("runbooks/{file}"),
                    text: hit.title,
                })
            })
            .take(limit)
            .collect()
    }
}

struct RecentTicket {
    ticket_id: String,
    queue: String,
    subject: String,
    terms: BTreeSet<String>,
}

/// The most recently routed tickets (redacted), for similar-ticket context.
pub struct RecentTickets {
    capacity: usize,
    tickets: VecDeque<RecentTicket>,
}

impl std::fmt::Debug for RecentTickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentTickets")
            .field("len", &self.tickets.len())
            .finish()
    }
}

impl RecentTickets {
    /// An empty ring keeping `capacity` tickets.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tickets: VecDeque::new(),
        }
    }

    /// Remembers a routed ticket (redacted subject and description); a replayed id replaces the old entry.
    pub fn remember(&mut self, ticket_id: &str, queue: &str, subject: &str, description: &str) {
        self.tickets.retain(|t| t.ticket_id != ticket_id);
        self.tickets.push_back(RecentTicket {
            ticket_id: ticket_id.to_owned(),
            queue: queue.to_owned(),
            subject: subject.chars().take(SUBJECT_CHARS).collect(),
            terms: terms(&format!("{subject} {description}")),
        });
        while self.tickets.len() > self.capacity {
            self.tickets.pop_front();
        }
    }

    /// Up to `limit` tickets most similar to `text`, excluding `ticket_id` itself.
    pub fn similar(&self, ticket_id: &str, text: &str, limit: usize) -> Vec<ContextItem> {
        let query = terms(text);
        let mut scored: Vec<(f64, &RecentTicket)> = self
            .tickets
            .iter()
            .filter(|t| t.ticket_id != ticket_id)
            .map(|t| (jaccard(&query, &t.terms), t))
            // An exact duplicate teaches nothing (and would make identical tickets miss the LLM cache).
            .filter(|(score, _)| *score >= 0.1 && *score < 1.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .take(limit)
            .map(|(_, t)| ContextItem {
                kind: "ticket",
                reference: t.ticket_id.clone(),
                text: format!("[{}] {}", t.queue, t.subject),
            })
            .collect()
    }
}

/// Renders context items as the prompt's list (`- [reference] text` per line), or `(none)`.
pub fn render(items: &[ContextItem]) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    items
        .iter()
        .map(|item| format!("- [{}] {}", item.reference, item.text))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_tickets_rank_by_overlap_and_skip_self() {
        let mut recent = RecentTickets::new(2);
        recent.remember("T-1", "Network", "vpn drops", "vpn tunnel disconnects");
        recent.remember("T-2", "Printing", "printer jam", "paper stuck");
        recent.remember("T-3", "Network", "vpn slow", "vpn tunnel slow");
        // Capacity 2: T-1 is gone.
        let hits = recent.similar("T-9", "vpn tunnel keeps dropping", 3);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].reference, "T-3");
        assert!(recent.similar("T-3", "vpn tunnel slow", 3).is_empty());
    }

    #[test]
    fn repository_runbooks_are_found() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runbooks");
        let runbooks = Runbooks::load(Some(&dir), None);
        let hits = runbooks.related("VPN keeps disconnecting, the vpn client drops the tunnel", 3);
        assert!(
            hits.iter().any(|h| h.reference == "runbooks/vpn-connectivity.md"),
            "{hits:?}"
        );
        assert!(render(&hits).starts_with("- [runbooks/"));
        // The platform's own runbooks (the gateway's) are for SREs, not helpdesk tickets.
        let text = "gateway overload 503 ingest kafka producer queue full";
        let all = Runbooks::load(Some(&dir), None).related(text, 3);
        assert!(all.iter().any(|h| h.reference.contains("gateway")), "{all:?}");
        let helpdesk = Runbooks::load(Some(&dir), Some("helpdesk")).related(text, 3);
        assert!(
            !helpdesk.iter().any(|h| h.reference.contains("gateway")),
            "{helpdesk:?}"
        );
    }
}
