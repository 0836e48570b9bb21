//! #16 item 6, "Console and API": search scores and similar-incident thresholds are computed
//! without the documents the viewer may not see. A viewer outside team `finance` gets the
//! same hits, in the same order, with the same scores, whether or not `finance`'s restricted
//! postmortems are in the index; a term shared only with a hidden document does not pass
//! the similar search's minimum document frequency.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{corpus, doc};
use opsline_search::{DocKind, DocStatus, Page, Role, SearchDocument, SearchIndex, SimilarTo, Viewer};

/// Restricted postmortems sharing words with the public corpus (and one rare word,
/// `ledgerlock`, with the public "ledger" document below).
fn restricted() -> Vec<SearchDocument> {
    (0..6)
        .map(|i| {
            let mut d = doc(
                &format!("pm-finance-{i}"),
                DocKind::Postmortem,
                DocStatus::Published,
                "DNS resolver outage in the ledger",
                "DNS resolvers failed, SERVFAIL everywhere; ledgerlock contention; rollback of the DNS change.",
            );
            d.team = Some("finance".into());
            d
        })
        .collect()
}

fn ledger() -> SearchDocument {
    doc(
        "pm-ledger-public",
        DocKind::Postmortem,
        DocStatus::Published,
        "Ledger batch stalled",
        "The nightly batch stalled on ledgerlock contention until the lock was released.",
    )
}

fn index(with_restricted: bool) -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    for d in corpus().into_iter().chain([ledger()]) {
        index.upsert(d).unwrap();
    }
    if with_restricted {
        for d in restricted() {
            index.upsert(d).unwrap();
        }
    }
    index.commit().unwrap();
    index
}

fn scored(hits: &[opsline_search::SearchHit]) -> Vec<(String, f32)> {
    hits.iter().map(|h| (h.id.clone(), h.score)).collect()
}

#[test]
fn console_and_api_search_scores_ignore_documents_the_viewer_may_not_see() {
    let (without, with) = (index(false), index(true));
    let outsiders = [
        Viewer::new(Role::Sre, Vec::<String>::new()),
        Viewer::new(Role::Viewer, ["network"]),
        Viewer::new(Role::Helpdesk, Vec::<String>::new()),
    ];
    for viewer in &outsiders {
        for query in ["dns resolver", "servfail rollback", "ledgerlock", "outage"] {
            let a = without.search(viewer, query, Page::first(20)).unwrap();
            let b = with.search(viewer, query, Page::first(20)).unwrap();
            assert_eq!(a.total, b.total, "{viewer:?} {query}");
            assert_eq!(scored(&a.hits), scored(&b.hits), "{viewer:?} {query}: scores moved");
        }
    }
    // A member of the team does see them.
    let member = Viewer::new(Role::Viewer, ["finance"]);
    let hits = with.search(&member, "ledgerlock", Page::first(20)).unwrap();
    assert!(hits.hits.iter().any(|h| h.id == "pm-finance-0"));
}

#[test]
fn console_and_api_similar_thresholds_ignore_documents_the_viewer_may_not_see() {
    let (without, with) = (index(false), index(true));
    let viewer = Viewer::new(Role::Sre, Vec::<String>::new());
    for target in [
        SimilarTo::Text("ledgerlock contention stalled the nightly batch"),
        SimilarTo::Text("DNS resolver SERVFAIL outage"),
        SimilarTo::Document("pm-dns-published"),
        SimilarTo::Document("pm-ledger-public"),
    ] {
        let a = without.similar(&viewer, target, 10).unwrap();
        let b = with.similar(&viewer, target, 10).unwrap();
        assert_eq!(scored(&a), scored(&b), "{target:?}: similar results moved");
    }
    // `ledgerlock` is in one visible document only: below the minimum document frequency
    // of 2 for an outsider, even though six hidden documents hold it too.
    let found = with.similar(&viewer, SimilarTo::Text("ledgerlock"), 10).unwrap();
    assert!(found.is_empty(), "{found:?}");
}
