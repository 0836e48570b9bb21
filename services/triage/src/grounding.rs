//! Context for the enrichment: the runbooks most related to a ticket (the
//! `opsline-search` index of `runbooks/*.md`, MoreLikeThis on the redacted text)
//! and similar recently routed tickets (a small in-memory ring, term overlap).
//! Every item has a reference (`runbooks/<file>.md` or a ticket id) and, once shown, a short
//! label (`R1`, `T1`: two tokens for the model to write instead of eight); only citations of
//! items that were in the context are kept.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

use opsline_search::{MAX_PAGE_LIMIT, MAX_PAGE_OFFSET, Page, Role, SearchHit, SearchIndex, SimilarTo, Viewer};

use crate::runbook_topics::{TicketWords, Topics};
use crate::text::{jaccard, terms};

/// Characters of a similar ticket's subject shown to the model.
const SUBJECT_CHARS: usize = 80;
/// Content words a similar ticket must share with the ticket.
const MIN_SHARED_TERMS: usize = 2;

/// One grounding item shown to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextItem {
    /// `runbook` or `ticket`.
    pub kind: &'static str,
    /// Runbook path or ticket id: what revision 2 cites.
    pub reference: String,
    /// What the model cites: `R<n>` for runbooks, `T<n>` for tickets ([`labelled`]).
    pub label: String,
    /// A line of text about it (title and snippet, or queue and subject), redacted.
    pub text: String,
}

/// A runbook the enrichment may offer: what the model may cite and what it is about.
#[derive(Debug, Clone)]
struct RunbookEntry {
    /// `runbooks/<file>.md`.
    reference: String,
    title: String,
    topics: Topics,
}

/// The runbook index (in memory, built once at start-up) and the catalogue of runbooks the
/// enrichment may offer.
pub struct Runbooks {
    index: Option<SearchIndex>,
    viewer: Viewer,
    /// The runbooks carrying the audience tag (every runbook without one).
    catalogue: Vec<RunbookEntry>,
}

impl std::fmt::Debug for Runbooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runbooks")
            .field("indexed", &self.index.is_some())
            .field("catalogue", &self.catalogue.len())
            .finish()
    }
}

impl Runbooks {
    /// Indexes the runbooks under `dir`, of which only those tagged `tag` (when given) are
    /// context; without a readable directory there is no runbook context.
    pub fn load(dir: Option<&Path>, tag: Option<&str>) -> Self {
        let viewer = Viewer::new(Role::Helpdesk, Vec::<String>::new());
        let empty = |viewer| Self {
            index: None,
            viewer,
            catalogue: Vec::new(),
        };
        let Some(dir) = dir.filter(|d| d.is_dir()) else {
            return empty(viewer);
        };
        let loaded = SearchIndex::in_memory().and_then(|index| {
            let summary = opsline_search::import_path(&index, dir, &|_| {})?;
            let catalogue = catalogue(&index, &viewer, tag)?;
            tracing::info!(documents = summary.documents_indexed, offered = catalogue.len(),
                dir = %dir.display(), "runbooks indexed");
            Ok((index, catalogue))
        });
        match loaded {
            Ok((index, catalogue)) => Self {
                index: Some(index),
                viewer,
                catalogue,
            },
            Err(error) => {
                tracing::warn!(%error, dir = %dir.display(), "runbooks not indexed; enrichment without runbooks");
                empty(viewer)
            }
        }
    }

