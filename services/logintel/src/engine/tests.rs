#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::state::{ServiceSnapshot, restore, take_snapshot};
use opsline_events::logs::IncidentStatus;

pub(crate) fn engine() -> Engine {
    let config = crate::config::LogintelConfig::default();
    Engine::new(EngineConfig {
        miner: config.miner,
        detector: config.detector,
        incidents: config.incidents,
        refine: None,
        max_services: config.max_services,
    })
    .unwrap()
}

pub(crate) fn feed(engine: &mut Engine, service: &str, lines: &[Vec<u8>], from: usize) -> Outputs {
    let mut all = Outputs::default();
    for (i, line) in lines.iter().enumerate().skip(from) {
        let evidence = LogOffset {
            topic: "raw".into(),
            partition: 0,
            offset: i as i64,
        };
        let input = LineInput {
            service,
            line,
            fallback_time: None,
            ingested_at: None,
            evidence,
            host: None,
        };
        all.extend(engine.ingest(&input).unwrap());
    }
    all
}

/// HDFS-like lines: steady traffic for an hour, then a new error pattern.
pub(crate) fn lines() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for second in (0..3600).step_by(20) {
        let (m, s) = (second / 60, second % 60);
        out.push(
            format!(
                "081109 20{m:02}{s:02} 148 INFO dfs.DataNode: Receiving block blk_{second} src /10.0.0.{}",
                second % 7
            )
            .into_bytes(),
        );
    }
    for i in 0..12 {
        out.push(
            format!("081109 210{i}00 148 ERROR dfs.DataNode: Disk failure on volume /data/{i} token=abc{i}")
                .into_bytes(),
        );
    }
    out
}

#[test]
fn templates_alerts_and_incident_from_lines() {
    let mut engine = engine();
    let out = feed(&mut engine, "hdfs", &lines(), 0);
    assert!(out.templates.iter().any(|t| t.change == TemplateChangeKind::Created));
    let kinds: Vec<_> = out.alerts.iter().map(|a| a.kind).collect();
    assert!(
        kinds.contains(&opsline_events::logs::AlertKind::NewTemplate),
        "{kinds:?}"
    );
    assert!(
        out.alerts
            .iter()
            .all(|a| a.sample_lines.iter().all(|s| !s.contains("token=abc")))
    );
    assert!(!out.incidents.is_empty());
    let incident = out.incidents.last().unwrap();
    assert!(!incident.alert_ids.is_empty());
    assert!(!incident.evidence.is_empty());
    assert_eq!(engine.totals().lines_in, lines().len() as u64);
}

#[test]
fn snapshot_restore_continues_like_an_uninterrupted_run() {
    let lines = lines();
    let mut straight = engine();
    let all = feed(&mut straight, "hdfs", &lines, 0);

    let cut = 150;
    let mut first = engine();
    let before = feed(&mut first, "hdfs", &lines, 0);
    let before = Outputs {
        alerts: before.alerts,
        ..Outputs::default()
    };
    let _ = before;
    let mut first = engine();
    let head = feed(&mut first, "hdfs", &lines[..cut], 0);
    let snapshot = take_snapshot(&mut first, "hdfs").unwrap();
    let bytes = snapshot.to_json().unwrap();
    let mut second = engine();
    restore(&mut second, ServiceSnapshot::from_json(&bytes).unwrap()).unwrap();
    assert!(second.already_processed(
        "hdfs",
        RawPosition {
            partition: 0,
            offset: (cut - 1) as i64
        }
    ));
    assert!(!second.already_processed(
        "hdfs",
        RawPosition {
            partition: 0,
            offset: cut as i64
        }
    ));
    let tail = feed(&mut second, "hdfs", &lines, cut);
    let joined: Vec<_> = head.alerts.iter().chain(&tail.alerts).map(|a| a.alert_id).collect();
    let expected: Vec<_> = all.alerts.iter().map(|a| a.alert_id).collect();
    assert_eq!(joined, expected);
    let ids = |o: &Outputs| {
        o.templates
            .iter()
            .map(|t| (t.template_id, t.template.clone()))
            .collect::<Vec<_>>()
    };
    let mut joined_templates = ids(&head);
    joined_templates.extend(ids(&tail));
    assert_eq!(joined_templates, ids(&all));
}

