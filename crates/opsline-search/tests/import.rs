//! Importing Markdown (with and without front matter) and JSON Lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::RefCell;
use std::fs;

use common::sre;
use opsline_search::{
    DocKind, DocStatus, ImportOptions, ImportProgress, Page, Role, SearchIndex, Viewer, import_path, import_path_with,
};

fn write_fixture(dir: &std::path::Path) {
    fs::create_dir_all(dir.join("postmortems/nested")).unwrap();
    fs::create_dir_all(dir.join("runbooks")).unwrap();
    fs::write(
        dir.join("postmortems/full.md"),
        "---\nid: PM-42\ntitle: Payments DNS outage\nkind: postmortem\nservice: Payments\nseverity: SEV1\n\
         created: 2024-02-10\nupdated: 2024-02-12T10:00:00Z\nstatus: published\ntags: [dns, config]\n\
         team: core\nurl: https://wiki.example/pm/42\n---\n\n# Ignored heading\n\nResolvers returned \
         [SERVFAIL](https://example.com/servfail) after a *bad* push.\n",
    )
    .unwrap();
    fs::write(
        dir.join("postmortems/nested/no-front.md"),
        "Some intro line.\n\n## Queue backlog after deploy\n\nWorkers stalled.\n",
    )
    .unwrap();
    fs::write(
        dir.join("postmortems/nested/bad-yaml.md"),
        "---\ntitle: [unclosed\n---\nBody of a document whose front matter is broken.\n",
    )
    .unwrap();
    fs::write(
        dir.join("postmortems/odd.md"),
        "---\ncompany: Acme\ncategories: postmortem\ncreated: not-a-date\nstatus: secret\n---\nA fire in the \
         datacenter. More text.\n",
    )
    .unwrap();
    fs::write(
        dir.join("runbooks/reset.md"),
        "# Reset a password\n\n1. Verify identity.\n",
    )
    .unwrap();
    fs::write(
        dir.join("feed.jsonl"),
        concat!(
            "{\"section\": \"Config Errors\", \"company\": \"Allegro\", \"url\": \"https://x.example/a\", \"text\": \"Traffic spike took the site down.\", \"id\": 0}\n",
            "not json\n",
            "\n",
            "[1, 2]\n",
            "{\"title\": \"No body here\"}\n",
            "{\"name\": \"Titled\", \"description\": \"Disk full on the log volume.\", \"tags\": \"disk, logs\"}\n",
        ),
    )
    .unwrap();
    fs::write(dir.join("LICENSE"), "GPL").unwrap();
    // A folder guide, not a document of the collection.
    fs::write(
        dir.join("runbooks/README.md"),
        "# Runbooks\n\nHow this folder is organised.\n",
    )
    .unwrap();
    fs::write(dir.join(".hidden.md"), "# hidden").unwrap();
}

