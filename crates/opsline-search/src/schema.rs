//! The tantivy schema of the index, its analyzers, and conversion between
//! [`SearchDocument`] and tantivy documents.

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, TokenizerManager,
};
use tantivy::{DateTime, Index};

use crate::document::{DocKind, DocStatus, SearchDocument};
use crate::error::{Result, SearchError};

/// Analyzer of free-text fields: split on non-alphanumerics, drop tokens over 40 bytes,
/// lower-case, English (Snowball) stemming.
pub(crate) const TEXT_ANALYZER: &str = "opsline_text";
/// Analyzer of the unstemmed copies of title and body (`title_exact`, `body_exact`): like
/// [`TEXT_ANALYZER`] without stemming, so exact word forms outrank mere stem matches
/// (Snowball maps both "generator" and "generations" to "generat").
pub(crate) const EXACT_ANALYZER: &str = "opsline_exact";
/// Analyzer of keyword fields: the whole value as one lower-cased token.
pub(crate) const KEYWORD_ANALYZER: &str = "opsline_keyword";

/// Visibility token of documents without a team restriction.
pub(crate) const PUBLIC_VISIBILITY: &str = "public";

/// Visibility token of documents restricted to `team` (already normalised).
pub(crate) fn team_visibility(team: &str) -> String {
    format!("team:{team}")
}

/// Handles to every field of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexFields {
    pub id: Field,
    pub kind: Field,
    pub title: Field,
    pub body: Field,
    pub title_exact: Field,
    pub body_exact: Field,
    pub service: Field,
    pub severity: Field,
    pub created: Field,
    pub updated: Field,
    pub status: Field,
    pub tags: Field,
    pub team: Field,
    pub visibility: Field,
    pub url: Field,
    pub source_path: Field,
}

/// Builds the schema and returns it with its field handles.
pub(crate) fn build_schema() -> (Schema, IndexFields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let exact = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(EXACT_ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let keyword_indexing = TextFieldIndexing::default()
        .set_tokenizer(KEYWORD_ANALYZER)
        .set_index_option(IndexRecordOption::Basic)
        .set_fieldnorms(false);
    let keyword = TextOptions::default()
        .set_indexing_options(keyword_indexing.clone())
        .set_stored();
    let hidden_keyword = TextOptions::default().set_indexing_options(keyword_indexing);
    let date = DateOptions::default()
        .set_indexed()
        .set_stored()
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);
    let fields = IndexFields {
        id: builder.add_text_field("id", STRING | STORED),
        kind: builder.add_text_field("kind", keyword.clone()),
        title: builder.add_text_field("title", text.clone()),
        body: builder.add_text_field("body", text),
        title_exact: builder.add_text_field("title_exact", exact.clone()),
        body_exact: builder.add_text_field("body_exact", exact),
        service: builder.add_text_field("service", keyword.clone()),
        severity: builder.add_text_field("severity", keyword.clone()),
        created: builder.add_date_field("created", date.clone()),
        updated: builder.add_date_field("updated", date),
        status: builder.add_text_field("status", keyword.clone()),
        tags: builder.add_text_field("tags", keyword.clone()),
        team: builder.add_text_field("team", keyword),
        visibility: builder.add_text_field("visibility", hidden_keyword),
        url: builder.add_text_field("url", STRING | STORED),
        source_path: builder.add_text_field("source_path", STORED),
    };
    (builder.build(), fields)
}

/// Looks the fields up by name in an existing index's schema (an index opened from disk).
pub(crate) fn fields_of(schema: &Schema) -> Result<IndexFields> {
    let field = |name: &str| {
        schema
            .get_field(name)
            .map_err(|_| SearchError::SchemaMismatch(name.to_string()))
    };
    Ok(IndexFields {
        id: field("id")?,
        kind: field("kind")?,
        title: field("title")?,
        body: field("body")?,
        title_exact: field("title_exact")?,
        body_exact: field("body_exact")?,
        service: field("service")?,
        severity: field("severity")?,
        created: field("created")?,
        updated: field("updated")?,
        status: field("status")?,
        tags: field("tags")?,
        team: field("team")?,
        visibility: field("visibility")?,
        url: field("url")?,
        source_path: field("source_path")?,
    })
}

/// The free-text analyzer (also used by the query compiler and the naive benchmark scan).
pub(crate) fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The unstemmed free-text analyzer.
pub(crate) fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .build()
}

