#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use opsline_events::Event;
use opsline_events::logs::{LogOffset, PostmortemChoice, SevLevel};

const T0: i64 = 1_700_000_000_000;

fn alert(id: u128, service: &str, template: &str, offset: i64) -> Alert {
    Alert {
        alert_id: Uuid::from_u128(id),
        service: service.to_owned(),
        kind: AlertKind::ErrorSurge,
        template: template.to_owned(),
        evidence: vec![LogOffset {
            topic: "raw".into(),
            partition: 0,
            offset,
        }],
        ..Alert::sample()
    }
}

fn signal(alert: &Alert, at_ms: i64, level: u8) -> Signal {
    Signal {
        at_ms,
        level,
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

/// An incident opened by one rare fatal failure line (3 + 2 + 1 = 6 points).
fn opened(book: &mut IncidentBook, config: &IncidentConfig) -> Incident {
    let first = alert(1, "hdfs", "Disk failure on volume <*>", 1);
    book.on_alert(&first, &signal(&first, T0, 3), config).unwrap()
}

#[test]
fn weak_signals_stay_pending_then_open_with_the_score_on_the_record() {
    let config = IncidentConfig::default();
    let mut book = IncidentBook::default();
    let info = alert(1, "hdfs", "Receiving block <*>", 1);
    assert!(book.on_alert(&info, &signal(&info, T0, 0), &config).is_none());
    assert_eq!(book.pending.len(), 1);
    let failure = alert(2, "hdfs", "Disk failure on volume <*>", 2);
    let incident = book
        .on_alert(&failure, &signal(&failure, T0 + 1000, 2), &config)
        .unwrap();
    assert!(book.pending.is_empty());
    assert_eq!(incident.alert_ids.len(), 2);
    assert_eq!(incident.evidence.len(), 2);
    assert!(
        incident.title.contains("Disk failure"),
        "titled by the strongest signal"
    );
    let attention = incident.attention.unwrap();
    assert_eq!(attention.score, 5.0);
    assert_eq!(attention.threshold, 5.0);
    assert_eq!(attention.sev, SevLevel::Sev3);
    assert!(
        attention
            .why
            .starts_with("opened because: error-level lines saying fail"),
        "{}",
        attention.why
    );
    assert_eq!(incident.postmortem.unwrap().decision, PostmortemChoice::Skip);
}

#[test]
fn configured_services_open_restricted_incidents() {
    let config = IncidentConfig {
        restricted_teams: [("hdfs".to_owned(), "storage".to_owned())].into(),
        ..IncidentConfig::default()
    };
    let opened = opened(&mut IncidentBook::default(), &config);
    assert_eq!(opened.restricted_team.as_deref(), Some("storage"));
}

#[test]
fn lifecycle_update_quiet_resolve_and_bounded_ids() {
    let config = IncidentConfig {
        max_alert_ids: 2,
        ..IncidentConfig::default()
    };
    let mut book = IncidentBook::default();
    let incident = opened(&mut book, &config);
    for i in 2..5 {
        let more = alert(i, "hdfs", "Disk failure on volume <*>", i as i64);
        let updated = book.on_alert(&more, &signal(&more, T0 + 60_000, 3), &config).unwrap();
        assert_eq!(updated.incident_id, incident.incident_id);
    }
    let current = book.get(incident.incident_id).unwrap();
    assert_eq!(current.alert_ids.len(), 2, "bounded");
    assert!(current.attention.as_ref().unwrap().alert_count >= 4, "counted");
    assert!(book.expire(T0 + 120_000, &config).is_empty());
    let resolved = book.expire(T0 + 60_000 + 1_800_000, &config);
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].resolved_by.as_deref(), Some("quiet-period"));
    let decision = resolved[0].postmortem.as_ref().unwrap();
    assert_eq!(decision.decision, PostmortemChoice::Skip);
    assert!(
        decision
            .resolution
            .as_deref()
            .unwrap()
            .starts_with("resolved by quiet-period")
    );
}

#[test]
fn a_recurring_fingerprint_reopens_instead_of_duplicating() {
    let config = IncidentConfig::default();
    let mut book = IncidentBook::default();
    let incident = opened(&mut book, &config);
    assert_eq!(book.expire(T0 + 3_600_000, &config).len(), 1);
    let later = T0 + 5 * 3_600_000;
    let recurrence = alert(9, "hdfs", "Disk failure on volume <*> (retrying)", 9);
    let reopened = book
        .on_alert(&recurrence, &signal(&recurrence, later, 3), &config)
        .unwrap();
    assert_eq!(reopened.incident_id, incident.incident_id);
    assert_eq!(reopened.status, IncidentStatus::Open);
    assert_eq!(reopened.attention.as_ref().unwrap().reopened, 1);
    let other = alert(10, "hdfs", "kernel panic in scheduler", 10);
    let fresh = book
        .on_alert(&other, &signal(&other, later + 3 * 3_600_000, 3), &config)
        .unwrap();
    assert_ne!(
        fresh.incident_id, incident.incident_id,
        "a different problem is a new incident"
    );
}

