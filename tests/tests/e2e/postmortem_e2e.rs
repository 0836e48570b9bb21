//! End to end: alerts and a resolved, team-restricted incident go onto the real broker; the
//! postmortem service drafts a postmortem that cites the raw-log offsets, it is found by
//! `/v1/search` within seconds by a token of the team and hidden from every other token, and
//! it goes through review and publication (each revision on the postmortems topic).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use opsline_e2e::postmortem::spawn_postmortem;
use opsline_e2e::{read_n, spawn_broker, unique_prefix};
use opsline_events::logs::{Alert, AlertKind, Incident, IncidentStatus, LogOffset, Severity};
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_postmortem::{Role, Timestamp, TokenConfig, hash_token, postmortem_id};
use opsline_runtime::metrics::Metrics;
use serde_json::Value;
use uuid::Uuid;

const TEAM_SRE: &str = "alice-token-0001";
const OTHER_SRE: &str = "bob-token-0002";
const VIEWER: &str = "carol-token-0003";

fn tokens() -> Vec<TokenConfig> {
    let token = |name: &str, role, teams: &[&str], secret: &str| TokenConfig {
        name: name.into(),
        role,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        sha256: hash_token(secret),
    };
    vec![
        token("alice", Role::Sre, &["payments"], TEAM_SRE),
        token("bob", Role::Sre, &[], OTHER_SRE),
        token("carol", Role::Viewer, &[], VIEWER),
    ]
}

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

fn alert(raw_topic: &str, id: u128, kind: AlertKind, template: &str, offset: i64, at: i64) -> Alert {
    Alert {
        alert_id: Uuid::from_u128(id),
        service: "payments-api".into(),
        kind,
        severity: Severity::Critical,
        template_id: u64::try_from(id).unwrap(),
        template: template.into(),
        sample_lines: vec![format!("{template} sample")],
        count: 40 + u64::try_from(id % 7).unwrap(),
        baseline: Some(2.0),
        window_start: ts(at - 60),
        window_end: ts(at),
        suppressed: 0,
        evidence: vec![LogOffset {
            topic: raw_topic.into(),
            partition: 2,
            offset,
        }],
        origins: Default::default(),
        external: None,
    }
}

fn incident(id: Uuid, alerts: &[&Alert], team: Option<&str>, title: &str) -> Incident {
    let mut incident = Incident::sample();
    incident.incident_id = id;
    incident.service = "payments-api".into();
    incident.title = title.into();
    incident.status = IncidentStatus::Resolved;
    incident.opened_at = alerts[0].window_end;
    incident.updated_at = alerts[alerts.len() - 1].window_end;
    incident.resolved_at = Some(ts(1_780_000_900));
    incident.alert_ids = alerts.iter().map(|a| a.alert_id).collect();
    incident.evidence = alerts.iter().flat_map(|a| a.evidence.clone()).collect();
    incident.restricted_team = team.map(str::to_owned);
    incident
}

async fn produce<T: Event>(producer: &Producer, topic: &str, key: &str, data: T) {
    let record = OutRecord::event(topic.to_owned(), key, &Envelope::new("e2e", data)).unwrap();
    producer.send(&record).await.expect("produce");
}

