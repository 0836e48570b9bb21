//! Alerts of other systems reach the log-service replica that holds their service's logs: with
//! two replicas (one consumer group), each of eight services sends an hour of steady lines and
//! a burst of a new error through the gateway, and a real Alertmanager (Debian's
//! `prometheus-alertmanager`) fires an alert for each; every service's alert joins the incident
//! of its own log burst, on whichever replica holds it. (With alerts read in a group of their
//! own, about half the alerts reached the other replica and opened incidents of their own.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsline_e2e::alertmanager::spawn_alertmanager;
use opsline_e2e::gateway::{INGEST_KEY, post_lines, spawn_gateway};
use opsline_e2e::spawn::{Spawned, spawn};
use opsline_e2e::{latest, spawn_broker, wait_for};
use opsline_events::logs::{Alert, AlertKind, Incident};
use opsline_events::topics;
use opsline_logintel::processor::lock;
use opsline_logintel::{Logintel, LogintelConfig};
use serde_json::json;
use uuid::Uuid;

const SERVICES: [&str; 8] = [
    "billing", "checkout", "search", "storage", "auth", "mail", "ledger", "gateway",
];

/// HDFS-style header lines (`yymmdd hhmmss`) at event time `at`.
fn line(at: Timestamp, text: &str) -> String {
    let t = at.to_zoned(jiff::tz::TimeZone::UTC);
    format!("{} 148 {text}", t.strftime("%y%m%d %H%M%S"))
}

/// An hour of steady traffic up to two minutes before `now`, then a burst of a new error.
fn steady_then_burst(now: Timestamp) -> Vec<String> {
    let mut lines: Vec<String> = (0..180)
        .map(|i| {
            let at = now - SignedDuration::from_secs(3720 - i * 20);
            line(
                at,
                &format!("INFO worker.Pool: served request {i} from /10.0.0.{}", i % 7),
            )
        })
        .collect();
    for i in 0..12 {
        let at = now - SignedDuration::from_secs(120 - i * 5);
        lines.push(line(at, &format!("ERROR store.Volume: write failed on /data/{i}")));
    }
    lines
}