#[test]
fn a_person_resolves_declares_and_tickets_raise_the_score() {
    let config = IncidentConfig::default();
    let mut book = IncidentBook::default();
    let incident = opened(&mut book, &config);
    let id = incident.incident_id;
    let linked = book.on_ticket_linked(id, "T-1", &config).unwrap();
    let attention = linked.attention.as_ref().unwrap();
    assert_eq!((attention.parts.tickets, attention.ticket_count), (2.0, 1));
    assert!(book.on_ticket_linked(id, "T-1", &config).is_none(), "linked once");
    for ticket in ["T-2", "T-3"] {
        book.on_ticket_linked(id, ticket, &config).unwrap();
    }
    let current = book.get(id).unwrap();
    assert_eq!(current.postmortem.as_ref().unwrap().decision, PostmortemChoice::Draft);
    assert_eq!(current.postmortem.as_ref().unwrap().reason, "3 linked tickets");

    let wall = Timestamp::from_second(1_796_515_200).unwrap();
    let (outcome, resolved) = book
        .resolve(id, "alice", (Timestamp::UNIX_EPOCH, Some(wall)), &config)
        .unwrap();
    assert_eq!(outcome, ResolveOutcome::Resolved);
    assert_eq!(resolved.resolved_by.as_deref(), Some("alice"));
    assert_eq!(resolved.response.as_ref().unwrap().resolved_wall_at, Some(wall));
    assert_eq!(book.get(id).unwrap().response, resolved.response, "kept in the book");
    let (again, _) = book
        .resolve(id, "alice", (Timestamp::UNIX_EPOCH, None), &config)
        .unwrap();
    assert_eq!(again, ResolveOutcome::AlreadyResolved);
    assert!(
        book.resolve(Uuid::nil(), "x", (Timestamp::UNIX_EPOCH, None), &config)
            .is_none()
    );
    assert!(book.declare_postmortem(Uuid::nil(), "bob", &config).is_none());
}

#[test]
fn a_declaration_drafts_a_resolved_incident_below_policy() {
    let config = IncidentConfig::default();
    let mut book = IncidentBook::default();
    let id = opened(&mut book, &config).incident_id;
    let resolved = book.expire(T0 + 3_600_000, &config);
    assert_eq!(
        resolved[0].postmortem.as_ref().unwrap().decision,
        PostmortemChoice::Skip
    );
    let declared = book.declare_postmortem(id, "bob", &config).unwrap();
    assert_eq!(declared.status, IncidentStatus::Resolved);
    let decision = declared.postmortem.unwrap();
    assert_eq!(decision.decision, PostmortemChoice::Draft);
    assert_eq!(decision.decided_by, "bob");
}

#[test]
fn another_service_failing_on_the_same_host_joins_the_incident() {
    let config = IncidentConfig::default();
    let mut book = IncidentBook::default();
    let first = alert(1, "hdfs", "Disk failure on volume <*>", 1);
    let mut first_signal = signal(&first, T0, 3);
    first_signal.hosts = vec!["node-7".into()];
    let incident = book.on_alert(&first, &first_signal, &config).unwrap();
    assert_eq!(incident.attention.as_ref().unwrap().hosts, vec!["node-7".to_owned()]);

    let elsewhere = alert(2, "payments", "request to ledger timed out", 2);
    let mut other_host = signal(&elsewhere, T0 + 1000, 2);
    other_host.hosts = vec!["node-9".into()];
    assert!(matches!(
        book.join_open(&elsewhere, &other_host, &config, true),
        Joined::No
    ));
    let mut same_host = other_host.clone();
    same_host.hosts = vec!["node-7".into()];
    let Joined::Changed(joined) = book.join_open(&elsewhere, &same_host, &config, true) else {
        panic!("an alert from the incident's host joins it");
    };
    assert_eq!(joined.incident_id, incident.incident_id);
    let attention = joined.attention.unwrap();
    assert_eq!(attention.services, vec!["hdfs".to_owned(), "payments".to_owned()]);
    assert_eq!(attention.host_count, 1);
}

#[test]
fn an_incident_records_when_opsline_opened_it_apart_from_the_log_time() {
    use crate::engine::LineInput;
    // A 2008 log replayed through the gateway in 2026: line i arrives at `arrived + i` s.
    let arrived = 1_796_515_200;
    let mut engine = crate::engine::tests::engine();
    let mut first = None;
    for (i, line) in crate::engine::tests::lines().iter().enumerate() {
        let ingested_at = Timestamp::from_second(arrived + i as i64).unwrap();
        let input = LineInput {
            service: "hdfs",
            line,
            fallback_time: None,
            ingested_at: Some(ingested_at),
            evidence: LogOffset {
                topic: "raw".into(),
                partition: 0,
                offset: i as i64,
            },
            host: None,
        };
        for incident in engine.ingest(&input).unwrap().incidents {
            let opened = *first.get_or_insert((ingested_at, incident.opened_at));
            assert_eq!(incident.detected_at, Some(opened.0), "kept from the opening on");
        }
    }
    let (detected, opened_at) = first.expect("the fixture opens an incident");
    assert!(
        opened_at.as_second() < 1_300_000_000,
        "log time stays 2008: {opened_at}"
    );
    assert!(detected.as_second() >= arrived);
    let kept = &engine.service("hdfs").unwrap().incidents.open;
    assert!(kept.iter().all(|i| i.detected_at == Some(detected)), "{kept:?}");
    // Offline (no ingestion time): nothing is made up.
    let mut offline = crate::engine::tests::engine();
    let out = crate::engine::tests::feed(&mut offline, "hdfs", &crate::engine::tests::lines(), 0);
    assert!(!out.incidents.is_empty() && out.incidents.iter().all(|i| i.detected_at.is_none()));
}
