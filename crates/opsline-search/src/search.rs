//! Read side of [`SearchIndex`]: `get`, `search` (paginated, with snippets) and `similar`.
//!
//! Every query is wrapped by [`crate::access::restrict`], so hits, totals, snippets and
//! similar-incident results only ever contain documents the viewer may read.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, TantivyDocument};
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::{DocAddress, Searcher, Term};

use crate::access::{Viewer, access_filter, restrict};
use crate::document::{DocKind, DocStatus, SearchDocument};
use crate::error::{Result, SearchError};
use crate::index::SearchIndex;
use crate::query::{QueryCompiler, QueryNode, analyze, parse};
use crate::schema::{self, exact_analyzer, text_analyzer};
use crate::text::{html_escape, truncate_chars};
use crate::visible::{SimilarSettings, VisibleStats, similar_query};

/// Largest page size served.
pub const MAX_PAGE_LIMIT: usize = 100;
/// Deepest offset served (deep pagination costs memory proportional to offset + limit).
pub const MAX_PAGE_OFFSET: usize = 10_000;
/// Snippet length in characters.
pub const SNIPPET_CHARS: usize = 200;

/// English stop words ignored when picking "more like this" terms (Lucene's list).
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
];

/// A page of results: skip `offset` hits, return at most `limit` (capped at
/// [`MAX_PAGE_LIMIT`]; offset capped at [`MAX_PAGE_OFFSET`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Page {
    /// Hits to skip.
    pub offset: usize,
    /// Hits to return.
    pub limit: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page { offset: 0, limit: 10 }
    }
}

impl Page {
    /// The first `limit` hits.
    pub fn first(limit: usize) -> Self {
        Page { offset: 0, limit }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// Document id.
    pub id: String,
    /// BM25 relevance score (higher is better; 0 for filter-only queries).
    pub score: f32,
    /// Postmortem or runbook.
    pub kind: DocKind,
    /// Review status.
    pub status: DocStatus,
    /// Title.
    pub title: String,
    /// Best-matching body fragment, HTML-escaped, matches wrapped in `<b>`…`</b>`.
    pub snippet_html: String,
    /// The same fragment as plain text.
    pub snippet_text: String,
    /// Service keyword.
    pub service: Option<String>,
    /// Severity keyword.
    pub severity: Option<String>,
    /// Creation date.
    pub created: Option<jiff::Timestamp>,
    /// Tags.
    pub tags: Vec<String>,
    /// Canonical URL.
    pub url: Option<String>,
    /// Source file path.
    pub source_path: Option<String>,
}

/// A page of hits plus the number of documents (visible to the viewer) that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// Matching documents visible to the viewer.
    pub total: usize,
    /// Offset of the first hit.
    pub offset: usize,
    /// The hits of this page, best first.
    pub hits: Vec<SearchHit>,
}

