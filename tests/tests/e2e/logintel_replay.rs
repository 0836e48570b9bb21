//! The log service against a real broker: a Loghub file replayed through the
//! gateway, the service stopped in the middle of the stream and restarted keeps
//! the same template ids and emits no duplicate alert (after dedup by alert id:
//! exactly the alerts of an uninterrupted in-process run); and the BGL labelled
//! check through gateway -> Kafka -> service gives the same numbers as the
//! in-process `labelled_check`.
//!
//! The service runs in-process. Under Tansu the "kill" drops the running
//! service future abruptly (no drain, no commit, no final snapshot, like
//! SIGKILL); under noida-db, which never evicts a dead group member, it is a
//! graceful stop (like SIGTERM). Idle-clock advance is off so replays are
//! deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_e2e::spawn::{Spawned, spawn};
use opsline_events::logs::{Alert, Incident, IncidentStatus, LogOffset, RawLog, TemplateEvent};
use opsline_events::tickets::TriagedTicket;
use opsline_events::{Envelope, Event, topics};
use opsline_gateway::Gateway;
use opsline_kafka::{InRecord, OutRecord};
use opsline_logintel::labelled::{LabelledReport, read_labelled};
use opsline_logintel::processor::{SharedState, lock};
use opsline_logintel::{Engine, LineInput, Logintel, LogintelConfig, labelled_check};
use uuid::Uuid;

type Running = Spawned<Logintel>;

fn service_config(gateway: &Spawned<Gateway>, group: &str) -> LogintelConfig {
    LogintelConfig {
        topic_prefix: gateway.names.prefix.clone(),
        group_id: group.to_owned(),
        kafka: gateway.kafka.clone(),
        advance_idle_clock: false,
        snapshot_interval_ms: 300,
        tick_interval_ms: 100,
        tokens: opsline_e2e::logintel_tokens(),
        ..LogintelConfig::default()
    }
}

async fn start(config: LogintelConfig) -> Running {
    spawn::<Logintel>(config, ()).await
}

/// Waits until the service's state reflects raw offset `offset` of `service`.
async fn wait_for_offset(shared: &SharedState, service: &str, offset: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let at = lock(shared)
            .engine
            .service(service)
            .and_then(|s| s.position)
            .map(|p| p.offset);
        if at.is_some_and(|o| o >= offset) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "service stuck at {at:?}, want {offset}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn read_all(gateway: &Spawned<Gateway>, topic: &str, idle_secs: u64) -> Vec<InRecord> {
    opsline_kafka::reader::read_topic(
        &gateway.kafka,
        topic,
        |_| false,
        Duration::from_secs(idle_secs),
        Duration::from_secs(90),
    )
    .await
    .expect("read topic")
}

fn alerts_of(records: &[InRecord]) -> Vec<Alert> {
    records
        .iter()
        .map(|r| r.envelope::<Alert>().expect("alert envelope").data)
        .collect()
}

fn masked_lines(system: &str) -> (Vec<String>, Vec<bool>) {
    let path = opsline_e2e::shared_data().join(format!("loghub/{system}/{system}_2k.log"));
    let labelled = read_labelled(&path).expect("read loghub file");
    (labelled.lines, labelled.is_alert)
}

fn reference_run(lines: &[String], service: &str) -> (HashSet<Uuid>, BTreeMap<u64, String>) {
    let config = LogintelConfig::default();
    let mut engine = Engine::new(config.engine_config()).expect("engine");
    let mut ids = HashSet::new();
    for (index, line) in lines.iter().enumerate() {
        let evidence = LogOffset {
            topic: "ref".into(),
            partition: 0,
            offset: index as i64,
        };
        let out = engine
            .ingest(&LineInput {
                service,
                line: line.as_bytes(),
                fallback_time: None,
                ingested_at: None,
                evidence,
                host: None,
            })
            .expect("ingest");
        ids.extend(out.alerts.iter().map(|a| a.alert_id));
    }
    let templates = engine
        .service(service)
        .expect("service")
        .miner
        .templates()
        .into_iter()
        .map(|t| (t.id, t.text.to_string()))
        .collect();
    (ids, templates)
}

