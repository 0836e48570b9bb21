//! Miner behaviour: grouping, change events, snapshot/restore and adversarial input.

use super::*;
use crate::Snapshot;

fn miner() -> Miner {
    Miner::new(MinerConfig {
        detect_header: false,
        ..MinerConfig::default()
    })
    .unwrap()
}

#[test]
fn groups_lines_differing_in_variables() {
    let mut m = miner();
    let a = m.ingest(b"Received block blk_123 of size 67108864 from 10.0.0.1");
    let b = m.ingest(b"Received block blk_987 of size 512 from 10.0.0.2");
    assert_eq!(a.template_id, b.template_id);
    assert_eq!(&*b.template, "Received block <*> of size <*> from <*>");
    assert_eq!(b.params, vec!["blk_987", "512", "10.0.0.2"]);
    let c = m.ingest(b"Deleting block blk_1 file /tmp/x");
    assert_ne!(c.template_id, a.template_id);
}

#[test]
fn words_are_constants() {
    let mut m = miner();
    let a = m.ingest(b"VM Started (Lifecycle Event)");
    let b = m.ingest(b"VM Paused (Lifecycle Event)");
    assert_ne!(a.template_id, b.template_id);
}

#[test]
fn reports_created_and_updated() {
    let mut m = miner();
    let a = m.ingest(b"mode=fast logged in from web");
    assert!(matches!(a.changes.as_slice(), [TemplateChange::Created { .. }]));
    let b = m.ingest(b"mode=fast logged in from 10.1.1.1");
    match b.changes.as_slice() {
        [TemplateChange::Updated { id, old, new }] => {
            assert_eq!(*id, a.template_id);
            assert_eq!(&**old, "mode=fast logged in from web");
            assert_eq!(&**new, "mode=fast logged in from <*>");
        }
        other => panic!("unexpected changes {other:?}"),
    }
    let c = m.ingest(b"mode=fast logged in from 10.1.1.2");
    assert!(c.changes.is_empty());
}

#[test]
fn word_position_with_many_values_merges_into_variable() {
    let mut m = miner();
    let users = ["alice", "bob", "carol", "dave", "erin", "frank"];
    let mut ids = Vec::new();
    let mut merged = Vec::new();
    for u in users {
        let p = m.ingest(format!("Invalid key {u} from 10.0.0.1 port 22").as_bytes());
        ids.push(p.template_id);
        merged.extend(p.changes.into_iter().filter_map(|c| match c {
            TemplateChange::Merged { from, into, .. } => Some((from, into)),
            _ => None,
        }));
    }
    // The first four are separate templates; the fifth distinct value merges them.
    assert_eq!(merged.len(), 3);
    assert!(merged.iter().all(|&(_, into)| into == ids[0]));
    assert_eq!(ids[4], ids[0]);
    assert_eq!(ids[5], ids[0]);
    let t = m.template(ids[1]).unwrap();
    assert_eq!(t.id, ids[0]);
    assert_eq!(&*t.text, "Invalid key <*> from <*> port <*>");
    assert_eq!(t.count, 6);
    assert_eq!(m.template_count(), 1);
}

fn corpus() -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..300u32 {
        lines.push(match i % 6 {
            0 => format!(
                "081109 2036{:02} 148 INFO dfs.DataNode: Receiving block blk_{i} src: /10.0.0.{}:50010",
                i % 60,
                i % 7
            ),
            1 => format!(
                "081109 2036{:02} 148 INFO dfs.DataNode: PacketResponder {} for block blk_{i} terminating",
                i % 60,
                i % 3
            ),
            2 => format!(
                "081109 2036{:02} 148 WARN dfs.FSNamesystem: user{} requested delete of /data/{i}",
                i % 60,
                i % 5
            ),
            3 => format!(
                "081109 2036{:02} 148 INFO dfs.DataNode: Invalid user {} from host",
                i % 60,
                ["a", "b", "c", "d", "e", "f", "g"][i as usize % 7]
            ),
            4 => format!(
                "081109 2036{:02} 148 INFO dfs.DataNode: state {} reached",
                i % 60,
                ["up", "down"][i as usize % 2]
            ),
            _ => format!(
                "081109 2036{:02} 148 ERROR dfs.DataNode: job {} failed after {}ms",
                i % 60,
                i,
                i * 3
            ),
        });
    }
    lines
}

#[test]
fn snapshot_restore_keeps_ids() {
    let lines = corpus();
    let mut full = Miner::new(MinerConfig::default()).unwrap();
    let expected: Vec<u64> = lines.iter().map(|l| full.ingest(l.as_bytes()).template_id).collect();

    let half = lines.len() / 2;
    let mut first = Miner::new(MinerConfig::default()).unwrap();
    let mut got: Vec<u64> = lines[..half]
        .iter()
        .map(|l| first.ingest(l.as_bytes()).template_id)
        .collect();
    let json = serde_json::to_string(&first.snapshot()).unwrap();
    let snapshot: Snapshot = serde_json::from_str(&json).unwrap();
    let mut second = Miner::restore(snapshot).unwrap();
    got.extend(lines[half..].iter().map(|l| second.ingest(l.as_bytes()).template_id));
    assert_eq!(got, expected);
    assert_eq!(second.templates(), full.templates());
    assert_eq!(second.header_format(), full.header_format());
}

#[test]
fn snapshot_during_detection_restores() {
    let lines = corpus();
    let mut a = Miner::new(MinerConfig::default()).unwrap();
    for l in &lines[..5] {
        a.ingest(l.as_bytes());
    }
    let mut b = Miner::restore(a.snapshot()).unwrap();
    for l in &lines[5..] {
        assert_eq!(a.ingest(l.as_bytes()).template_id, b.ingest(l.as_bytes()).template_id);
    }
}

