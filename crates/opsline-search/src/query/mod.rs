//! The search query language and its compilation to tantivy queries.
//!
//! # Syntax
//!
//! | form | meaning |
//! |------|---------|
//! | `dns outage` | free-text terms over title and body (exact word forms score above stem-only matches); any term may match (OR), more matches rank higher |
//! | `"certificate expired"` | phrase (stemmed tokens in order) |
//! | `a AND b`, `a OR b`, `NOT a`, `( ... )` | boolean operators (upper case), `AND` binds tighter than `OR` |
//! | `+a`, `-a` | term must / must not occur |
//! | `title:word`, `body:"a phrase"` | restrict a text term or phrase to one field |
//! | `service:payments severity:sev1 status:published kind:runbook tag:dns team:core id:<id>` | keyword filters (case-insensitive, exact value; quote values with spaces) |
//! | `created:[2024-01-01 TO 2024-06-30]` | date range, both ends inclusive; `{ }` for exclusive ends, `*` for open |
//! | `created:>=2024-01-01`, `updated:<2024` | one-sided date ranges (`>`, `>=`, `<`, `<=`) |
//! | `created:2024-03` | the whole period (a year, a month or a day) |
//!
//! Dates are `YYYY`, `YYYY-MM`, `YYYY-MM-DD` (UTC) or RFC 3339 timestamps; a period bound
//! covers the whole period (`TO 2024-06-30]` includes all of June 30th).
//!
//! Field filters and date ranges are *required* when juxtaposed with other clauses
//! (`dns service:payments` = `dns AND service:payments`) unless they are joined by an explicit
//! `OR`. A word whose `name:` prefix is not a known field is searched as plain text.
//! An empty query matches every document the viewer may read.

mod dates;
mod parser;

use std::ops::Bound;

use serde::Serialize;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use crate::schema::{IndexFields, to_tantivy_date};

pub use parser::parse;

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 4096;
/// Deepest accepted nesting of parentheses.
pub const MAX_QUERY_DEPTH: usize = 32;

/// Boost of title matches relative to body matches. Title words already score on their
/// own short field (BM25 favours short fields) and often reappear in the body (imported
/// postmortems without a title get their first sentence as title), so no extra boost.
/// With 2.0 the relevance check found 29/30 instead of 30/30 (see BENCH.md).
const TITLE_BOOST: f32 = 1.0;

/// Why a query string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query is longer than [`MAX_QUERY_CHARS`].
    #[error("query longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    /// Parentheses nest deeper than [`MAX_QUERY_DEPTH`].
    #[error("parentheses nested deeper than {MAX_QUERY_DEPTH}")]
    TooDeep,
    /// A field filter has no value (`service:`).
    #[error("field `{0}` has no value")]
    MissingValue(String),
    /// A date could not be parsed.
    #[error("invalid date `{0}` (expected YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339)")]
    BadDate(String),
    /// A range is malformed (`[a b]`, missing `TO`).
    #[error("invalid range `{0}` (expected [from TO to])")]
    BadRange(String),
    /// `name:value` with a name that is no field (it would silently match nothing).
    #[error(
        "unknown field `{0}` (fields: title, body, id, kind, service, severity, status, tag, team, created, updated; \
put the words in quotes to search for them as text)"
    )]
    UnknownField(String),
}

/// Which text fields a text clause searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TextTarget {
    /// Title (boosted) and body.
    Default,
    /// Title only.
    Title,
    /// Body only.
    Body,
}

/// Keyword fields usable as filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeywordField {
    /// `id:`
    Id,
    /// `kind:`
    Kind,
    /// `service:`
    Service,
    /// `severity:` (alias `sev:`)
    Severity,
    /// `status:`
    Status,
    /// `tag:` (alias `tags:`)
    Tag,
    /// `team:`
    Team,
}

/// Date fields usable in ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DateField {
    /// `created:`
    Created,
    /// `updated:`
    Updated,
}

/// How a clause of a boolean node takes part in matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClauseOccur {
    /// Must match.
    Must,
    /// May match (adds to the score); at least one must match when there is no `Must`.
    Should,
    /// Must not match.
    MustNot,
}

/// Parsed query, independent of tantivy (the benchmark's naive scan evaluates it directly).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum QueryNode {
    /// Every document.
    MatchAll,
    /// A term or phrase over text fields.
    Text {
        /// Fields searched.
        target: TextTarget,
        /// Raw text as typed (analysed at compile time).
        text: String,
        /// Quoted phrase (`true`) or bare word.
        phrase: bool,
    },
    /// Exact keyword filter; `value` is already normalised.
    Keyword {
        /// Filtered field.
        field: KeywordField,
        /// Normalised value.
        value: String,
    },
    /// Date range filter (UTC seconds).
    DateRange {
        /// Filtered field.
        field: DateField,
        /// Lower bound.
        lower: Bound<jiff::Timestamp>,
        /// Upper bound.
        upper: Bound<jiff::Timestamp>,
    },
    /// Boolean combination.
    Bool(Vec<(ClauseOccur, QueryNode)>),
}

/// A text field to search, its boost, and the analysed tokens to look for.
type FieldClause<'t> = (Field, f32, &'t [(usize, String)]);

/// Compiles queries against one index's fields.
pub(crate) struct QueryCompiler<'a> {
    pub fields: &'a IndexFields,
    pub analyzer: TextAnalyzer,
    pub exact_analyzer: TextAnalyzer,
}

