//! Index lifecycle and query language, end to end through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{corpus, ids, index_with_corpus, sre_security};
use opsline_search::{Page, SearchError, SearchIndex, SimilarTo};

fn search_ids(index: &SearchIndex, query: &str) -> Vec<String> {
    ids(&index.search(&sre_security(), query, Page::first(50)).unwrap())
}

#[test]
fn upsert_is_idempotent_and_replaces_by_id() {
    let index = index_with_corpus();
    assert_eq!(index.num_docs(), 8);
    for d in corpus() {
        index.upsert(d).unwrap();
    }
    index.commit().unwrap();
    assert_eq!(index.num_docs(), 8, "re-indexing the same documents must not duplicate");

    let mut changed = corpus().remove(0);
    changed.title = "Renamed postmortem about resolvers".into();
    index.upsert(changed).unwrap();
    index.commit().unwrap();
    assert_eq!(index.num_docs(), 8);
    let got = index.get(&sre_security(), "pm-dns-published").unwrap().unwrap();
    assert_eq!(got.title, "Renamed postmortem about resolvers");
}

#[test]
fn get_round_trips_normalised_fields() {
    let index = index_with_corpus();
    let got = index.get(&sre_security(), "pm-dns-published").unwrap().unwrap();
    let mut expected = corpus().remove(0);
    expected.service = Some("payments".into());
    expected.severity = Some("sev1".into());
    expected.tags = vec!["config".into(), "dns".into()];
    assert_eq!(got, expected);
    assert_eq!(index.get(&sre_security(), "nope").unwrap(), None);
}

#[test]
fn delete_removes_after_commit() {
    let index = index_with_corpus();
    index.delete("pm-bgp-published").unwrap();
    assert!(
        index.get(&sre_security(), "pm-bgp-published").unwrap().is_some(),
        "not before commit"
    );
    index.commit().unwrap();
    assert!(index.get(&sre_security(), "pm-bgp-published").unwrap().is_none());
    assert_eq!(index.num_docs(), 7);
}

#[test]
fn on_disk_index_persists_and_rebuilds_by_replay() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open_or_create(dir.path()).unwrap();
        for d in corpus() {
            index.upsert(d).unwrap();
        }
        index.commit().unwrap();
    }
    let reopened = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(reopened.num_docs(), 8);
    assert_eq!(search_ids(&reopened, "\"route leak\""), vec!["pm-bgp-published"]);
    // Rebuild from scratch by replaying the documents.
    reopened.clear().unwrap();
    reopened.commit().unwrap();
    assert_eq!(reopened.num_docs(), 0);
    for d in corpus() {
        reopened.upsert(d).unwrap();
    }
    reopened.commit().unwrap();
    assert_eq!(reopened.num_docs(), 8);
}

#[test]
fn stemming_phrases_and_booleans() {
    let index = index_with_corpus();
    // "expiry" and "expired" share a stem.
    assert_eq!(
        search_ids(&index, "certificate expiry")[0..1],
        ["pm-cert-reviewed".to_string()]
    );
    assert_eq!(search_ids(&index, "\"route leak\""), vec!["pm-bgp-published"]);
    assert!(search_ids(&index, "\"leak route\"").is_empty());
    assert_eq!(search_ids(&index, "dns AND failover"), vec!["pm-db-draft"]);
    assert_eq!(
        search_ids(&index, "+dns -runbook -credentials -failover"),
        vec!["pm-dns-published"]
    );
    assert_eq!(
        search_ids(&index, "(bgp OR tls) AND NOT expired"),
        vec!["pm-bgp-published"]
    );
    assert_eq!(
        search_ids(&index, "title:runbook password"),
        vec!["rb-dns-published", "rb-reset-draft", "rb-secret-draft"]
    );
    assert_eq!(search_ids(&index, "body:\"rotate the dns\""), vec!["rb-secret-draft"]);
}

