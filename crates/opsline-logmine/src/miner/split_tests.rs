//! Template splitting: a wildcard that keeps taking a few constant words splits into per-word
//! templates with new ids; variables never split; snapshots keep split templates and watches.

use super::*;
use crate::{SPLIT_EVIDENCE_LINES, Snapshot};

/// A small leaf forces `… to testing` into `… to up`, making a word-born wildcard.
fn small_leaf_miner(split: bool) -> Miner {
    Miner::new(MinerConfig {
        detect_header: false,
        max_templates_per_leaf: 2,
        split_low_cardinality: split,
        ..MinerConfig::default()
    })
    .unwrap()
}

fn line(word: &str) -> Vec<u8> {
    format!("port state changed to {word}").into_bytes()
}

/// The lines of the scenario: up, down, testing, then `n` alternating up/testing lines.
fn scenario(n: usize) -> Vec<Vec<u8>> {
    let mut lines = vec![line("up"), line("down"), line("testing")];
    lines.extend((0..n).map(|i| line(if i % 3 == 0 { "testing" } else { "up" })));
    lines
}

#[test]
fn forced_join_makes_a_watched_wildcard() {
    let mut m = small_leaf_miner(true);
    let ids: Vec<u64> = scenario(0).iter().map(|l| m.ingest(l).template_id).collect();
    assert_eq!(ids, vec![1, 2, 1]);
    assert_eq!(&*m.template(1).unwrap().text, "port state changed to <*>");
    assert!(m.clusters[0].wild.is_some());
}

#[test]
fn low_cardinality_wildcard_splits_into_new_ids() {
    let mut m = small_leaf_miner(true);
    let mut split = None;
    let mut ids = Vec::new();
    for l in scenario(SPLIT_EVIDENCE_LINES as usize + 5) {
        let p = m.ingest(&l);
        ids.push(p.template_id);
        for c in &p.changes {
            if let TemplateChange::Split { from, template, into } = c {
                split = Some((*from, template.clone(), into.clone()));
            }
        }
    }
    let (from, old, into) = split.expect("a split event");
    assert_eq!(from, 1);
    assert_eq!(&*old, "port state changed to <*>");
    let texts: Vec<&str> = into.iter().map(|t| &*t.text).collect();
    assert_eq!(texts, ["port state changed to up", "port state changed to testing"]);
    assert!(into.iter().all(|t| t.id > 2), "new ids: {into:?}");
    // Every line the retired template had is accounted for by its parts.
    let parts: u64 = into.iter().map(|t| t.count).sum();
    assert_eq!(parts, m.template(1).unwrap().count);
    assert_eq!(m.split_into(1), Some(&[into[0].id, into[1].id][..]));
    // The live set no longer has the retired template; new lines go to the parts.
    assert!(m.templates().iter().all(|t| t.id != 1));
    assert_eq!(m.template_count(), 3);
    assert_eq!(m.ingest(&line("up")).template_id, into[0].id);
    assert_eq!(m.ingest(&line("testing")).template_id, into[1].id);
    assert_eq!(m.ingest(&line("down")).template_id, 2);
}

#[test]
fn split_reuses_an_identical_live_template() {
    let mut m = small_leaf_miner(true);
    for l in scenario(0) {
        m.ingest(&l);
    }
    // `down` has its own template (2), so it never reaches the watch by itself; record it there
    // by hand: a part identical to a live template must reuse that template's id.
    let tokens = m.clusters[1].tokens.clone();
    let word = *tokens.last().unwrap();
    let w = m.clusters[0].wild.as_mut().unwrap();
    w.positions[0].values.push((word, 3));
    for i in 0..SPLIT_EVIDENCE_LINES {
        m.ingest(&line(if i % 2 == 0 { "up" } else { "testing" }));
    }
    let parts = m.split_into(1).unwrap().to_vec();
    assert!(parts.contains(&2), "{parts:?}");
    assert_eq!(m.template(2).unwrap().count, 4);
}

#[test]
fn masked_values_make_the_position_a_variable() {
    let mut m = small_leaf_miner(true);
    for l in scenario(3) {
        m.ingest(&l);
    }
    m.ingest(&line("42"));
    assert!(m.clusters[0].wild.is_none());
    for i in 0..2 * SPLIT_EVIDENCE_LINES {
        m.ingest(&line(if i % 2 == 0 { "up" } else { "testing" }));
    }
    assert_eq!(m.split_into(1), None);
}

#[test]
fn many_words_make_the_position_a_variable() {
    let mut m = small_leaf_miner(true);
    for l in scenario(0) {
        m.ingest(&l);
    }
    let words = ["up", "testing", "dormant", "lowerlayerdown", "notpresent"];
    for i in 0..2 * SPLIT_EVIDENCE_LINES as usize {
        m.ingest(&line(words[i % words.len()]));
    }
    assert_eq!(m.split_into(1), None);
    assert!(m.clusters[0].wild.is_none());
}

#[test]
fn disabled_split_keeps_the_wildcard() {
    let mut m = small_leaf_miner(false);
    for l in scenario(2 * SPLIT_EVIDENCE_LINES as usize) {
        m.ingest(&l);
    }
    assert_eq!(m.split_into(1), None);
    assert_eq!(&*m.template(1).unwrap().text, "port state changed to <*>");
}

#[test]
fn snapshot_restore_keeps_watches_split_templates_and_ids() {
    let lines = scenario(SPLIT_EVIDENCE_LINES as usize + 40);
    let mut full = small_leaf_miner(true);
    let expected: Vec<u64> = lines.iter().map(|l| full.ingest(l).template_id).collect();
    assert!(full.split_into(1).is_some());
    // Restart before the watch, during it, right before the split and after it.
    for cut in [
        2,
        50,
        SPLIT_EVIDENCE_LINES as usize + 1,
        SPLIT_EVIDENCE_LINES as usize + 20,
    ] {
        let mut first = small_leaf_miner(true);
        let mut got: Vec<u64> = lines[..cut].iter().map(|l| first.ingest(l).template_id).collect();
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        let snapshot: Snapshot = serde_json::from_str(&json).unwrap();
        let mut second = Miner::restore(snapshot).unwrap();
        got.extend(lines[cut..].iter().map(|l| second.ingest(l).template_id));
        assert_eq!(got, expected, "restart after {cut} lines");
        assert_eq!(second.templates(), full.templates());
        assert_eq!(second.split_into(1), full.split_into(1));
        assert_eq!(second.snapshot(), full.snapshot());
    }
}