/// The partitions of `topic` the service at `url` holds (its `opsline_kafka_assigned_partitions`).
async fn assigned(url: &str, topic: &str) -> u64 {
    let wanted = format!("opsline_kafka_assigned_partitions{{topic=\"{topic}\"}} ");
    opsline_e2e::scrape_metrics(url)
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&wanted)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_alert_joins_its_services_log_incident_whichever_replica_holds_it() {
    let broker = spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "amreplicas", |_| {}).await;
    let (kafka, names) = (gateway.kafka.clone(), gateway.names.clone());
    let replica = || {
        let config = LogintelConfig {
            topic_prefix: names.prefix.clone(),
            group_id: format!("{}logintel", names.prefix),
            kafka: kafka.clone(),
            advance_idle_clock: false,
            tick_interval_ms: 100,
            ..LogintelConfig::default()
        };
        spawn::<Logintel>(config, ())
    };
    let first = replica().await;
    let second = replica().await;
    // The group settled: each replica holds some of the raw-log partitions, all of them held.
    let raw_topic = names.name(&topics::RAW_LOGS);
    wait_for(Duration::from_secs(90), || {
        let (first, second, raw_topic) = (first.url.clone(), second.url.clone(), raw_topic.clone());
        async move {
            let first = assigned(&first, &raw_topic).await;
            let second = assigned(&second, &raw_topic).await;
            (first > 0 && second > 0 && first + second == topics::RAW_LOGS.partitions as u64).then_some(())
        }
    })
    .await;

    let now = Timestamp::now();
    let lines = steady_then_burst(now);
    for service in SERVICES {
        post_lines(&gateway.url, service, &lines).await;
    }
    let read = |replica: &Spawned<Logintel>| lock(&replica.handle).engine.totals().lines_in;
    let posted = (SERVICES.len() * lines.len()) as u64;
    wait_for(Duration::from_secs(120), || {
        let done = read(&first) + read(&second) >= posted;
        async move { done.then_some(()) }
    })
    .await;
    assert!(
        read(&first) > 0 && read(&second) > 0,
        "both replicas hold services ({} and {} lines)",
        read(&first),
        read(&second)
    );

    let alertmanager = spawn_alertmanager(&format!("{}/v1/alerts/alertmanager", gateway.url), Some(INGEST_KEY)).await;
    let starts_at = (now - SignedDuration::from_secs(90)).to_string();
    for service in SERVICES {
        let labels = json!({"alertname": "WriteErrors", "service": service, "severity": "critical"});
        alertmanager
            .post(labels, json!({"summary": "writes failing"}), &starts_at, None)
            .await;
    }

    // Wait until every service's external alert is in an incident.
    let alerts_topic = names.name(&topics::ALERTS);
    let incidents_topic = names.name(&topics::INCIDENTS);
    let alerts: BTreeMap<Uuid, Alert> = wait_for(Duration::from_secs(120), || {
        let (kafka, topic) = (kafka.clone(), alerts_topic.clone());
        async move {
            let alerts = latest::<Alert, _>(&kafka, &topic, |a| a.alert_id).await;
            let external = alerts.values().filter(|a| a.kind == AlertKind::External).count();
            (external == SERVICES.len()).then_some(alerts)
        }
    })
    .await;
    let external: Vec<&Alert> = alerts.values().filter(|a| a.kind == AlertKind::External).collect();
    let incidents: Vec<Incident> = wait_for(Duration::from_secs(60), || {
        let (kafka, topic) = (kafka.clone(), incidents_topic.clone());
        let wanted: BTreeSet<Uuid> = external.iter().map(|a| a.alert_id).collect();
        async move {
            let incidents: Vec<Incident> = latest::<Incident, _>(&kafka, &topic, |i| i.incident_id)
                .await
                .into_values()
                .collect();
            let placed: BTreeSet<Uuid> = incidents.iter().flat_map(|i| i.alert_ids.iter().copied()).collect();
            wanted.is_subset(&placed).then_some(incidents)
        }
    })
    .await;

    // Each alert's incident holds a log alert of the alert's own service (the same bursts at
    // the same time may also bring other services of the same replica into one incident).
    let mut apart = Vec::new();
    for alert in &external {
        let incident = incidents
            .iter()
            .find(|i| i.alert_ids.contains(&alert.alert_id))
            .expect("placed");
        let with_its_logs = incident.alert_ids.iter().any(|id| {
            alerts
                .get(id)
                .is_some_and(|a| a.kind != AlertKind::External && a.service == alert.service)
        });
        if !with_its_logs {
            let members: Vec<(String, String)> = incident
                .alert_ids
                .iter()
                .filter_map(|id| alerts.get(id))
                .map(|a| (a.service.clone(), format!("{:?}", a.kind)))
                .collect();
            let logs: Vec<String> = alerts
                .values()
                .filter(|a| a.kind != AlertKind::External && a.service == alert.service)
                .map(|a| {
                    let home = incidents.iter().find(|i| i.alert_ids.contains(&a.alert_id));
                    format!(
                        "{:?} at {} in {:?}",
                        a.kind,
                        a.window_end,
                        home.map(|i| (i.service.clone(), i.status, i.opened_at, i.alert_ids.len()))
                    )
                })
                .collect();
            let holders: Vec<bool> = [&first, &second]
                .iter()
                .map(|r| lock(&r.handle).engine.service_names().contains(&alert.service))
                .collect();
            apart.push(format!(
                "{}: incident of {} with {members:?}; its log alerts {logs:?}; held by first/second {holders:?}",
                alert.service, incident.service
            ));
        }
    }
    assert!(
        apart.is_empty(),
        "the alerts of {apart:?} did not join the incident of their own service's log burst"
    );
}
