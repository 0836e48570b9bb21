//! The console in front of two log-service replicas: each replica owns the incidents of the
//! services on its partitions, so the console asks each in turn (`logintel_replicas`, or the
//! addresses of `logintel_url`'s host). Every open incident can be acknowledged from the
//! console, whichever replica owns it, and the insights count the lines of every service.
//! Real broker, gateway, two log-service replicas (one consumer group) and console.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use opsline_console::{Console, ConsoleConfig};
use opsline_e2e::console::{SRE, tokens};
use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_e2e::spawn::spawn;
use opsline_e2e::{latest, logintel_client, logintel_tokens, shared_data, spawn_broker};
use opsline_events::logs::{Incident, IncidentStatus};
use opsline_events::topics;
use opsline_logintel::processor::lock;
use opsline_logintel::{Logintel, LogintelConfig};
use serde_json::{Value, json};
use uuid::Uuid;

const SYSTEMS: [&str; 6] = ["Apache", "HDFS", "BGL", "Zookeeper", "Linux", "Spark"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_actions_reach_the_replica_owning_each_incident() {
    let broker = spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "consolereplicas", |_| {}).await;
    let (kafka, names) = (gateway.kafka.clone(), gateway.names.clone());
    let replica = || {
        let mut config = LogintelConfig {
            topic_prefix: names.prefix.clone(),
            group_id: format!("{}logintel", names.prefix),
            kafka: kafka.clone(),
            advance_idle_clock: false,
            tick_interval_ms: 100,
            snapshot_interval_ms: 300,
            tokens: logintel_tokens(),
            ..LogintelConfig::default()
        };
        config.incidents.quiet_period_secs = 10 * 365 * 86_400;
        spawn::<Logintel>(config, ())
    };
    let first = replica().await;
    let second = replica().await;
    let console = spawn::<Console>(
        ConsoleConfig {
            topic_prefix: names.prefix.clone(),
            logintel_url: first.url.clone(),
            logintel_replicas: vec![first.url.clone(), second.url.clone()],
            logintel_token: Some(opsline_e2e::LOGINTEL_TOKEN.into()),
            tokens: tokens(),
            kafka: kafka.clone(),
            ..ConsoleConfig::default()
        },
        (),
    )
    .await;
    console.wait_ready(Duration::from_secs(60)).await;

    let mut posted = 0;
    for system in SYSTEMS {
        let text = std::fs::read_to_string(shared_data().join(format!("loghub/{system}/{system}_2k.log"))).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        post_lines(&gateway.url, &system.to_lowercase(), &lines).await;
        posted += lines.len() as u64;
    }
    let read = |replica: &opsline_e2e::spawn::Spawned<Logintel>| lock(&replica.handle).engine.totals().lines_in;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while read(&first) + read(&second) < posted {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replicas did not read every line"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        read(&first) > 0 && read(&second) > 0,
        "both replicas own services ({} and {} lines)",
        read(&first),
        read(&second)
    );
    for replica in [&first, &second] {
        let flushed = logintel_client()
            .post(format!("{}/v1/admin/flush", replica.url))
            .send()
            .await
            .unwrap();
        assert_eq!(flushed.status(), 200);
    }
    let incidents: BTreeMap<Uuid, Incident> =
        latest::<Incident, _>(&kafka, &names.name(&topics::INCIDENTS), |i| i.incident_id).await;
    let open: Vec<&Incident> = incidents
        .values()
        .filter(|i| i.status == IncidentStatus::Open)
        .collect();
    let services: std::collections::BTreeSet<&str> = open.iter().map(|i| i.service.as_str()).collect();
    assert!(services.len() >= 2, "open incidents of several services: {services:?}");

    let client = reqwest::Client::new();
    let mut acknowledged = 0;
    for incident in &open {
        let url = format!("{}/v1/incidents/{}/acknowledge", console.url, incident.incident_id);
        // The console may not have followed the incident yet: retry a 404 for a while.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let response = client
                .post(&url)
                .bearer_auth(SRE)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if status == 200 {
                assert_eq!(body["incident"]["acknowledged_by"], "sam", "{body}");
                acknowledged += 1;
                break;
            }
            assert!(
                status == 404 && tokio::time::Instant::now() < deadline,
                "acknowledging {} ({}) answered {status}: {body}",
                incident.incident_id,
                incident.service
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    assert_eq!(acknowledged, open.len());

    let insights: Value = client
        .get(format!("{}/v1/insights", console.url))
        .bearer_auth(SRE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // `lines`: bucket start -> service -> count.
    let counted: std::collections::BTreeSet<String> = insights["lines"]
        .as_object()
        .map(|buckets| {
            buckets
                .values()
                .filter_map(Value::as_object)
                .flat_map(|services| services.keys().cloned())
                .collect()
        })
        .unwrap_or_default();
    for system in SYSTEMS {
        assert!(
            counted.contains(&system.to_lowercase()),
            "{system} missing from {counted:?} in {insights}"
        );
    }
}