async fn stop(running: Running, abrupt: bool) {
    if abrupt {
        running.kill().await;
    } else {
        running.stop().await.expect("service stopped cleanly");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_stream_keeps_template_ids_and_alerts_once() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "lirestart", |_| {}).await;
    let (lines, _) = masked_lines("BGL");
    let service = "bgl";
    let group = format!("{}logintel", gateway.names.prefix);
    let raw = gateway.names.name(&topics::RAW_LOGS);
    let half = lines.len() / 2;

    let first = start(service_config(&gateway, &group)).await;
    post_lines(&gateway.url, service, &lines[..half]).await;
    let posted = opsline_e2e::read_n(&gateway.kafka, &raw, half, Duration::from_secs(60)).await;
    let first_offset = posted.iter().map(|r| r.offset).min().expect("records");
    wait_for_offset(&first.handle, service, first_offset + half as i64 - 1).await;
    tokio::time::sleep(Duration::from_millis(800)).await; // an idle snapshot
    let abrupt = opsline_e2e::broker_kind().evicts_dead_members();
    stop(first, abrupt).await;

    // The second half arrives while the service is down.
    post_lines(&gateway.url, service, &lines[half..]).await;
    let all = opsline_e2e::read_n(&gateway.kafka, &raw, lines.len(), Duration::from_secs(60)).await;
    let last = all.iter().map(|r| r.offset).max().expect("records");
    let second = start(service_config(&gateway, &group)).await;
    wait_for_offset(&second.handle, service, last).await;
    let skipped = lock(&second.handle).engine.totals().replays_skipped;
    stop(second, false).await;

    let (expected_alerts, expected_templates) = reference_run(&lines, service);
    let alert_records = read_all(&gateway, &gateway.names.name(&topics::ALERTS), 5).await;
    let alerts = alerts_of(&alert_records);
    let ids: HashSet<Uuid> = alerts.iter().map(|a| a.alert_id).collect();
    eprintln!(
        "restart ({}): {} alert records, {} unique alert ids, {} expected; {} replayed records skipped",
        if abrupt { "abrupt" } else { "graceful" },
        alerts.len(),
        ids.len(),
        expected_alerts.len(),
        skipped
    );
    assert!(!expected_alerts.is_empty());
    assert_eq!(
        ids, expected_alerts,
        "after dedup by id: exactly the alerts of an uninterrupted run"
    );

    let template_records = read_all(&gateway, &gateway.names.name(&topics::TEMPLATES), 3).await;
    let mut latest: HashMap<String, TemplateEvent> = HashMap::new();
    for record in &template_records {
        let key = String::from_utf8_lossy(record.key.as_deref().unwrap_or_default()).into_owned();
        latest.insert(key, record.envelope::<TemplateEvent>().expect("template envelope").data);
    }
    for (id, text) in &expected_templates {
        let got = latest.get(&format!("{service}/{id}")).map(|t| t.template.as_str());
        assert_eq!(
            got,
            Some(text.as_str()),
            "template {id} keeps its id and text across the restart"
        );
    }
    eprintln!(
        "templates: {} live, all with the ids of an uninterrupted run",
        expected_templates.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgl_labelled_check_end_to_end_and_resolve_api() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "libgl", |_| {}).await;
    let (lines, is_alert) = masked_lines("BGL");
    let service = "bgl";
    let raw = gateway.names.name(&topics::RAW_LOGS);
    let running = start(service_config(&gateway, &format!("{}logintel", gateway.names.prefix))).await;
    post_lines(&gateway.url, service, &lines).await;
    let records = opsline_e2e::read_n(&gateway.kafka, &raw, lines.len(), Duration::from_secs(60)).await;
    let mut offsets: Vec<(i32, i64)> = records.iter().map(|r| (r.partition, r.offset)).collect();
    offsets.sort_unstable();
    assert_eq!(offsets.len(), lines.len());
    let line_of: HashMap<(i32, i64), usize> = offsets.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    for record in &records {
        let raw_log = record.envelope::<RawLog>().expect("raw").data;
        let index = line_of[&(record.partition, record.offset)];
        assert_eq!(raw_log.line, lines[index], "raw offsets follow the file order");
    }
    wait_for_offset(&running.handle, service, offsets.last().expect("offsets").1).await;

    let client = opsline_e2e::logintel_client();
    let anonymous = reqwest::Client::new()
        .post(format!("{}/v1/admin/flush", running.url))
        .send()
        .await
        .expect("flush without a token");
    assert_eq!(anonymous.status(), 401, "flush needs an SRE token");
    let flushed = client
        .post(format!("{}/v1/admin/flush", running.url))
        .send()
        .await
        .expect("flush");
    assert_eq!(flushed.status(), 200);

    let alert_records = read_all(&gateway, &gateway.names.name(&topics::ALERTS), 5).await;
    let mut unique: BTreeMap<Uuid, Alert> = BTreeMap::new();
    for alert in alerts_of(&alert_records) {
        unique.insert(alert.alert_id, alert);
    }
    let alerts: Vec<Alert> = unique.into_values().collect();
    let through_kafka = LabelledReport::score(&is_alert, &alerts, |o| line_of.get(&(o.partition, o.offset)).copied());
    eprintln!("BGL through gateway -> Kafka -> logintel:\n{through_kafka}");
    let path = opsline_e2e::shared_data().join("loghub/BGL/BGL_2k.log");
    let in_process = labelled_check(&path).expect("labelled check");
    eprintln!("BGL in process:\n{in_process}");
    assert_eq!(through_kafka.labelled_alert_lines, 143);
    assert_eq!(through_kafka.covered_alert_lines, in_process.covered_alert_lines);
    assert_eq!(through_kafka.alerts, in_process.alerts);
    assert!(through_kafka.recall() > 0.5, "recall {}", through_kafka.recall());

    // A new fatal pattern after the replay opens an incident that is still open.
    let marker = "- 1136301200 2006.01.03 R00-M0-N0-C:J00-U00 2006-01-03-15.20.00.000000 R00-M0-N0-C:J00-U00 RAS KERNEL FATAL synthetic controller meltdown: node 7 failed";
    post_lines(&gateway.url, service, &[marker.to_owned()]).await;
    wait_for_offset(&running.handle, service, offsets.last().expect("offsets").1 + 1).await;

    // Incidents: every alert id and its evidence are cited; resolve one by the API.
    let incidents_topic = gateway.names.name(&topics::INCIDENTS);
    let incident_records = read_all(&gateway, &incidents_topic, 3).await;
    let mut latest: BTreeMap<Uuid, Incident> = BTreeMap::new();
    for record in &incident_records {
        let incident = record.envelope::<Incident>().expect("incident").data;
        assert_eq!(
            String::from_utf8_lossy(record.key.as_deref().unwrap_or_default()),
            incident.incident_id.to_string()
        );
        latest.insert(incident.incident_id, incident);
    }
    // Alerts are signals: only those that add up to an attention score become incidents.
    assert!(
        latest.len() < alerts.len(),
        "{} incidents from {} alerts",
        latest.len(),
        alerts.len()
    );
    assert!(
        latest
            .values()
            .any(|i| i.status == IncidentStatus::Resolved && i.resolved_by.as_deref() == Some("quiet-period"))
    );
    let open = latest
        .values()
        .find(|i| i.status == IncidentStatus::Open)
        .expect("an open incident")
        .clone();
    assert!(!open.evidence.is_empty());

    // Users noticed: a triaged ticket linked to the open incident raises it (once, however
    // often the ticket is seen); a person declares that it needs a postmortem.
    let producer = opsline_kafka::Producer::new(
        &gateway.kafka,
        &opsline_kafka::KafkaMetrics::register(&opsline_runtime::metrics::Metrics::new()),
    )
    .expect("producer");
    let mut ticket = TriagedTicket::sample();
    ticket.ticket_id = "T-users-noticed".to_owned();
    ticket.incident_id = Some(open.incident_id);
    let triaged_topic = gateway.names.name(&topics::TICKETS_TRIAGED);
    for _ in 0..2 {
        let record = OutRecord::event(
            triaged_topic.clone(),
            &ticket.ticket_id,
            &Envelope::new("test", ticket.clone()),
        )
        .expect("record");
        producer.send(&record).await.expect("send triaged ticket");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let linked = read_all(&gateway, &incidents_topic, 2)
            .await
            .iter()
            .filter_map(|r| r.envelope::<Incident>().ok())
            .filter(|e| e.data.incident_id == open.incident_id)
            .filter_map(|e| e.data.attention)
            .map(|a| a.ticket_count)
            .max()
            .unwrap_or(0);
        if linked > 0 {
            assert_eq!(linked, 1, "the same ticket counts once");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the linked ticket never reached the incident"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let declared = client
        .post(format!("{}/v1/incidents/{}/postmortem", running.url, open.incident_id))
        .json(&serde_json::json!({ "by": "alice" }))
        .send()
        .await
        .expect("declare");
    assert_eq!(declared.status(), 200);
    let body: serde_json::Value = declared.json().await.expect("json");
    assert_eq!(body["outcome"], "declared", "{body}");
    assert_eq!(body["incident"]["postmortem"]["decision"], "draft", "{body}");

    let response = client
        .post(format!("{}/v1/incidents/{}/resolve", running.url, open.incident_id))
        .json(&serde_json::json!({ "by": "alice" }))
        .send()
        .await
        .expect("resolve");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["outcome"], "resolved");
    let again = client
        .post(format!("{}/v1/incidents/{}/resolve", running.url, open.incident_id))
        .send()
        .await
        .expect("again");
    assert_eq!(
        again.json::<serde_json::Value>().await.expect("json")["outcome"],
        "already_resolved"
    );
    let anonymous = reqwest::Client::new()
        .post(format!("{}/v1/incidents/{}/resolve", running.url, Uuid::nil()))
        .send()
        .await
        .expect("resolve without a token");
    assert_eq!(anonymous.status(), 401, "resolve needs an SRE token");
    let unknown = client
        .post(format!("{}/v1/incidents/{}/resolve", running.url, Uuid::nil()))
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), 404);
    let after = read_all(&gateway, &incidents_topic, 3).await;
    let resolved = after
        .iter()
        .filter_map(|r| r.envelope::<Incident>().ok().map(|e| e.data))
        .any(|i| {
            i.incident_id == open.incident_id
                && i.status == IncidentStatus::Resolved
                && i.resolved_by.as_deref() == Some("alice")
        });
    assert!(resolved, "the resolved state is on the incidents topic");
    stop(running, false).await;
}
