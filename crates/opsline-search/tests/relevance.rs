//! Relevance check on the real postmortem corpus (`shared/data/postmortems`): for each of
//! the queries in `relevance_queries.json`, the expected incident (identified by its URL;
//! several URLs when the corpus holds archive copies of the same write-up) must be in the
//! top 5. Skipped, with a message, only when the data folder is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use opsline_search::{DocStatus, ImportOptions, Page, Role, SearchIndex, Viewer, import_path_with};
use serde::Deserialize;

#[derive(Deserialize)]
struct RelevanceCase {
    query: String,
    expected_urls: Vec<String>,
}

const TOP_K: usize = 5;

#[test]
fn expected_postmortem_is_in_top_5() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/postmortems");
    if !corpus.is_dir() {
        eprintln!("SKIPPED: relevance corpus not found at {}", corpus.display());
        return;
    }
    let cases: Vec<RelevanceCase> =
        serde_json::from_str(include_str!("relevance_queries.json")).expect("valid relevance_queries.json");
    assert!(cases.len() >= 30, "at least 30 queries");
    assert!(cases.iter().all(|c| !c.expected_urls.is_empty()));

    let index = SearchIndex::in_memory().unwrap();
    let options = ImportOptions {
        default_status: DocStatus::Published,
        ..ImportOptions::default()
    };
    let summary = import_path_with(&index, &corpus, &options, &|_| {}).unwrap();
    assert!(summary.documents_indexed > 400 && index.num_docs() > 150, "{summary:?}");

    let viewer = Viewer::new(Role::Viewer, Vec::<String>::new());
    let mut failures = Vec::new();
    let mut reciprocal_ranks = 0.0;
    for case in &cases {
        let results = index.search(&viewer, &case.query, Page::first(TOP_K)).unwrap();
        let rank = results
            .hits
            .iter()
            .position(|hit| hit.url.as_ref().is_some_and(|url| case.expected_urls.contains(url)));
        match rank {
            Some(rank) => reciprocal_ranks += 1.0 / (rank as f64 + 1.0),
            None => failures.push(format!(
                "{:?}: expected {:?}, got {:?}",
                case.query,
                case.expected_urls,
                results
                    .hits
                    .iter()
                    .map(|h| h.url.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
            )),
        }
    }
    let hits = cases.len() - failures.len();
    eprintln!(
        "relevance: {hits}/{} queries with the expected document in the top {TOP_K}, MRR@{TOP_K} {:.3}",
        cases.len(),
        reciprocal_ranks / cases.len() as f64
    );
    assert!(
        failures.is_empty(),
        "{} misses:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
