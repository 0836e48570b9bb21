//! Shared fixtures for the integration tests: a small corpus covering every kind, status
//! and team restriction.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use opsline_search::{DocKind, DocStatus, Role, SearchDocument, SearchIndex, Viewer};

pub fn doc(id: &str, kind: DocKind, status: DocStatus, title: &str, body: &str) -> SearchDocument {
    SearchDocument::new(id, kind, title, body, status)
}

/// Eight documents: every (kind, status) plus team-restricted ones.
pub fn corpus() -> Vec<SearchDocument> {
    let mut docs = Vec::new();
    let mut pm = doc(
        "pm-dns-published",
        DocKind::Postmortem,
        DocStatus::Published,
        "DNS resolver outage in payments",
        "A bad DNS configuration change made resolvers return SERVFAIL. The certificate <renewal> job \
         also failed because DNS was down. Rollback restored resolution.",
    );
    pm.service = Some("Payments".into());
    pm.severity = Some("SEV1".into());
    pm.tags = vec!["dns".into(), "config".into()];
    pm.created = "2024-02-10T08:00:00Z".parse().ok();
    pm.url = Some("https://wiki.example/pm/dns".into());
    docs.push(pm);

    let mut pm = doc(
        "pm-db-draft",
        DocKind::Postmortem,
        DocStatus::Draft,
        "Database failover took too long",
        "The primary database failed and the failover to the replica took forty minutes. DNS caching \
         kept clients on the old primary.",
    );
    pm.service = Some("ledger".into());
    pm.severity = Some("sev2".into());
    pm.created = "2024-07-01T00:00:00Z".parse().ok();
    docs.push(pm);

    let mut pm = doc(
        "pm-cert-reviewed",
        DocKind::Postmortem,
        DocStatus::Reviewed,
        "Expired TLS certificate on the API gateway",
        "The TLS certificate of the public API expired on a Sunday. Monitoring did not alert on \
         certificate expiry.",
    );
    pm.service = Some("gateway".into());
    pm.severity = Some("sev1".into());
    pm.created = "2023-11-20T12:00:00Z".parse().ok();
    pm.tags = vec!["tls".into()];
    docs.push(pm);

    let mut rb = doc(
        "rb-dns-published",
        DocKind::Runbook,
        DocStatus::Published,
        "Runbook: flush DNS caches",
        "Steps to flush resolver caches after a DNS configuration change.",
    );
    rb.service = Some("payments".into());
    rb.tags = vec!["dns".into()];
    rb.created = "2024-03-05T00:00:00Z".parse().ok();
    docs.push(rb);

    let mut rb = doc(
        "rb-reset-draft",
        DocKind::Runbook,
        DocStatus::Draft,
        "Runbook: reset a user password",
        "Verify identity, then reset the password in the directory and force a change at next login.",
    );
    rb.service = Some("identity".into());
    docs.push(rb);

    let mut secret = doc(
        "pm-secret-core",
        DocKind::Postmortem,
        DocStatus::Published,
        "Leaked credentials in the DNS provider account",
        "Credentials for the DNS provider leaked through a public repository; the zone was modified.",
    );
    secret.team = Some("Security".into());
    secret.service = Some("payments".into());
    secret.severity = Some("sev1".into());
    secret.tags = vec!["dns".into(), "security".into()];
    secret.created = "2024-02-15T00:00:00Z".parse().ok();
    docs.push(secret);

    let mut secret_rb = doc(
        "rb-secret-draft",
        DocKind::Runbook,
        DocStatus::Draft,
        "Runbook: rotate DNS provider credentials",
        "Rotate the DNS provider API keys and audit zone changes.",
    );
    secret_rb.team = Some("security".into());
    docs.push(secret_rb);

    let mut pm = doc(
        "pm-bgp-published",
        DocKind::Postmortem,
        DocStatus::Published,
        "BGP route leak from a transit provider",
        "A transit provider leaked our prefixes; traffic was blackholed for an hour.",
    );
    pm.service = Some("network".into());
    pm.severity = Some("sev2".into());
    pm.tags = vec!["bgp".into(), "network".into()];
    pm.created = "2022-05-01T00:00:00Z".parse().ok();
    docs.push(pm);
    docs
}

pub fn index_with_corpus() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    for d in corpus() {
        index.upsert(d).unwrap();
    }
    index.commit().unwrap();
    index
}

pub fn sre() -> Viewer {
    Viewer::new(Role::Sre, Vec::<String>::new())
}

pub fn sre_security() -> Viewer {
    Viewer::new(Role::Sre, ["SECURITY"])
}

pub fn ids(results: &opsline_search::SearchResults) -> Vec<String> {
    let mut ids: Vec<String> = results.hits.iter().map(|h| h.id.clone()).collect();
    ids.sort();
    ids
}
