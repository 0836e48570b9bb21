//! The access matrix is enforced inside every query: hits, totals, snippets, similar
//! incidents and get-by-id. Expected sets are written out by hand, not derived from the code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{corpus, index_with_corpus};
use opsline_search::{Page, Role, SearchError, SimilarTo, Viewer};

const ALL: [&str; 8] = [
    "pm-dns-published",
    "pm-db-draft",
    "pm-cert-reviewed",
    "rb-dns-published",
    "rb-reset-draft",
    "pm-secret-core",
    "rb-secret-draft",
    "pm-bgp-published",
];

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// (viewer, documents it may read)
fn matrix() -> Vec<(Viewer, BTreeSet<String>)> {
    let public_published = ["pm-dns-published", "rb-dns-published", "pm-bgp-published"];
    let sre_public = [
        "pm-dns-published",
        "pm-db-draft",
        "pm-cert-reviewed",
        "rb-dns-published",
        "rb-reset-draft",
        "pm-bgp-published",
    ];
    let with_secret = |base: &[&str]| {
        let mut s = set(base);
        s.insert("pm-secret-core".into());
        s
    };
    vec![
        (Viewer::new(Role::Sre, Vec::<String>::new()), set(&sre_public)),
        (Viewer::new(Role::Sre, ["Security"]), set(&ALL)),
        (Viewer::new(Role::Sre, ["network"]), set(&sre_public)),
        (
            Viewer::new(Role::Helpdesk, Vec::<String>::new()),
            set(&public_published),
        ),
        (
            Viewer::new(Role::Helpdesk, ["security"]),
            with_secret(&public_published),
        ),
        (Viewer::new(Role::Viewer, Vec::<String>::new()), set(&public_published)),
        (
            Viewer::new(Role::Viewer, ["SECURITY", "other"]),
            with_secret(&public_published),
        ),
    ]
}

#[test]
fn browse_search_and_count_follow_the_matrix() {
    let index = index_with_corpus();
    for (viewer, visible) in matrix() {
        let results = index.search(&viewer, "", Page::first(100)).unwrap();
        let got: BTreeSet<String> = results.hits.iter().map(|h| h.id.clone()).collect();
        assert_eq!(got, visible, "{viewer:?}");
        assert_eq!(results.total, visible.len(), "count for {viewer:?}");
        // A text query hitting every document: same set, same count.
        let results = index.search(&viewer, "dns OR the OR a", Page::first(100)).unwrap();
        let got: BTreeSet<String> = results.hits.iter().map(|h| h.id.clone()).collect();
        assert!(got.is_subset(&visible), "{viewer:?}: {got:?}");
        assert_eq!(results.total, got.len());
        let count_only = index.search(&viewer, "dns", Page { offset: 0, limit: 0 }).unwrap();
        let dns_visible = index.search(&viewer, "dns", Page::first(100)).unwrap();
        assert_eq!(count_only.total, dns_visible.hits.len());
    }
}

#[test]
fn can_read_agrees_with_the_index_filter() {
    for (viewer, visible) in matrix() {
        for doc in corpus() {
            assert_eq!(
                viewer.can_read(doc.kind, doc.status, doc.team.as_deref()),
                visible.contains(&doc.id),
                "{viewer:?} {}",
                doc.id
            );
        }
    }
}

#[test]
fn get_hides_documents_like_missing_ones() {
    let index = index_with_corpus();
    for (viewer, visible) in matrix() {
        for id in ALL {
            let got = index.get(&viewer, id).unwrap();
            assert_eq!(got.is_some(), visible.contains(id), "{viewer:?} get {id}");
        }
    }
}

#[test]
fn restricted_documents_never_leak_through_targeted_queries() {
    let index = index_with_corpus();
    let outsider = Viewer::new(Role::Sre, ["network"]);
    for query in [
        "credentials",
        "\"leaked credentials\"",
        "team:security",
        "tag:security",
        "id:pm-secret-core",
        "id:rb-secret-draft",
        "rotate OR credentials OR zone",
    ] {
        let results = index.search(&outsider, query, Page::first(100)).unwrap();
        assert_eq!(results.total, 0, "{query}: {:?}", results.hits);
        assert!(results.hits.is_empty());
    }
    // Snippets of visible hits never contain text of a restricted document.
    let results = index.search(&outsider, "dns provider", Page::first(100)).unwrap();
    for hit in &results.hits {
        assert!(!hit.snippet_text.contains("Credentials"), "{hit:?}");
        assert!(!hit.snippet_text.contains("API keys"), "{hit:?}");
    }
    // The member sees them.
    let member = Viewer::new(Role::Viewer, ["security"]);
    let results = index.search(&member, "credentials", Page::first(10)).unwrap();
    assert_eq!(
        results.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        vec!["pm-secret-core"]
    );
}

#[test]
fn similar_incidents_respect_the_matrix() {
    let index = index_with_corpus();
    for (viewer, visible) in matrix() {
        let hits = index
            .similar(
                &viewer,
                SimilarTo::Text("leaked DNS provider credentials zone rotate keys"),
                20,
            )
            .unwrap();
        for hit in &hits {
            assert!(visible.contains(&hit.id), "{viewer:?} got {}", hit.id);
        }
        for id in ALL {
            match index.similar(&viewer, SimilarTo::Document(id), 20) {
                Ok(hits) => {
                    assert!(visible.contains(id), "{viewer:?} similar to hidden {id}");
                    assert!(hits.iter().all(|h| visible.contains(&h.id) && h.id != id));
                }
                Err(SearchError::NotFound(_)) => assert!(!visible.contains(id), "{viewer:?} {id}"),
                Err(e) => panic!("{e}"),
            }
        }
    }
}

#[test]
fn helpdesk_and_viewer_never_see_unpublished() {
    let index = index_with_corpus();
    for role in [Role::Helpdesk, Role::Viewer] {
        let viewer = Viewer::new(role, ["security"]);
        for query in [
            "status:draft",
            "status:reviewed",
            "failover",
            "password",
            "tls",
            "expiry",
        ] {
            let results = index.search(&viewer, query, Page::first(100)).unwrap();
            assert_eq!(results.total, 0, "{role:?} {query}");
        }
    }
}
