//! Attention end to end on the real broker: a LogHub file replayed through gateway ->
//! logintel -> postmortem opens only incidents the in-process engine (`opsline eval
//! incidents`) also opens, and the postmortem service drafts exactly the resolved incidents
//! whose policy decision is "draft": none of those the policy closed without one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_e2e::postmortem::spawn_postmortem;
use opsline_e2e::spawn::spawn;
use opsline_e2e::{shared_data, spawn_broker};
use opsline_events::logs::{Incident, IncidentStatus, PostmortemChoice};
use opsline_events::ops::Postmortem;
use opsline_events::topics;
use opsline_logintel::processor::lock;
use opsline_logintel::{Logintel, LogintelConfig};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_file_opens_the_engines_incidents_and_drafts_only_what_the_policy_approves() {
    let file = shared_data().join("loghub/Apache/Apache_2k.log");
    let config = LogintelConfig {
        advance_idle_clock: false,
        ..LogintelConfig::default()
    };
    let expected = opsline_logintel::evaluation::evaluate_file(&file, &config).expect("in-process eval");
    let expected_ids: BTreeSet<Uuid> = expected.incident_list.iter().map(|i| i.incident_id).collect();
    assert!(!expected_ids.is_empty(), "the file opens incidents in process");

    let broker = spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "attention", |_| {}).await;
    let (kafka, names) = (gateway.kafka.clone(), gateway.names.clone());
    let logintel = spawn::<Logintel>(
        LogintelConfig {
            topic_prefix: names.prefix.clone(),
            group_id: format!("{}logintel", names.prefix),
            kafka: kafka.clone(),
            tick_interval_ms: 100,
            snapshot_interval_ms: 300,
            tokens: opsline_e2e::logintel_tokens(),
            ..config
        },
        (),
    )
    .await;
    let postmortem = spawn_postmortem(kafka.clone(), &names, Vec::new(), |c| c.alert_wait_ms = 2_000).await;

    let text = std::fs::read_to_string(&file).expect("Apache_2k.log");
    let lines: Vec<&str> = text.lines().collect();
    post_lines(&gateway.url, "apache", &lines).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while lock(&logintel.handle).engine.totals().lines_in < lines.len() as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "logintel did not read every line"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = opsline_e2e::logintel_client();
    let flushed = client
        .post(format!("{}/v1/admin/flush", logintel.url))
        .send()
        .await
        .expect("flush");
    assert_eq!(flushed.status(), 200);

    // Every incident on the bus is one the engine opens in process (same deterministic ids).
    let incidents_topic = names.name(&topics::INCIDENTS);
    let opened = opsline_e2e::latest::<Incident, _>(&kafka, &incidents_topic, |i| i.incident_id).await;
    assert!(!opened.is_empty(), "the replay opened no incident");
    for id in opened.keys() {
        assert!(
            expected_ids.contains(id),
            "incident {id} is not one the engine opens in process"
        );
    }
    // The on-call engineer resolves what is still open; the policy decides on each.
    for incident in opened.values().filter(|i| i.status == IncidentStatus::Open) {
        let response = client
            .post(format!(
                "{}/v1/incidents/{}/resolve",
                logintel.url, incident.incident_id
            ))
            .json(&serde_json::json!({ "by": "e2e" }))
            .send()
            .await
            .expect("resolve");
        assert_eq!(response.status(), 200);
    }
    let resolved = opsline_e2e::latest::<Incident, _>(&kafka, &incidents_topic, |i| i.incident_id).await;
    let decision = |i: &Incident| i.postmortem.as_ref().map(|d| d.decision);
    let approved: BTreeSet<Uuid> = resolved
        .values()
        .filter(|i| i.status == IncidentStatus::Resolved && decision(i) == Some(PostmortemChoice::Draft))
        .map(|i| i.incident_id)
        .collect();
    let skipped: Vec<&Incident> = resolved
        .values()
        .filter(|i| decision(i) == Some(PostmortemChoice::Skip))
        .collect();
    for incident in resolved.values().filter(|i| i.status == IncidentStatus::Resolved) {
        assert!(
            decision(incident).is_some(),
            "resolved without a policy decision: {incident:?}"
        );
    }
    for incident in &skipped {
        let record = incident.postmortem.as_ref().expect("decision");
        assert!(
            record.resolution.is_some(),
            "a skipped incident keeps a resolution record"
        );
    }

    let postmortems_topic = names.name(&topics::POSTMORTEMS);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let drafted: BTreeSet<Uuid> = loop {
        let drafts = opsline_e2e::latest::<Postmortem, _>(&kafka, &postmortems_topic, |p| p.postmortem_id).await;
        let drafted: BTreeSet<Uuid> = drafts.values().map(|p| p.incident_id).collect();
        if drafted.len() >= approved.len() || tokio::time::Instant::now() >= deadline {
            break drafted;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!(
        "{} lines -> {} incidents ({} in process) -> {} approved, {} skipped -> {} drafts",
        lines.len(),
        resolved.len(),
        expected_ids.len(),
        approved.len(),
        skipped.len(),
        drafted.len()
    );
    assert_eq!(
        drafted, approved,
        "drafts exactly for the incidents the policy approved"
    );
    postmortem.stop().await.expect("postmortem stops cleanly");
    logintel.stop().await.expect("logintel stops cleanly");
}
