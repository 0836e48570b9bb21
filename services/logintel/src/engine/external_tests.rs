#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use opsline_events::Event;
use opsline_events::logs::IncidentStatus;

use super::*;
use crate::engine::tests::engine;

fn external(id: u128, name: &str, status: ExternalAlertStatus, starts_at: &str) -> ExternalAlert {
    ExternalAlert {
        alert_id: Uuid::from_u128(id),
        fingerprint: format!("{id:016x}"),
        status,
        service: "hdfs".into(),
        name: name.into(),
        severity: Severity::Critical,
        summary: format!("{name}: datanode writes failed with errors"),
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        starts_at: starts_at.parse().unwrap(),
        ends_at: (status == ExternalAlertStatus::Resolved).then(|| "2008-11-09T21:30:00Z".parse().unwrap()),
        host: Some("dn-4".into()),
        ..ExternalAlert::sample()
    }
}

/// The engine tests' HDFS-like hour of steady lines, then a burst of a new disk error.
fn feed_logs(engine: &mut Engine) -> Outputs {
    let lines = crate::engine::tests::lines();
    crate::engine::tests::feed(engine, "hdfs", &lines, 0)
}

#[test]
fn an_external_alert_joins_the_log_incident_of_its_service_and_its_resolution_resolves_it() {
    let mut engine = engine();
    let logs = feed_logs(&mut engine);
    let opened = logs.incidents.last().expect("the disk errors open an incident").clone();
    assert_eq!(opened.status, IncidentStatus::Open);

    let firing = engine.on_external(&external(
        1,
        "DataNodeWriteErrors",
        ExternalAlertStatus::Firing,
        "2008-11-09T21:02:00Z",
    ));
    let alert = &firing.alerts[0];
    assert_eq!(alert.kind, AlertKind::External);
    assert_eq!(alert.external.as_ref().unwrap().name, "DataNodeWriteErrors");
    assert_eq!(alert.origins.hosts, ["dn-4"]);
    let joined = firing.incidents.last().expect("the incident changes");
    assert_eq!(
        joined.incident_id, opened.incident_id,
        "one incident for the logs and the alert"
    );
    assert!(joined.alert_ids.contains(&Uuid::from_u128(1)));

    let again = engine.on_external(&external(
        1,
        "DataNodeWriteErrors",
        ExternalAlertStatus::Firing,
        "2008-11-09T21:02:00Z",
    ));
    assert!(
        again.alerts.is_empty() && again.incidents.is_empty(),
        "a re-sent firing alert changes nothing"
    );

    let resolved = engine.on_external(&external(
        1,
        "DataNodeWriteErrors",
        ExternalAlertStatus::Resolved,
        "2008-11-09T21:02:00Z",
    ));
    let closed = resolved.incidents.last().expect("resolved");
    assert_eq!(closed.incident_id, opened.incident_id);
    assert_eq!(closed.status, IncidentStatus::Resolved);
    assert_eq!(
        closed.resolved_by.as_deref(),
        Some("alertmanager: DataNodeWriteErrors resolved")
    );
}

#[test]
fn the_incident_stays_open_while_another_of_its_external_alerts_fires() {
    let mut engine = engine();
    let first = engine.on_external(&external(
        1,
        "WriteErrors",
        ExternalAlertStatus::Firing,
        "2026-03-10T11:00:00Z",
    ));
    let second = engine.on_external(&external(
        2,
        "ReadErrors",
        ExternalAlertStatus::Firing,
        "2026-03-10T11:01:00Z",
    ));
    let incident = second
        .incidents
        .last()
        .or(first.incidents.last())
        .expect("two critical failure alerts of one service add up to an incident")
        .clone();
    assert!(incident.alert_ids.contains(&Uuid::from_u128(1)) && incident.alert_ids.contains(&Uuid::from_u128(2)));

    let one = engine.on_external(&external(
        1,
        "WriteErrors",
        ExternalAlertStatus::Resolved,
        "2026-03-10T11:00:00Z",
    ));
    assert!(one.incidents.is_empty(), "ReadErrors still fires");
    assert_eq!(
        engine.incident(incident.incident_id).unwrap().status,
        IncidentStatus::Open
    );
    let both = engine.on_external(&external(
        2,
        "ReadErrors",
        ExternalAlertStatus::Resolved,
        "2026-03-10T11:01:00Z",
    ));
    assert_eq!(both.incidents[0].status, IncidentStatus::Resolved);

    let unknown = engine.on_external(&external(
        9,
        "Other",
        ExternalAlertStatus::Resolved,
        "2026-03-10T11:00:00Z",
    ));
    assert!(unknown.incidents.is_empty() && unknown.alerts.is_empty());
}

#[test]
fn firing_alerts_survive_a_snapshot() {
    let mut engine = engine();
    engine.on_external(&external(
        1,
        "WriteErrors",
        ExternalAlertStatus::Firing,
        "2026-03-10T11:00:00Z",
    ));
    let snapshot = crate::state::take_snapshot(&mut engine, "hdfs").unwrap();
    let json = snapshot.to_json().unwrap();
    let mut restored = self::engine();
    crate::state::restore(&mut restored, crate::state::ServiceSnapshot::from_json(&json).unwrap()).unwrap();
    assert!(
        restored
            .service("hdfs")
            .unwrap()
            .external_firing
            .contains_key(&Uuid::from_u128(1))
    );
}

#[test]
fn template_ids_of_external_alerts_never_meet_the_miner_s() {
    let id = template_id("alertmanager", "DiskFull");
    assert!(id >= 1 << 62);
    assert_eq!(id, template_id("alertmanager", "DiskFull"));
    assert_ne!(id, template_id("alertmanager", "DiskAlmostFull"));
}

#[test]
fn an_external_alert_joins_the_incident_holding_its_services_log_alerts_under_another_service() {
    let mut engine = engine();
    let lines = crate::engine::tests::lines();
    let first = crate::engine::tests::feed(&mut engine, "hdfs", &lines, 0);
    let second = crate::engine::tests::feed(&mut engine, "hdfs-b", &lines, 0);
    let opened = first
        .incidents
        .last()
        .expect("hdfs's disk errors open an incident")
        .clone();
    let shared = second
        .incidents
        .iter()
        .rev()
        .find(|i| i.incident_id == opened.incident_id)
        .expect("hdfs-b's same disk errors join hdfs's incident (same content, same time)");
    assert_eq!(shared.service, "hdfs");

    // An alert of hdfs-b with other wording and no host: hdfs-b has no incident of its own, but
    // the incident holding its log alerts is its incident.
    let mut alert = external(7, "ServiceDown", ExternalAlertStatus::Firing, "2008-11-09T21:02:00Z");
    alert.service = "hdfs-b".into();
    alert.summary = "probe unreachable".into();
    alert.host = None;
    let firing = engine.on_external(&alert);
    let joined = firing.incidents.last().expect("an incident changes");
    assert_eq!(joined.incident_id, opened.incident_id, "{joined:?}");
    assert!(joined.alert_ids.contains(&Uuid::from_u128(7)));
}