#[test]
fn imports_markdown_and_jsonl_with_problems_reported() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path());
    let index = SearchIndex::in_memory().unwrap();
    let seen = RefCell::new(Vec::<ImportProgress>::new());
    let summary = import_path(&index, tmp.path(), &|p| seen.borrow_mut().push(p)).unwrap();
    assert_eq!(summary.files_read, 6);
    assert_eq!(summary.files_skipped, 2, "LICENSE and runbooks/README.md");
    assert_eq!(summary.documents_indexed, 7);
    assert_eq!(index.num_docs(), 7);
    let skipped: Vec<Option<usize>> = summary.problems.iter().filter(|p| p.skipped).map(|p| p.line).collect();
    assert_eq!(skipped, vec![Some(2), Some(4), Some(5)], "{:?}", summary.problems);
    assert!(summary.problems.iter().any(|p| p.message.contains("invalid YAML")));
    assert!(summary.problems.iter().any(|p| p.message.contains("not-a-date")));
    assert!(summary.problems.iter().any(|p| p.message.contains("unknown status")));
    let seen = seen.into_inner();
    assert_eq!(seen.last().map(|p| (p.files_done, p.documents_indexed)), Some((8, 7)));

    let member = Viewer::new(Role::Sre, ["core"]);
    let full = index.get(&member, "PM-42").unwrap().unwrap();
    assert_eq!(full.title, "Payments DNS outage");
    assert_eq!(full.kind, DocKind::Postmortem);
    assert_eq!(full.status, DocStatus::Published);
    assert_eq!(full.service.as_deref(), Some("payments"));
    assert_eq!(full.severity.as_deref(), Some("sev1"));
    assert_eq!(full.tags, vec!["config", "dns"]);
    assert_eq!(full.team.as_deref(), Some("core"));
    assert_eq!(
        full.created.map(|t| t.to_string()).as_deref(),
        Some("2024-02-10T00:00:00Z")
    );
    assert_eq!(
        full.updated.map(|t| t.to_string()).as_deref(),
        Some("2024-02-12T10:00:00Z")
    );
    assert!(
        full.body.contains("Resolvers returned SERVFAIL after a bad push."),
        "{}",
        full.body
    );
    assert!(full.source_path.unwrap().ends_with("full.md"));
    assert!(index.get(&sre(), "PM-42").unwrap().is_none(), "team-restricted");

    let by_path = index
        .get(&sre(), "path:postmortems/nested/no-front.md")
        .unwrap()
        .unwrap();
    assert_eq!(by_path.title, "Queue backlog after deploy");
    assert_eq!(by_path.status, DocStatus::Draft, "default status");
    let broken = index
        .get(&sre(), "path:postmortems/nested/bad-yaml.md")
        .unwrap()
        .unwrap();
    assert_eq!(broken.title, "Body of a document whose front matter is broken.");
    let odd = index.get(&sre(), "path:postmortems/odd.md").unwrap().unwrap();
    assert_eq!(odd.title, "Acme: A fire in the datacenter.");
    assert_eq!(odd.tags, vec!["postmortem"]);
    assert_eq!(odd.created, None);
    let runbook = index.get(&sre(), "path:runbooks/reset.md").unwrap().unwrap();
    assert_eq!(runbook.kind, DocKind::Runbook);
    assert_eq!(runbook.title, "Reset a password");

    let line = index.get(&sre(), "url:x.example/a").unwrap().unwrap();
    assert_eq!(line.title, "Allegro: Traffic spike took the site down.");
    assert_eq!(line.tags, vec!["config errors"]);
    let titled = index.get(&sre(), "feed.jsonl#L6").unwrap().unwrap();
    assert_eq!(
        (titled.title.as_str(), titled.tags.clone()),
        ("Titled", vec!["disk".to_string(), "logs".to_string()])
    );
}

#[test]
fn reimport_is_idempotent_and_single_files_work() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path());
    let index = SearchIndex::in_memory().unwrap();
    let options = ImportOptions {
        default_status: DocStatus::Published,
        commit_every: 2,
    };
    import_path_with(&index, tmp.path(), &options, &|_| {}).unwrap();
    import_path_with(&index, tmp.path(), &options, &|_| {}).unwrap();
    assert_eq!(index.num_docs(), 7);
    let viewer = Viewer::new(Role::Viewer, Vec::<String>::new());
    assert_eq!(
        index.search(&viewer, "disk", Page::default()).unwrap().total,
        1,
        "published by default option"
    );

    let single = SearchIndex::in_memory().unwrap();
    let summary = import_path(&single, &tmp.path().join("feed.jsonl"), &|_| {}).unwrap();
    assert_eq!(summary.documents_indexed, 2);
    assert!(
        single.get(&sre(), "feed.jsonl#L6").unwrap().is_some(),
        "ids relative to the file's folder"
    );
    assert!(import_path(&single, &tmp.path().join("missing"), &|_| {}).is_err());
}