#[test]
fn adversarial_lines_do_not_panic_or_poison() {
    let mut engine = engine();
    let mut bad: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![b'a'; 1_000_000],
        vec![0xff, 0xfe, 0x00, 0x80, 0xc3],
        b"1234567890 42 3.14 -7 0x1f".to_vec(),
        (0..=255u8).collect(),
        "\u{202e}\u{0}\u{7}".as_bytes().to_vec(),
        b"\n\r\n".to_vec(),
        b"9999-99-99 99:99:99 ERROR x: y".to_vec(),
        b"0000-01-01 00:00:00 ERROR x: y".to_vec(),
    ];
    bad.extend(lines());
    let out = feed(&mut engine, "weird", &bad, 0);
    for alert in &out.alerts {
        assert!(alert.sample_lines.iter().all(|s| s.chars().count() <= 513));
    }
    // The good lines after the bad ones still parse into their templates.
    assert!(out.templates.iter().any(|t| t.template.contains("Receiving block")));
    let snapshot = take_snapshot(&mut engine, "weird").unwrap();
    assert!(ServiceSnapshot::from_json(&snapshot.to_json().unwrap()).is_ok());
}

#[test]
fn explicit_resolve_through_the_engine() {
    let mut engine = engine();
    let out = feed(&mut engine, "hdfs", &lines(), 0);
    let id = out.incidents.last().unwrap().incident_id;
    let (outcome, incident) = engine.resolve_incident(id, "alice", None).unwrap();
    assert_eq!(outcome, crate::incidents::ResolveOutcome::Resolved);
    assert_eq!(incident.resolved_by.as_deref(), Some("alice"));
    assert!(engine.resolve_incident(uuid::Uuid::nil(), "x", None).is_none());
}

#[test]
fn split_templates_reach_the_templates_output() {
    let config = crate::config::LogintelConfig::default();
    let mut engine = Engine::new(EngineConfig {
        miner: MinerConfig {
            max_templates_per_leaf: 2,
            ..config.miner
        },
        detector: config.detector,
        incidents: config.incidents,
        refine: None,
        max_services: config.max_services,
    })
    .unwrap();
    let mut lines: Vec<Vec<u8>> = ["up", "down", "testing"]
        .iter()
        .map(|w| format!("port state changed to {w}").into_bytes())
        .collect();
    for i in 0..opsline_logmine::SPLIT_EVIDENCE_LINES {
        let word = if i % 2 == 0 { "up" } else { "testing" };
        lines.push(format!("port state changed to {word}").into_bytes());
    }
    let out = feed(&mut engine, "net", &lines, 0);
    let retired = out
        .templates
        .iter()
        .find(|t| t.change == TemplateChangeKind::Split)
        .expect("a split event");
    assert_eq!(retired.template, "port state changed to <*>");
    let parts: Vec<&str> = retired.split_into.iter().map(|p| p.template.as_str()).collect();
    assert_eq!(parts, ["port state changed to up", "port state changed to testing"]);
    for part in &retired.split_into {
        let created = out
            .templates
            .iter()
            .find(|t| t.template_id == part.template_id && t.change == TemplateChangeKind::Created)
            .expect("each new part is created");
        assert_eq!(created.split_from, Some(retired.template_id));
        assert!(created.count > 1);
    }
    // Parts of a split are not new patterns.
    let new_template_alerts = out
        .alerts
        .iter()
        .filter(|a| a.kind == opsline_events::logs::AlertKind::NewTemplate)
        .filter(|a| retired.split_into.iter().any(|p| p.template_id == a.template_id))
        .count();
    assert_eq!(new_template_alerts, 0);
}

fn cross_alert(id: u128, service: &str, template: &str) -> Alert {
    Alert {
        alert_id: uuid::Uuid::from_u128(id),
        service: service.to_owned(),
        template: template.to_owned(),
        ..<Alert as opsline_events::Event>::sample()
    }
}

fn cross_signal(alert: &Alert, at_ms: i64) -> Signal {
    Signal {
        at_ms,
        level: 3,
        template: alert.template.clone(),
        template_id: alert.template_id,
        rare: true,
        burst: 0,
        silence: false,
        lines: 1,
        service: alert.service.clone(),
        hosts: Vec::new(),
        components: Vec::new(),
    }
}