#[test]
fn restore_rejects_inconsistent_snapshots() {
    let mut m = miner();
    m.ingest(b"hello world");
    let mut s = m.snapshot();
    s.version = 99;
    assert!(Miner::restore(s).is_err());
    let mut s = m.snapshot();
    s.templates[0].leaf = 1000;
    assert!(Miner::restore(s).is_err());
    let mut s = m.snapshot();
    s.nodes[0].templates.push(77);
    assert!(Miner::restore(s).is_err());
}

#[test]
fn adversarial_empty_and_blank() {
    let mut m = Miner::new(MinerConfig::default()).unwrap();
    let a = m.ingest(b"");
    let b = m.ingest(b"   \r\n");
    assert_eq!(&*a.template, "");
    assert_eq!(a.template_id, b.template_id);
}

#[test]
fn adversarial_megabyte_line_is_capped() {
    let mut m = Miner::new(MinerConfig::default()).unwrap();
    let long = "word ".repeat(200_000);
    let p = m.ingest(long.as_bytes());
    let tokens = p.template.split(' ').count();
    assert!(tokens <= m.config().max_tokens, "{tokens} tokens");
    let one_token = vec![b'x'; 1 << 20];
    let q = m.ingest(&one_token);
    assert_eq!(&*q.template, "<*>");
}

#[test]
fn adversarial_binary_and_invalid_utf8() {
    let mut m = Miner::new(MinerConfig::default()).unwrap();
    let bin: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let _ = m.ingest(&bin);
    let p = m.ingest(&[0xff, 0xfe, b' ', b'o', b'k', 0xc3]);
    assert!(p.template.contains("ok"));
    let q = m.ingest(b"normal line one");
    assert_eq!(&*q.template, "normal line one");
}

#[test]
fn adversarial_numbers_and_huge_token_counts_do_not_poison() {
    let mut m = miner();
    for i in 0..1000 {
        m.ingest(format!("{i} {} {}", i * 7, i * 13).as_bytes());
        m.ingest(" 1".repeat(5000 + i).as_bytes());
    }
    // Random garbage of many lengths stays bounded by the caps.
    for i in 0..2000u64 {
        let junk: String = (0..(i % 300)).map(|j| format!("w{}x ", (i * 31 + j) % 997)).collect();
        m.ingest(junk.as_bytes());
    }
    let a = m.ingest(b"service started on port 80");
    let b = m.ingest(b"service started on port 8080");
    assert_eq!(a.template_id, b.template_id);
    assert_eq!(&*b.template, "service started on port <*>");
    assert!(m.template_count() < 400, "{} templates", m.template_count());
}

#[test]
fn full_leaf_absorbs_instead_of_growing() {
    let mut m = Miner::new(MinerConfig {
        detect_header: false,
        max_templates_per_leaf: 4,
        ..MinerConfig::default()
    })
    .unwrap();
    for w in ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"] {
        m.ingest(format!("x y {w} z").as_bytes());
    }
    assert!(m.template_count() <= 4);
}

#[test]
fn config_deserializes_with_defaults_and_rejects_unknown() {
    let c: MinerConfig = serde_json::from_str(r#"{"max_tokens": 64}"#).unwrap();
    assert_eq!(c.max_tokens, 64);
    assert_eq!(c.similarity_threshold, MinerConfig::default().similarity_threshold);
    assert!(serde_json::from_str::<MinerConfig>(r#"{"bogus": 1}"#).is_err());
}

#[test]
fn borrowed_and_owned_results_agree() {
    let lines = corpus();
    let mut owned = Miner::new(MinerConfig::default()).unwrap();
    let mut borrowed = Miner::new(MinerConfig::default()).unwrap();
    for l in lines
        .iter()
        .map(String::as_bytes)
        .chain([&b"\xff\xfe bad 17 bytes\r\n"[..], b"", b"  "])
    {
        let a = owned.ingest(l);
        let b = borrowed.ingest_ref(l);
        assert_eq!(a.template_id, b.template_id);
        assert_eq!(a.template, *b.template);
        assert_eq!(a.params, b.params().collect::<Vec<_>>());
        assert_eq!(a.header, b.header.to_header());
        assert_eq!(a, b.to_parsed());
        assert_eq!(b.severity, a.header.level.as_deref().and_then(crate::classify_level));
        assert_eq!(a.changes, b.changes);
    }
}

#[test]
fn adversarial_random_bytes_with_every_header_strategy() {
    const ALPHABET: &[u8] = b"0123456789 abcXYZ.-+:,=/_@#()[]<*>\t\xc3\xa9\xff\x80INFOWARN";
    let configs = [
        MinerConfig::default(),
        MinerConfig {
            header_format: Some("<date> <time> <level> <comp>: <content>".into()),
            ..MinerConfig::default()
        },
        MinerConfig {
            header_format: Some("[<ts>] <any> - <content>".into()),
            ..MinerConfig::default()
        },
        MinerConfig {
            header_regex: Some(r"^(?P<level>[A-Z]+) (?P<content>.*)$".into()),
            ..MinerConfig::default()
        },
    ];
    for config in configs {
        let mut owned = Miner::new(config.clone()).unwrap();
        let mut borrowed = Miner::new(config).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..3000usize {
            let line: Vec<u8> = (0..n % 180)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    ALPHABET[(seed as usize + i) % ALPHABET.len()]
                })
                .collect();
            let a = owned.ingest(&line);
            let b = borrowed.ingest_ref(&line);
            assert_eq!(a, b.to_parsed());
        }
    }
}