/// What to find similar incidents for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimilarTo<'a> {
    /// An indexed document (must be visible to the viewer); it is excluded from the results.
    Document(&'a str),
    /// Free text (e.g. a new ticket's description).
    Text(&'a str),
}

impl SearchIndex {
    /// The document with `id`, if it exists and `viewer` may read it. A document the viewer
    /// may not read is reported exactly like a missing one.
    pub fn get(&self, viewer: &Viewer, id: &str) -> Result<Option<SearchDocument>> {
        let searcher = self.reader.searcher();
        Ok(match self.find_visible(&searcher, viewer, id)? {
            Some(address) => {
                let doc: TantivyDocument = searcher.doc(address)?;
                Some(schema::from_tantivy(&self.fields, &doc)?)
            }
            None => None,
        })
    }

    fn find_visible(&self, searcher: &Searcher, viewer: &Viewer, id: &str) -> Result<Option<DocAddress>> {
        let by_id = Box::new(TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        ));
        let query = restrict(&self.fields, viewer, by_id);
        let top = searcher.search(&*query, &TopDocs::with_limit(1).order_by_score())?;
        Ok(top.first().map(|(_, address)| *address))
    }

    /// Parses `query` (see [`crate::query`]) and returns one page of hits for `viewer`.
    pub fn search(&self, viewer: &Viewer, query: &str, page: Page) -> Result<SearchResults> {
        let node = parse(query)?;
        self.search_parsed(viewer, &node, page)
    }

    /// Like [`SearchIndex::search`] for an already parsed query.
    pub fn search_parsed(&self, viewer: &Viewer, node: &QueryNode, page: Page) -> Result<SearchResults> {
        let mut compiler = QueryCompiler {
            fields: &self.fields,
            analyzer: text_analyzer(),
            exact_analyzer: exact_analyzer(),
        };
        let query = restrict(&self.fields, viewer, compiler.compile(node));
        let searcher = self.reader.searcher();
        let offset = page.offset.min(MAX_PAGE_OFFSET);
        let limit = page.limit.min(MAX_PAGE_LIMIT);
        if limit == 0 {
            let total = searcher.search(&*query, &Count)?;
            return Ok(SearchResults {
                total,
                offset,
                hits: Vec::new(),
            });
        }
        let top = TopDocs::with_limit(limit).and_offset(offset).order_by_score();
        // BM25 statistics over the visible documents only (see `crate::visible`).
        let stats = VisibleStats {
            searcher: &searcher,
            filter: access_filter(&self.fields, viewer),
        };
        let (total, top) = searcher.search_with_statistics_provider(&*query, &(Count, top), &stats)?;
        let mut snippets = SnippetGenerator::create(&searcher, &*query, self.fields.body)?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        let hits = top
            .into_iter()
            .map(|(score, address)| self.hit(&searcher, &snippets, score, address))
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchResults { total, offset, hits })
    }

    /// Up to `limit` documents similar to `target` that `viewer` may read (MoreLikeThis over
    /// title and body). For [`SimilarTo::Document`] the document must be visible to the
    /// viewer (else [`SearchError::NotFound`]) and is excluded from the results.
    pub fn similar(&self, viewer: &Viewer, target: SimilarTo<'_>, limit: usize) -> Result<Vec<SearchHit>> {
        let limit = limit.min(MAX_PAGE_LIMIT);
        let searcher = self.reader.searcher();
        let (title, body, exclude) = match target {
            SimilarTo::Document(id) => {
                let address = self
                    .find_visible(&searcher, viewer, id)?
                    .ok_or_else(|| SearchError::NotFound(id.to_string()))?;
                let doc: TantivyDocument = searcher.doc(address)?;
                let doc = schema::from_tantivy(&self.fields, &doc)?;
                (doc.title, doc.body, Some(id))
            }
            SimilarTo::Text(text) => (String::new(), text.to_string(), None),
        };
        if limit == 0 || (title.trim().is_empty() && body.trim().is_empty()) {
            return Ok(Vec::new());
        }
        // MoreLikeThis with its terms, thresholds and scores taken over the visible documents
        // only (see `crate::visible`).
        let stats = VisibleStats {
            searcher: &searcher,
            filter: access_filter(&self.fields, viewer),
        };
        let settings = SimilarSettings {
            min_doc_frequency: 2,
            max_query_terms: 25,
            min_word_length: 3,
            stop_words: STOP_WORDS,
        };
        let texts = vec![
            (self.fields.title, title.as_str(), text_analyzer()),
            (self.fields.body, body.as_str(), text_analyzer()),
        ];
        let Some(mlt) = similar_query(&stats, texts, &settings)? else {
            return Ok(Vec::new());
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(mlt))];
        if let Some(id) = exclude {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.id, id),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let query = restrict(&self.fields, viewer, Box::new(BooleanQuery::new(clauses)));
        let top =
            searcher.search_with_statistics_provider(&*query, &TopDocs::with_limit(limit).order_by_score(), &stats)?;
        let snippets = self.overlap_snippets(&format!("{title} {body}"));
        top.into_iter()
            .map(|(score, address)| self.hit(&searcher, &snippets, score, address))
            .collect()
    }

    /// A snippet generator highlighting the content words of `text`.
    fn overlap_snippets(&self, text: &str) -> SnippetGenerator {
        let mut analyzer = text_analyzer();
        let stop: BTreeSet<&str> = STOP_WORDS.iter().copied().collect();
        let terms: BTreeMap<String, f32> = analyze(&mut analyzer, text)
            .into_iter()
            .filter(|(_, token)| token.chars().count() >= 3 && !stop.contains(token.as_str()))
            .map(|(_, token)| (token, 1.0))
            .collect();
        SnippetGenerator::new(terms, text_analyzer(), self.fields.body, SNIPPET_CHARS)
    }

    fn hit(
        &self,
        searcher: &Searcher,
        snippets: &SnippetGenerator,
        score: f32,
        address: DocAddress,
    ) -> Result<SearchHit> {
        let stored: TantivyDocument = searcher.doc(address)?;
        let snippet = snippets.snippet_from_doc(&stored);
        let doc = schema::from_tantivy(&self.fields, &stored)?;
        let (snippet_html, snippet_text) = render_snippet(&snippet, &doc.body);
        Ok(SearchHit {
            id: doc.id,
            score,
            kind: doc.kind,
            status: doc.status,
            title: doc.title,
            snippet_html,
            snippet_text,
            service: doc.service,
            severity: doc.severity,
            created: doc.created,
            tags: doc.tags,
            url: doc.url,
            source_path: doc.source_path,
        })
    }
}

/// HTML and plain-text renderings of a snippet; when nothing in the body matched (a
/// title-only or filter-only hit) the start of the body is used.
fn render_snippet(snippet: &Snippet, body: &str) -> (String, String) {
    if snippet.is_empty() || snippet.highlighted().is_empty() {
        let lead = truncate_chars(body.trim(), SNIPPET_CHARS);
        return (html_escape(&lead), lead);
    }
    (snippet.to_html(), snippet.fragment().to_string())
}
