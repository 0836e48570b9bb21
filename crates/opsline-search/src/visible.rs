//! Scores computed over what the viewer may read, and nothing else.
//!
//! Filtering the query ([`crate::access`]) keeps a hidden document out of the results, but
//! BM25 would still take its statistics (documents in the index, documents holding a term,
//! average field length) from the whole index, and MoreLikeThis would still pick its terms,
//! and apply its minimum document frequency, over every document: a restricted postmortem
//! would shift the visible results' scores and ranks, and let a term shared with it pass the
//! similar-incident threshold. [`VisibleStats`] answers those statistics from the documents
//! matching the viewer's access filter only, and [`similar_query`] selects the MoreLikeThis
//! terms with them, so a viewer gets the same results and scores whether or not documents
//! they may not see exist.

use std::collections::HashMap;

use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{DocId, Score, Searcher, SegmentReader, Term};

/// BM25 statistics over the documents matching `filter` (the viewer's access filter).
pub(crate) struct VisibleStats<'a> {
    pub(crate) searcher: &'a Searcher,
    pub(crate) filter: Box<dyn Query>,
}

impl Bm25StatisticsProvider for VisibleStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.searcher.search(&*self.filter, &FieldTokens(field))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.searcher.search(&*self.filter, &Count)? as u64)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let both = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)) as Box<dyn Query>,
            ),
            (Occur::Must, self.filter.box_clone()),
        ]);
        Ok(self.searcher.search(&both, &Count)? as u64)
    }
}

/// Sums a field's token counts (its field norms) over the matching documents.
struct FieldTokens(Field);

struct SegmentFieldTokens {
    norms: Option<tantivy::fieldnorm::FieldNormReader>,
    total: u64,
}

impl Collector for FieldTokens {
    type Fruit = u64;
    type Child = SegmentFieldTokens;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentFieldTokens> {
        Ok(SegmentFieldTokens {
            norms: segment.fieldnorms_readers().get_field(self.0)?,
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<u64>) -> tantivy::Result<u64> {
        Ok(fruits.into_iter().sum())
    }
}

impl SegmentCollector for SegmentFieldTokens {
    type Fruit = u64;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(norms) = &self.norms {
            self.total += u64::from(norms.fieldnorm(doc));
        }
    }

    fn harvest(self) -> u64 {
        self.total
    }
}

/// The MoreLikeThis settings of the similar-incident search.
pub(crate) struct SimilarSettings<'a> {
    /// A term must occur in at least this many visible documents.
    pub(crate) min_doc_frequency: u64,
    /// Terms kept (the highest tf-idf).
    pub(crate) max_query_terms: usize,
    /// Shorter words are ignored.
    pub(crate) min_word_length: usize,
    /// Ignored words.
    pub(crate) stop_words: &'a [&'a str],
}

/// The MoreLikeThis query for `texts` (field, text, analyzer): each content word weighed by
/// its frequency in the texts times its idf over the visible documents (as tantivy's
/// MoreLikeThis does over the whole index), the best `max_query_terms` as boosted `should`
/// clauses. `None` when no word qualifies.
pub(crate) fn similar_query(
    stats: &VisibleStats<'_>,
    texts: Vec<(Field, &str, TextAnalyzer)>,
    settings: &SimilarSettings<'_>,
) -> tantivy::Result<Option<BooleanQuery>> {
    let mut frequencies: HashMap<Term, usize> = HashMap::new();
    for (field, text, mut analyzer) in texts {
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let word = &stream.token().text;
            if word.len() < settings.min_word_length || settings.stop_words.contains(&word.as_str()) {
                continue;
            }
            *frequencies.entry(Term::from_field_text(field, word)).or_insert(0) += 1;
        }
    }
    let docs = stats.total_num_docs()?;
    let mut scored: Vec<(Score, Term)> = Vec::new();
    for (term, frequency) in frequencies {
        let doc_freq = stats.doc_freq(&term)?;
        if doc_freq == 0 || doc_freq < settings.min_doc_frequency || doc_freq > docs {
            continue;
        }
        let x = ((docs - doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5);
        scored.push((frequency as Score * (1.0 + x).ln(), term));
    }
    // Highest score first; ties by term so the choice does not depend on hash order.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.truncate(settings.max_query_terms);
    let Some(best) = scored.first().map(|(score, _)| *score).filter(|s| *s > 0.0) else {
        return Ok(None);
    };
    let clauses = scored
        .into_iter()
        .map(|(score, term)| {
            let query: Box<dyn Query> = Box::new(BoostQuery::new(
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                score / best,
            ));
            (Occur::Should, query)
        })
        .collect();
    Ok(Some(BooleanQuery::new(clauses)))
}