#[test]
fn field_filters_and_date_ranges() {
    let index = index_with_corpus();
    assert_eq!(
        search_ids(&index, "dns service:PAYMENTS kind:runbook"),
        vec!["rb-dns-published"]
    );
    assert_eq!(
        search_ids(&index, "severity:sev1 status:published"),
        vec!["pm-dns-published", "pm-secret-core"]
    );
    assert_eq!(search_ids(&index, "tag:bgp"), vec!["pm-bgp-published"]);
    assert_eq!(
        search_ids(&index, "team:security"),
        vec!["pm-secret-core", "rb-secret-draft"]
    );
    assert_eq!(
        search_ids(&index, "created:[2024-01-01 TO 2024-06-30]"),
        vec!["pm-dns-published", "pm-secret-core", "rb-dns-published"]
    );
    // The upper bound includes the whole last day.
    assert_eq!(
        search_ids(&index, "created:[2024-06-01 TO 2024-07-01]"),
        vec!["pm-db-draft"]
    );
    assert_eq!(
        search_ids(&index, "created:{2024-06-01 TO 2024-07-01}"),
        Vec::<String>::new()
    );
    assert_eq!(search_ids(&index, "created:<2023"), vec!["pm-bgp-published"]);
    assert_eq!(
        search_ids(&index, "created:2024-02 dns"),
        vec!["pm-dns-published", "pm-secret-core"]
    );
    assert_eq!(
        search_ids(&index, "severity:sev2 OR tag:tls"),
        vec!["pm-bgp-published", "pm-cert-reviewed", "pm-db-draft"]
    );
    assert_eq!(
        search_ids(&index, "-kind:runbook -created:[* TO *]"),
        Vec::<String>::new()
    );
    assert_eq!(
        search_ids(&index, "created:[0001 TO 9000]").len(),
        6,
        "extreme years are clamped, not a panic (2 docs are undated)"
    );
    assert_eq!(search_ids(&index, "created:>9000").len(), 0);
}

#[test]
fn pagination_and_totals() {
    let index = index_with_corpus();
    let viewer = sre_security();
    let all = index.search(&viewer, "dns", Page::first(100)).unwrap();
    assert_eq!(all.total, all.hits.len());
    assert!(all.total >= 5);
    let scores: Vec<f32> = all.hits.iter().map(|h| h.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "sorted by score");
    let page2 = index.search(&viewer, "dns", Page { offset: 2, limit: 2 }).unwrap();
    assert_eq!(page2.total, all.total);
    assert_eq!(
        page2.hits.iter().map(|h| &h.id).collect::<Vec<_>>(),
        all.hits[2..4].iter().map(|h| &h.id).collect::<Vec<_>>()
    );
    let none = index.search(&viewer, "dns", Page { offset: 0, limit: 0 }).unwrap();
    assert_eq!((none.total, none.hits.len()), (all.total, 0));
    let past = index
        .search(
            &viewer,
            "dns",
            Page {
                offset: 1000,
                limit: 10,
            },
        )
        .unwrap();
    assert!(past.hits.is_empty());
    assert_eq!(index.search(&viewer, "", Page::first(100)).unwrap().total, 8);
}

#[test]
fn snippets_are_escaped_and_highlighted() {
    let index = index_with_corpus();
    let results = index.search(&sre_security(), "renewal", Page::first(5)).unwrap();
    let hit = &results.hits[0];
    assert_eq!(hit.id, "pm-dns-published");
    assert!(
        hit.snippet_html.contains("&lt;<b>renewal</b>&gt;"),
        "{}",
        hit.snippet_html
    );
    assert!(hit.snippet_text.contains("<renewal>"));
    assert_eq!(hit.url.as_deref(), Some("https://wiki.example/pm/dns"));
    // A title-only match still gets the start of the body as snippet.
    let results = index.search(&sre_security(), "title:flush", Page::first(5)).unwrap();
    assert!(results.hits[0].snippet_text.starts_with("Steps to flush"));
}

#[test]
fn similar_incidents_exclude_the_document_itself() {
    let index = index_with_corpus();
    let viewer = sre_security();
    let similar = index
        .similar(&viewer, SimilarTo::Document("pm-dns-published"), 5)
        .unwrap();
    assert!(!similar.is_empty());
    assert!(similar.iter().all(|h| h.id != "pm-dns-published"));
    let by_text = index
        .similar(&viewer, SimilarTo::Text("transit provider leaked prefixes route"), 3)
        .unwrap();
    assert_eq!(by_text[0].id, "pm-bgp-published");
    assert!(matches!(
        index.similar(&viewer, SimilarTo::Document("missing"), 5),
        Err(SearchError::NotFound(_))
    ));
    assert!(index.similar(&viewer, SimilarTo::Text("   "), 5).unwrap().is_empty());
}

#[test]
fn bad_queries_are_errors() {
    let index = index_with_corpus();
    assert!(matches!(
        index.search(&sre_security(), "created:[2024 2025]", Page::default()),
        Err(SearchError::Query(_))
    ));
    // Punctuation-only queries match nothing rather than failing.
    assert_eq!(
        index.search(&sre_security(), "!!! ???", Page::default()).unwrap().total,
        0
    );
}