    /// Up to `limit` runbooks about `text`: those whose topics (tags) the ticket names
    /// ([`crate::runbook_topics`]), most topics first, then in the order of the MoreLikeThis
    /// search. None when the ticket names no runbook's topic.
    pub fn related(&self, text: &str, limit: usize) -> Vec<ContextItem> {
        let words = TicketWords::new(text);
        let mut matched: Vec<(usize, &RunbookEntry)> = self
            .catalogue
            .iter()
            .map(|entry| (entry.topics.matches(&words), entry))
            .filter(|(topics, _)| *topics > 0)
            .collect();
        if matched.is_empty() {
            return Vec::new();
        }
        let ranked = self.search_order(text);
        let rank = |reference: &str| ranked.iter().position(|r| r == reference).unwrap_or(ranked.len());
        matched.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| rank(&a.1.reference).cmp(&rank(&b.1.reference)))
                .then_with(|| a.1.reference.cmp(&b.1.reference))
        });
        // What the model needs to decide whether to cite it: the title (a snippet of the body
        // cost 40 prompt tokens a runbook and led the model to quote steps of runbooks that did
        // not fit the ticket).
        matched
            .into_iter()
            .take(limit)
            .map(|(_, entry)| ContextItem {
                kind: "runbook",
                reference: entry.reference.clone(),
                label: String::new(),
                text: entry.title.clone(),
            })
            .collect()
    }

    /// The references of the runbooks most similar to `text` (MoreLikeThis), best first.
    fn search_order(&self, text: &str) -> Vec<String> {
        let Some(index) = &self.index else {
            return Vec::new();
        };
        match index.similar(&self.viewer, SimilarTo::Text(text), self.catalogue.len()) {
            Ok(hits) => hits.iter().filter_map(reference).collect(),
            Err(error) => {
                tracing::debug!(%error, "runbook search failed");
                Vec::new()
            }
        }
    }
}

/// `runbooks/<file>.md` of a runbook hit.
fn reference(hit: &SearchHit) -> Option<String> {
    let file = Path::new(hit.source_path.as_deref()?).file_name()?;
    Some(format!("runbooks/{}", file.to_string_lossy()))
}

/// Every runbook of the index tagged `tag` (every runbook without one), with its topics; the
/// search pages through at most [`MAX_PAGE_OFFSET`] documents.
fn catalogue(index: &SearchIndex, viewer: &Viewer, tag: Option<&str>) -> opsline_search::Result<Vec<RunbookEntry>> {
    let ignored: Vec<&str> = ["runbook"].into_iter().chain(tag).collect();
    let mut entries = Vec::new();
    let mut offset = 0;
    loop {
        let page = Page {
            offset,
            limit: MAX_PAGE_LIMIT,
        };
        let hits = index.search(viewer, "kind:runbook", page)?.hits;
        let fetched = hits.len();
        offset += fetched;
        entries.extend(
            hits.into_iter()
                .filter(|hit| tag.is_none_or(|tag| hit.tags.iter().any(|t| t == tag)))
                .filter_map(|hit| {
                    Some(RunbookEntry {
                        reference: reference(&hit)?,
                        topics: Topics::new(&hit.tags, &ignored),
                        title: hit.title,
                    })
                }),
        );
        if fetched < MAX_PAGE_LIMIT || offset > MAX_PAGE_OFFSET {
            return Ok(entries);
        }
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
            // One shared word is a coincidence, not a similar ticket.
            .filter(|t| query.intersection(&t.terms).nth(MIN_SHARED_TERMS - 1).is_some())
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
                label: String::new(),
                text: format!("[{}] {}", t.queue, t.subject),
            })
            .collect()
    }
}

/// `items` labelled `<prefix>1`, `<prefix>2`, … in their order.
pub fn labelled(items: Vec<ContextItem>, prefix: char) -> Vec<ContextItem> {
    items
        .into_iter()
        .enumerate()
        .map(|(at, item)| ContextItem {
            label: format!("{prefix}{}", at + 1),
            ..item
        })
        .collect()
}

/// Renders context items as the prompt's list (`- [label] text` per line), or `(none)`.
pub fn render(items: &[ContextItem]) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    items
        .iter()
        .map(|item| format!("- [{}] {}", item.label, item.text))
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
        assert!(render(&labelled(hits, 'R')).starts_with("- [R1] VPN"));
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

    #[test]
    fn only_runbooks_whose_topic_the_ticket_names_are_offered() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runbooks");
        let runbooks = Runbooks::load(Some(&dir), Some("helpdesk"));
        // Search ranking alone offered the printer and VPN runbooks here.
        assert_eq!(
            runbooks.related("job sid failed in job scheduler at 10:00", 2),
            Vec::new()
        );
        let install = runbooks.related("help installing an engineering tool for other people", 2);
        let references: Vec<&str> = install.iter().map(|h| h.reference.as_str()).collect();
        assert_eq!(references, ["runbooks/software-install.md"]);
        // Opsline's own helpdesk connector is not a runbook for the helpdesk's tickets.
        let helpdesk = runbooks.related("the helpdesk tickets are not moved in rt", 2);
        assert!(
            !helpdesk.iter().any(|h| h.reference.contains("helpdesk")),
            "{helpdesk:?}"
        );
    }
}