/// Registers the crate's analyzers on an index (they are not persisted by tantivy).
pub(crate) fn register_analyzers(index: &Index) {
    let manager: &TokenizerManager = index.tokenizers();
    manager.register(TEXT_ANALYZER, text_analyzer());
    manager.register(EXACT_ANALYZER, exact_analyzer());
    manager.register(
        KEYWORD_ANALYZER,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}

/// Largest |seconds| tantivy can represent (it stores nanoseconds in an `i64`, about
/// 1677..2262); dates outside are clamped instead of overflowing.
const MAX_TANTIVY_SECONDS: i64 = i64::MAX / 1_000_000_000 - 1;

/// Converts a timestamp to a tantivy date, clamped to tantivy's range.
pub(crate) fn to_tantivy_date(timestamp: jiff::Timestamp) -> DateTime {
    DateTime::from_timestamp_secs(timestamp.as_second().clamp(-MAX_TANTIVY_SECONDS, MAX_TANTIVY_SECONDS))
}

fn from_tantivy_date(date: DateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_second(date.into_timestamp_secs()).ok()
}

/// Converts a normalised document into a tantivy document.
pub(crate) fn to_tantivy(fields: &IndexFields, doc: &SearchDocument) -> TantivyDocument {
    let mut out = TantivyDocument::default();
    out.add_text(fields.id, &doc.id);
    out.add_text(fields.kind, doc.kind.as_str());
    out.add_text(fields.title, &doc.title);
    out.add_text(fields.body, &doc.body);
    out.add_text(fields.title_exact, &doc.title);
    out.add_text(fields.body_exact, &doc.body);
    if let Some(service) = &doc.service {
        out.add_text(fields.service, service);
    }
    if let Some(severity) = &doc.severity {
        out.add_text(fields.severity, severity);
    }
    if let Some(created) = doc.created {
        out.add_date(fields.created, to_tantivy_date(created));
    }
    if let Some(updated) = doc.updated {
        out.add_date(fields.updated, to_tantivy_date(updated));
    }
    out.add_text(fields.status, doc.status.as_str());
    for tag in &doc.tags {
        out.add_text(fields.tags, tag);
    }
    match &doc.team {
        Some(team) => {
            out.add_text(fields.team, team);
            out.add_text(fields.visibility, team_visibility(team));
        }
        None => out.add_text(fields.visibility, PUBLIC_VISIBILITY),
    }
    if let Some(url) = &doc.url {
        out.add_text(fields.url, url);
    }
    if let Some(path) = &doc.source_path {
        out.add_text(fields.source_path, path);
    }
    out
}

fn first_text(doc: &TantivyDocument, field: Field) -> Option<String> {
    doc.get_first(field)
        .and_then(|value| value.as_str().map(str::to_string))
}

fn first_date(doc: &TantivyDocument, field: Field) -> Option<jiff::Timestamp> {
    doc.get_first(field)
        .and_then(|value| value.as_datetime())
        .and_then(from_tantivy_date)
}

/// Rebuilds a [`SearchDocument`] from its stored fields.
pub(crate) fn from_tantivy(fields: &IndexFields, doc: &TantivyDocument) -> Result<SearchDocument> {
    let id = first_text(doc, fields.id).ok_or_else(|| SearchError::SchemaMismatch("stored id".to_string()))?;
    let kind = first_text(doc, fields.kind)
        .and_then(|k| k.parse::<DocKind>().ok())
        .unwrap_or(DocKind::Postmortem);
    let status = first_text(doc, fields.status)
        .and_then(|s| s.parse::<DocStatus>().ok())
        .unwrap_or(DocStatus::Draft);
    Ok(SearchDocument {
        id,
        kind,
        title: first_text(doc, fields.title).unwrap_or_default(),
        body: first_text(doc, fields.body).unwrap_or_default(),
        service: first_text(doc, fields.service),
        severity: first_text(doc, fields.severity),
        created: first_date(doc, fields.created),
        updated: first_date(doc, fields.updated),
        status,
        tags: doc
            .get_all(fields.tags)
            .filter_map(|value| value.as_str().map(str::to_string))
            .collect(),
        team: first_text(doc, fields.team),
        url: first_text(doc, fields.url),
        source_path: first_text(doc, fields.source_path),
    })
}