#[test]
fn two_services_failing_together_give_one_incident() {
    let mut engine = engine();
    let config = engine.config.incidents.clone();
    for service in ["db", "web", "batch"] {
        feed(&mut engine, service, &lines()[..1], 0);
    }
    let t0 = 1_700_000_000_000;
    let db = cross_alert(1, "db", "connection refused by upstream <*> pool exhausted");
    let opened = correlate(&mut engine.services, "db", &db, &cross_signal(&db, t0), &config).unwrap();
    let web = cross_alert(2, "web", "upstream <*> connection refused, pool exhausted");
    let joined = correlate(
        &mut engine.services,
        "web",
        &web,
        &cross_signal(&web, t0 + 60_000),
        &config,
    )
    .unwrap();
    assert_eq!(
        joined.incident_id, opened.incident_id,
        "shared content joins across services"
    );
    let attention = joined.attention.unwrap();
    assert_eq!(attention.services, vec!["db".to_owned(), "web".to_owned()]);
    assert_eq!(attention.parts.breadth, 1.0, "2 services");
    let unrelated = cross_alert(3, "batch", "kernel panic in scheduler");
    let other = correlate(
        &mut engine.services,
        "batch",
        &unrelated,
        &cross_signal(&unrelated, t0 + 90_000),
        &config,
    )
    .unwrap();
    assert_ne!(other.incident_id, opened.incident_id, "unrelated content stays apart");
}

#[test]
fn configured_dependencies_join_whatever_the_content() {
    let mut engine = engine();
    engine
        .config
        .incidents
        .attention
        .dependencies
        .insert("web".to_owned(), vec!["db".to_owned()]);
    let config = engine.config.incidents.clone();
    for service in ["db", "web"] {
        feed(&mut engine, service, &lines()[..1], 0);
    }
    let t0 = 1_700_000_000_000;
    let db = cross_alert(1, "db", "disk failure on volume <*>");
    let opened = correlate(&mut engine.services, "db", &db, &cross_signal(&db, t0), &config).unwrap();
    let web = cross_alert(2, "web", "request timeout after <*> ms");
    let joined = correlate(
        &mut engine.services,
        "web",
        &web,
        &cross_signal(&web, t0 + 60_000),
        &config,
    )
    .unwrap();
    assert_eq!(joined.incident_id, opened.incident_id);
    assert!(engine.service("db").unwrap().dirty);
}

#[test]
fn declaring_and_linking_go_through_the_engine() {
    let mut engine = engine();
    let out = feed(&mut engine, "hdfs", &lines(), 0);
    let id = out.incidents.last().unwrap().incident_id;
    let linked = engine.on_ticket_linked(id, "T-9").unwrap();
    assert_eq!(linked.attention.unwrap().ticket_count, 1);
    let declared = engine.declare_postmortem(id, "alice").unwrap();
    assert_eq!(declared.postmortem.unwrap().decided_by, "alice");
    assert!(engine.declare_postmortem(uuid::Uuid::nil(), "alice").is_none());
}

#[test]
fn restart_mid_incident_gives_the_same_incident_ids() {
    let lines = lines();
    let mut straight = engine();
    let all = feed(&mut straight, "hdfs", &lines, 0);
    assert!(!all.incidents.is_empty());
    for cut in [lines.len() - 11, lines.len() - 6, lines.len() - 1] {
        let mut first = engine();
        let head = feed(&mut first, "hdfs", &lines[..cut], 0);
        let bytes = take_snapshot(&mut first, "hdfs").unwrap().to_json().unwrap();
        let mut second = engine();
        restore(&mut second, ServiceSnapshot::from_json(&bytes).unwrap()).unwrap();
        let tail = feed(&mut second, "hdfs", &lines, cut);
        // Ids, alerts, status and score match; cited evidence may differ (the snapshot drops
        // the evidence of closed detector windows).
        let key = |i: &Incident| {
            let a = i.attention.as_ref().map(|a| (a.score, a.sev, a.alert_count));
            (i.incident_id, i.alert_ids.clone(), i.status, a)
        };
        let joined: Vec<_> = head.incidents.iter().chain(&tail.incidents).map(key).collect();
        let expected: Vec<_> = all.incidents.iter().map(key).collect();
        assert_eq!(joined, expected, "cut at {cut}");
    }
}

/// Feeds `line` as ingested by the gateway at `ingested_at`.
fn feed_ingested(engine: &mut Engine, service: &str, line: &[u8], offset: i64, ingested_at: Timestamp) -> Outputs {
    let input = LineInput {
        service,
        line,
        fallback_time: Some(ingested_at),
        ingested_at: Some(ingested_at),
        evidence: LogOffset {
            topic: "raw".into(),
            partition: 0,
            offset,
        },
        host: None,
    };
    engine.ingest(&input).unwrap()
}