impl QueryCompiler<'_> {
    /// Compiles a parsed query; clauses that analyse to nothing are dropped and a query with
    /// nothing left matches nothing.
    pub fn compile(&mut self, node: &QueryNode) -> Box<dyn Query> {
        match self.compile_node(node) {
            Some(query) => query,
            None => Box::new(EmptyQuery),
        }
    }

    fn compile_node(&mut self, node: &QueryNode) -> Option<Box<dyn Query>> {
        match node {
            QueryNode::MatchAll => Some(Box::new(AllQuery)),
            QueryNode::Text { target, text, phrase } => {
                let (title, body) = match target {
                    TextTarget::Default => (true, true),
                    TextTarget::Title => (true, false),
                    TextTarget::Body => (false, true),
                };
                let stemmed = analyze(&mut self.analyzer, text);
                if stemmed.is_empty() {
                    return None;
                }
                let mut fields: Vec<FieldClause<'_>> = Vec::new();
                if title {
                    fields.push((self.fields.title, TITLE_BOOST, &stemmed));
                }
                if body {
                    fields.push((self.fields.body, 1.0, &stemmed));
                }
                // Exact-form bonus for single words (the exact fields have no positions).
                let exact = analyze(&mut self.exact_analyzer, text);
                if !*phrase && exact.len() == 1 {
                    if title {
                        fields.push((self.fields.title_exact, TITLE_BOOST, &exact));
                    }
                    if body {
                        fields.push((self.fields.body_exact, 1.0, &exact));
                    }
                }
                let per_field: Vec<(Occur, Box<dyn Query>)> = fields
                    .into_iter()
                    .map(|(field, boost, tokens)| {
                        let query = text_query(field, tokens);
                        let query: Box<dyn Query> = if (boost - 1.0).abs() > f32::EPSILON {
                            Box::new(BoostQuery::new(query, boost))
                        } else {
                            query
                        };
                        (Occur::Should, query)
                    })
                    .collect();
                Some(Box::new(BooleanQuery::new(per_field)))
            }
            QueryNode::Keyword { field, value } => {
                let field = self.keyword_field(*field);
                let term = Term::from_field_text(field, value);
                Some(filter(Box::new(TermQuery::new(term, IndexRecordOption::Basic))))
            }
            QueryNode::DateRange { field, lower, upper } => {
                let field = match field {
                    DateField::Created => self.fields.created,
                    DateField::Updated => self.fields.updated,
                };
                let to_term = |t: &jiff::Timestamp| Term::from_field_date(field, to_tantivy_date(*t));
                let lower = map_bound(lower, to_term);
                let upper = map_bound(upper, to_term);
                if matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded)) {
                    // `created:[* TO *]`: any document that has the date.
                    let any = Term::from_field_date(field, to_tantivy_date(jiff::Timestamp::MIN));
                    return Some(filter(Box::new(RangeQuery::new(
                        Bound::Included(any),
                        Bound::Unbounded,
                    ))));
                }
                Some(filter(Box::new(RangeQuery::new(lower, upper))))
            }
            QueryNode::Bool(clauses) => {
                let mut compiled: Vec<(Occur, Box<dyn Query>)> = clauses
                    .iter()
                    .filter_map(|(occur, child)| {
                        let occur = match occur {
                            ClauseOccur::Must => Occur::Must,
                            ClauseOccur::Should => Occur::Should,
                            ClauseOccur::MustNot => Occur::MustNot,
                        };
                        self.compile_node(child).map(|query| (occur, query))
                    })
                    .collect();
                if compiled.is_empty() {
                    return None;
                }
                if compiled.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                    compiled.push((Occur::Must, Box::new(AllQuery)));
                }
                Some(Box::new(BooleanQuery::new(compiled)))
            }
        }
    }

    fn keyword_field(&self, field: KeywordField) -> Field {
        match field {
            KeywordField::Id => self.fields.id,
            KeywordField::Kind => self.fields.kind,
            KeywordField::Service => self.fields.service,
            KeywordField::Severity => self.fields.severity,
            KeywordField::Status => self.fields.status,
            KeywordField::Tag => self.fields.tags,
            KeywordField::Team => self.fields.team,
        }
    }
}

/// Filters match without changing the score.
fn filter(query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, 0.0))
}

fn map_bound<T, U>(bound: &Bound<T>, f: impl Fn(&T) -> U) -> Bound<U> {
    match bound {
        Bound::Included(v) => Bound::Included(f(v)),
        Bound::Excluded(v) => Bound::Excluded(f(v)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Runs the text analyzer and returns `(position, token)` pairs.
pub(crate) fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let token = stream.token();
        tokens.push((token.position, token.text.clone()));
    }
    tokens
}

/// One token: a term query; several: a phrase query (positions as analysed).
fn text_query(field: Field, tokens: &[(usize, String)]) -> Box<dyn Query> {
    match tokens {
        [(_, token)] => Box::new(TermQuery::new(
            Term::from_field_text(field, token),
            IndexRecordOption::WithFreqs,
        )),
        _ => {
            let first = tokens.first().map(|(pos, _)| *pos).unwrap_or(0);
            let terms = tokens
                .iter()
                .map(|(pos, token)| (pos.saturating_sub(first), Term::from_field_text(field, token)))
                .collect();
            Box::new(PhraseQuery::new_with_offset(terms))
        }
    }
}

#[cfg(test)]
mod tests;