async fn get(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let response = client.post(url).bearer_auth(token).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn hit_ids(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|h| h["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_incident_becomes_a_cited_searchable_access_controlled_postmortem() {
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = TopicNames::with_prefix(unique_prefix("postmortem"));
    opsline_kafka::admin::create_topics(&kafka, &names.all_to_create())
        .await
        .expect("create topics");
    let service = spawn_postmortem(kafka.clone(), &names, tokens(), |c| c.alert_wait_ms = 5_000).await;
    let url = service.url.clone();
    let client = reqwest::Client::new();

    // Access control before any data: no token, unknown token.
    let (status, body) = get(&client, &format!("{url}/v1/search?q=anything"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized", "{body}");
    let (status, _) = get(&client, &format!("{url}/v1/search?q=anything"), Some("nope")).await;
    assert_eq!(status, 401);

    let raw = names.name(&topics::RAW_LOGS);
    let first = alert(
        &raw,
        11,
        AlertKind::ErrorSurge,
        "Ledger write timeout for shard <*>",
        88_412,
        1_780_000_060,
    );
    let second = alert(
        &raw,
        12,
        AlertKind::RateBurst,
        "Retrying settlement batch <*> after <*> ms",
        88_977,
        1_780_000_120,
    );
    let open_alert = alert(
        &raw,
        13,
        AlertKind::NewTemplate,
        "Settlement cache warmup skipped for <*>",
        91_001,
        1_780_000_200,
    );
    let restricted_id = Uuid::now_v7();
    let public_id = Uuid::now_v7();
    let restricted = incident(
        restricted_id,
        &[&first, &second],
        Some("payments"),
        "Ledger write timeouts in payments-api",
    );
    let public = incident(public_id, &[&open_alert], None, "Settlement cache warmup skipped");

    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let alerts_topic = names.name(&topics::ALERTS);
    let incidents_topic = names.name(&topics::INCIDENTS);
    for a in [&first, &second, &open_alert] {
        produce(&producer, &alerts_topic, &a.service, a.clone()).await;
    }
    produce(
        &producer,
        &incidents_topic,
        &restricted_id.to_string(),
        restricted.clone(),
    )
    .await;
    produce(&producer, &incidents_topic, &public_id.to_string(), public.clone()).await;
    let produced = Instant::now();

    // The team's SRE finds the draft within seconds.
    let pm_id = postmortem_id(restricted_id).to_string();
    let search = format!("{url}/v1/search?q=ledger%20timeout&limit=5");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(&client, &search, Some(TEAM_SRE)).await;
        assert_eq!(status, 200, "{body}");
        if hit_ids(&body).contains(&pm_id) {
            break;
        }
        assert!(Instant::now() < deadline, "draft not searchable in 30 s: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "draft searchable {:?} after the incident was produced",
        produced.elapsed()
    );

    // The draft cites real offsets, is marked, and records the model.
    let (status, doc) = get(&client, &format!("{url}/v1/postmortems/{pm_id}"), Some(TEAM_SRE)).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["status"], "draft");
    assert_eq!(doc["model"], "none");
    assert_eq!(doc["restricted_team"], "payments");
    let markdown = doc["markdown"].as_str().unwrap();
    assert!(markdown.contains("_Draft, needs review._"), "{markdown}");
    assert!(markdown.contains(&format!("{raw}/2@88412")), "{markdown}");
    assert!(markdown.contains(&format!("{raw}/2@88977")), "{markdown}");
    assert!(
        markdown.contains("[T3]") && markdown.contains("## Root causes"),
        "{markdown}"
    );

    // Hidden from an SRE outside the team and from a viewer: search, get, similar.
    for token in [OTHER_SRE, VIEWER] {
        let (status, body) = get(&client, &search, Some(token)).await;
        assert_eq!(status, 200);
        assert!(!hit_ids(&body).contains(&pm_id), "{body}");
        let (status, _) = get(&client, &format!("{url}/v1/postmortems/{pm_id}"), Some(token)).await;
        assert_eq!(status, 404);
        let (status, body) = get(
            &client,
            &format!("{url}/v1/similar?q=ledger%20write%20timeout%20shard"),
            Some(token),
        )
        .await;
        assert_eq!(status, 200);
        assert!(!body.to_string().contains(&pm_id), "{body}");
    }

    // Workflow: a viewer may not review; the team's SRE reviews, then publishes.
    let (status, body) = post(&client, &format!("{url}/v1/postmortems/{pm_id}/review"), VIEWER).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    let (status, body) = post(&client, &format!("{url}/v1/postmortems/{pm_id}/publish"), TEAM_SRE).await;
    assert_eq!(status, 409, "publish before review: {body}");
    // "Reviewed" needs every reviewer prompt answered or waived (postmortem_review_api.rs
    // covers answers and edits); here each is waived with a reason.
    let (status, body) = post(&client, &format!("{url}/v1/postmortems/{pm_id}/review"), TEAM_SRE).await;
    assert_eq!(status, 422, "open prompts: {body}");
    let waivers = body["open_prompts"].as_array().expect("open prompts").len();
    for prompt in body["open_prompts"].as_array().expect("open prompts").clone() {
        let waived = client
            .post(format!(
                "{url}/v1/postmortems/{pm_id}/prompts/{}/waive",
                prompt["id"].as_str().unwrap()
            ))
            .bearer_auth(TEAM_SRE)
            .json(&serde_json::json!({"reason": "not knowable from the logs"}))
            .send()
            .await
            .expect("waive");
        assert_eq!(waived.status(), 200);
    }
    let (status, body) = post(&client, &format!("{url}/v1/postmortems/{pm_id}/review"), TEAM_SRE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "reviewed");
    assert_eq!(body["reviewer"], "alice");
    let (status, body) = post(&client, &format!("{url}/v1/postmortems/{pm_id}/publish"), TEAM_SRE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "published");
    let response = client
        .get(format!("{url}/v1/postmortems/{pm_id}"))
        .bearer_auth(TEAM_SRE)
        .header("accept", "text/markdown")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("_Published, reviewed by alice._"), "{text}");

    // Published but restricted: still hidden from the viewer outside the team.
    let (_, body) = get(&client, &search, Some(VIEWER)).await;
    assert!(!hit_ids(&body).contains(&pm_id), "{body}");

    // The unrestricted incident's draft is visible to any SRE, and not to a viewer until published.
    let public_pm = postmortem_id(public_id).to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&client, &format!("{url}/v1/postmortems/{public_pm}"), Some(OTHER_SRE))
        .await
        .0
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "unrestricted draft not readable by another SRE"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, _) = get(&client, &format!("{url}/v1/postmortems/{public_pm}"), Some(VIEWER)).await;
    assert_eq!(status, 404);

    // Every revision went to the compacted topic, keyed by the postmortem id.
    // (The draft, one draft revision per waiver, reviewed, published; and the other draft.)
    let records = read_n(
        &kafka,
        &names.name(&topics::POSTMORTEMS),
        4 + waivers,
        Duration::from_secs(20),
    )
    .await;
    let revisions: Vec<(u32, String)> = records
        .iter()
        .filter(|r| r.key.as_deref() == Some(pm_id.as_bytes()))
        .filter_map(|r| r.envelope::<opsline_events::ops::Postmortem>().ok())
        .map(|e| (e.data.revision, format!("{:?}", e.data.status)))
        .collect();
    assert_eq!(revisions.len(), 3 + waivers, "{revisions:?}");
    assert!(
        revisions.windows(2).all(|w| w[0].0 < w[1].0),
        "revisions only go up: {revisions:?}"
    );
    let mut statuses: Vec<&str> = revisions.iter().map(|(_, s)| s.as_str()).collect();
    statuses.dedup();
    assert_eq!(statuses, vec!["Draft", "Reviewed", "Published"]);

    // Runbooks are indexed at start and visible to a viewer (they are published).
    let (_, body) = get(
        &client,
        &format!("{url}/v1/search?q=rate%20burst&limit=3"),
        Some(VIEWER),
    )
    .await;
    assert!(body["total"].as_u64().unwrap_or(0) > 0, "{body}");

    service.stop().await.expect("postmortem service ran without error");
}