#[test]
fn event_time_cannot_be_poisoned_by_a_line_dated_2099() {
    let mut engine = engine();
    let ingested_at = Timestamp::from_second(1_796_515_200).unwrap();
    let mut opened = Outputs::default();
    // Lines whose header dates parse (the fixture's last two do not).
    let dated = lines().len() - 2;
    for (i, line) in lines().iter().take(dated).enumerate() {
        opened.extend(feed_ingested(&mut engine, "hdfs", line, i as i64, ingested_at));
    }
    let open: Vec<_> = opened
        .incidents
        .iter()
        .filter(|i| i.status == IncidentStatus::Open)
        .collect();
    assert!(!open.is_empty(), "the fixture opens an incident");
    let clock = engine.service("hdfs").unwrap().detector.clock_ms;

    let poison = b"990101 000000 148 INFO dfs.DataNode: Receiving block blk_1 src /10.0.0.1";
    let out = feed_ingested(&mut engine, "hdfs", poison, 10_000, ingested_at);
    assert_eq!(out.clamped, vec![Clamped::Future]);
    assert!(
        out.incidents.iter().all(|i| i.status == IncidentStatus::Open),
        "a 2099 line resolved incidents: {:?}",
        out.incidents
    );
    assert_eq!(engine.service("hdfs").unwrap().detector.clock_ms, clock);

    // The next honest line is not decades late: it still joins the open incident.
    let next = b"081109 210930 148 ERROR dfs.DataNode: Disk failure on volume /data/9 token=abc9";
    let out = feed_ingested(&mut engine, "hdfs", next, 10_001, ingested_at);
    assert!(out.clamped.is_empty());
    assert!(
        out.incidents.iter().all(|i| i.status == IncidentStatus::Open),
        "{:?}",
        out.incidents
    );
}

#[test]
fn secrets_never_leave_in_clear_in_templates_alerts_or_titles() {
    let mut engine = engine();
    // Lines that reached the raw topic without the gateway's masking (a shipper writing to Kafka).
    let mut fixture = lines();
    let at = fixture.len() - 2;
    for i in 0..6 {
        fixture.insert(
            at,
            format!("081109 2059{i}0 148 ERROR db.Pool: db login password=letmein failed for user app{i}").into_bytes(),
        );
    }
    let out = feed(&mut engine, "hdfs", &fixture, 0);
    let mut texts: Vec<String> = out.templates.iter().map(|t| t.template.clone()).collect();
    texts.extend(
        out.alerts
            .iter()
            .map(|a| format!("{} {:?}", a.template, a.sample_lines)),
    );
    texts.extend(out.incidents.iter().map(|i| i.title.clone()));
    assert!(
        texts.iter().any(|t| t.contains("db login")),
        "the fixture reaches the outputs"
    );
    let leaks: Vec<_> = texts.iter().filter(|t| t.contains("letmein")).collect();
    assert!(leaks.is_empty(), "{leaks:?}");
}

/// Resident memory of this process, in KiB (Linux).
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn bounded_memory_made_up_service_names_are_refused_past_the_bound() {
    let config = crate::config::LogintelConfig {
        max_services: 200,
        ..crate::config::LogintelConfig::default()
    };
    let mut engine = Engine::new(config.engine_config()).unwrap();
    let before = resident_kib();
    let mut refused = 0;
    // Ten times the bound, each name new, each line distinct.
    for i in 0..2_000 {
        let service = format!("svc-{i}-{}", "x".repeat(40));
        let line = format!("2026-12-06 10:00:00 ERROR made-up service {i} says {}", i * 7919);
        let input = LineInput {
            service: &service,
            line: line.as_bytes(),
            fallback_time: None,
            ingested_at: None,
            evidence: LogOffset {
                topic: "raw".into(),
                partition: 0,
                offset: i,
            },
            host: None,
        };
        match engine.ingest(&input) {
            Ok(_) => {}
            Err(LogintelError::TooManyServices(held, _)) => {
                assert_eq!(held, 200);
                refused += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    let grown = resident_kib().saturating_sub(before);
    assert_eq!(engine.service_names().len(), 200);
    assert_eq!(refused, 1_800);
    // 200 one-template services take a few MiB; 2,000 would take ten times that.
    assert!(grown < 64 * 1024, "resident memory grew {grown} KiB");
    eprintln!("2,000 made-up services, bound 200: {refused} refused, resident memory +{grown} KiB");
}
