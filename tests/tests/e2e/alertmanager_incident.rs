//! An Alertmanager alert and a log burst of the same service correlated into one incident, and
//! its resolution: a real Alertmanager (Debian's `prometheus-alertmanager`) posts to the gateway's
//! webhook, the log service reads the external alert beside the service's logs (an hour of
//! steady lines, then a burst of a new error) and puts both in one incident, with the alert's
//! link back to its source; resolving the alert in Alertmanager resolves the incident.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsline_e2e::alertmanager::spawn_alertmanager;
use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_e2e::spawn::spawn;
use opsline_e2e::wait_for;
use opsline_events::logs::{Alert, AlertKind, Incident, IncidentStatus};
use opsline_events::topics;
use opsline_logintel::{Logintel, LogintelConfig};
use serde_json::json;

/// HDFS-style header lines (`yymmdd hhmmss`) at event time `at`.
fn line(at: Timestamp, text: &str) -> String {
    let t = at.to_zoned(jiff::tz::TimeZone::UTC);
    format!("{} 148 {text}", t.strftime("%y%m%d %H%M%S"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alertmanager_alert_and_a_log_burst_make_one_incident_resolved_by_the_alert() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "amincident", |_| {}).await;
    let config = LogintelConfig {
        topic_prefix: gateway.names.prefix.clone(),
        group_id: "logintel-amincident".to_owned(),
        kafka: gateway.kafka.clone(),
        advance_idle_clock: false,
        tick_interval_ms: 100,
        ..LogintelConfig::default()
    };
    let _logintel = spawn::<Logintel>(config, ()).await;

    // An hour of steady traffic up to two minutes ago, then a burst of a new disk error.
    let now = Timestamp::now();
    let mut lines: Vec<String> = (0..180)
        .map(|i| {
            let at = now - SignedDuration::from_secs(3720 - i * 20);
            line(
                at,
                &format!("INFO dfs.DataNode: Receiving block blk_{i} src /10.0.0.{}", i % 7),
            )
        })
        .collect();
    for i in 0..12 {
        let at = now - SignedDuration::from_secs(120 - i * 5);
        lines.push(line(
            at,
            &format!("ERROR dfs.DataNode: Disk failure on volume /data/{i}"),
        ));
    }
    post_lines(&gateway.url, "hdfs", &lines).await;

    let alertmanager = spawn_alertmanager(
        &format!("{}/v1/alerts/alertmanager", gateway.url),
        Some(opsline_e2e::gateway::INGEST_KEY),
    )
    .await;
    let labels =
        json!({"alertname": "DataNodeWriteErrors", "service": "hdfs", "severity": "critical", "instance": "dn-4:9100"});
    let annotations = json!({"summary": "datanode writes failing"});
    let starts_at = (now - SignedDuration::from_secs(90)).to_string();
    alertmanager
        .post(labels.clone(), annotations.clone(), &starts_at, None)
        .await;

    let incidents_topic = gateway.names.name(&topics::INCIDENTS);
    let alerts_topic = gateway.names.name(&topics::ALERTS);
    let joined = wait_for(Duration::from_secs(90), || {
        let kafka = gateway.kafka.clone();
        let topic = incidents_topic.clone();
        async move {
            let latest = opsline_e2e::latest::<Incident, _>(&kafka, &topic, |i| i.incident_id).await;
            latest
                .into_values()
                .find(|i| i.alert_ids.len() >= 2 && i.service == "hdfs")
        }
    })
    .await;
    let alerts: Vec<Alert> = opsline_e2e::latest::<Alert, _>(&gateway.kafka, &alerts_topic, |a| a.alert_id)
        .await
        .into_values()
        .collect();
    let external = alerts
        .iter()
        .find(|a| a.kind == AlertKind::External)
        .expect("the Alertmanager alert on the alerts topic");
    assert!(
        joined.alert_ids.contains(&external.alert_id),
        "one incident: {joined:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.kind != AlertKind::External && joined.alert_ids.contains(&a.alert_id)),
        "the log alert is in the same incident"
    );
    let source = external.external.as_ref().unwrap();
    assert_eq!(source.name, "DataNodeWriteErrors");
    assert!(
        source.url.as_deref().unwrap_or_default().contains("prometheus.example"),
        "link back"
    );
    assert_eq!(external.origins.hosts, ["dn-4"]);

    // Resolved in Alertmanager: the incident resolves.
    let ended = Timestamp::now().to_string();
    alertmanager.post(labels, annotations, &starts_at, Some(&ended)).await;
    let id = joined.incident_id;
    let resolved = wait_for(Duration::from_secs(90), || {
        let kafka = gateway.kafka.clone();
        let topic = incidents_topic.clone();
        async move {
            let latest = opsline_e2e::latest::<Incident, _>(&kafka, &topic, |i| i.incident_id).await;
            latest
                .into_values()
                .find(|i| i.incident_id == id && i.status == IncidentStatus::Resolved)
        }
    })
    .await;
    assert_eq!(
        resolved.resolved_by.as_deref(),
        Some("alertmanager: DataNodeWriteErrors resolved")
    );
}
