//! End to end from raw logs to a postmortem: `BGL_2k.log` is replayed through the gateway into
//! the raw log topic; the real log service mines it into alerts and incidents (its service is
//! restricted to one team by configuration); the last incident still open is resolved through
//! the log service's `POST /v1/incidents/{id}/resolve`; the real postmortem service drafts a
//! postmortem whose cited raw-log offsets exist in the raw topic (the quoted sample lines are
//! read back from those offsets and compared), which `/v1/search` finds within seconds for an
//! SRE of the team and hides from an SRE outside it and from a viewer.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_e2e::postmortem::spawn_postmortem;
use opsline_e2e::spawn::spawn;
use opsline_e2e::{shared_data, spawn_broker};
use opsline_events::logs::{Incident, IncidentStatus, RawLog};
use opsline_events::topics;
use opsline_kafka::KafkaConfig;
use opsline_kafka::record::InRecord;
use opsline_logintel::processor::lock;
use opsline_logintel::{IncidentConfig, Logintel, LogintelConfig};
use opsline_postmortem::{Role, TokenConfig, hash_token, postmortem_id};
use serde_json::Value;

const SERVICE: &str = "bgl";
const TEAM: &str = "bluegene";
const TEAM_SRE: &str = "team-sre-token-01";
const OTHER_SRE: &str = "other-sre-token-02";
const VIEWER: &str = "viewer-token-03";

fn tokens() -> Vec<TokenConfig> {
    let token = |name: &str, role, teams: &[&str], secret: &str| TokenConfig {
        name: name.into(),
        role,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        sha256: hash_token(secret),
    };
    vec![
        token("tess", Role::Sre, &[TEAM], TEAM_SRE),
        token("oscar", Role::Sre, &[], OTHER_SRE),
        token("vic", Role::Viewer, &[], VIEWER),
    ]
}

async fn read_all(kafka: &KafkaConfig, topic: &str) -> Vec<InRecord> {
    opsline_kafka::reader::read_topic(kafka, topic, |_| false, Duration::from_secs(3), Duration::from_secs(60))
        .await
        .expect("read topic")
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let response = client.get(url).bearer_auth(token).send().await.expect("request");
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

/// The `topic/partition@offset` citations of `topic` in `text`, in order.
fn citations(text: &str, topic: &str) -> Vec<(i32, i64)> {
    let prefix = format!("{topic}/");
    text.match_indices(&prefix)
        .filter_map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '@'))
                .unwrap_or(rest.len());
            let (partition, offset) = rest[..end].split_once('@')?;
            Some((partition.parse().ok()?, offset.parse().ok()?))
        })
        .collect()
}

/// The postmortem's quoting of a log line (see `opsline_postmortem::timeline::quote`).
fn as_quoted(line: &str) -> String {
    line.chars()
        .map(|c| match c {
            '`' => ' ',
            '"' => '\'',
            '[' => '(',
            ']' => ')',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loghub_replay_incident_resolves_into_a_cited_searchable_restricted_postmortem() {
    let broker = spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "pmloghub", |_| {}).await;
    let kafka = gateway.kafka.clone();
    let names = gateway.names.clone();

    let logintel = spawn::<Logintel>(
        LogintelConfig {
            topic_prefix: names.prefix.clone(),
            group_id: format!("{}logintel", names.prefix),
            kafka: kafka.clone(),
            advance_idle_clock: false,
            tick_interval_ms: 100,
            snapshot_interval_ms: 300,
            incidents: IncidentConfig {
                restricted_teams: BTreeMap::from([(SERVICE.to_owned(), TEAM.to_owned())]),
                // BGL_2k spans months of event time: a longer quiet period keeps its incidents
                // open until the resolve call.
                quiet_period_secs: 10 * 365 * 86_400,
                ..IncidentConfig::default()
            },
            tokens: opsline_e2e::logintel_tokens(),
            ..LogintelConfig::default()
        },
        (),
    )
    .await;
    let logintel_url = logintel.url.clone();
    let shared = logintel.handle.clone();
    let postmortem = spawn_postmortem(kafka.clone(), &names, tokens(), |c| c.alert_wait_ms = 5_000).await;
    let client = opsline_e2e::logintel_client();

    // Replay the file through the gateway and wait until the log service has mined all of it.
    let text = std::fs::read_to_string(shared_data().join("loghub/BGL/BGL_2k.log")).expect("BGL_2k.log");
    let lines: Vec<&str> = text.lines().collect();
    post_lines(&gateway.url, SERVICE, &lines).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let lines_in = lock(&shared).engine.totals().lines_in;
        if lines_in >= lines.len() as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "log service mined only {lines_in} lines");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The raw topic as written: (partition, offset) -> line.
    let raw_topic = names.name(&topics::RAW_LOGS);
    let raw: HashMap<(i32, i64), String> = read_all(&kafka, &raw_topic)
        .await
        .iter()
        .map(|r| {
            (
                (r.partition, r.offset),
                r.envelope::<RawLog>().expect("raw log").data.line,
            )
        })
        .collect();
    assert_eq!(raw.len(), lines.len());

    // The latest state of every incident; the last one opened that is still open gets resolved.
    let mut incidents: BTreeMap<String, Incident> = BTreeMap::new();
    for r in read_all(&kafka, &names.name(&topics::INCIDENTS)).await {
        let incident = r.envelope::<Incident>().expect("incident").data;
        incidents.insert(incident.incident_id.to_string(), incident);
    }
    assert!(!incidents.is_empty(), "the replay produced no incident");
    let open = incidents
        .values()
        .filter(|i| i.status == IncidentStatus::Open)
        .max_by_key(|i| i.opened_at)
        .cloned()
        .unwrap_or_else(|| panic!("no open incident among {} incidents", incidents.len()));
    assert_eq!(open.restricted_team.as_deref(), Some(TEAM));
    assert!(!open.evidence.is_empty());
    for e in &open.evidence {
        assert_eq!(e.topic, raw_topic);
        assert!(
            raw.contains_key(&(e.partition, e.offset)),
            "incident cites a missing offset {e:?}"
        );
    }
    // A person declares that it needs a postmortem (whatever the policy decided), then resolves it.
    let response = client
        .post(format!("{logintel_url}/v1/incidents/{}/postmortem", open.incident_id))
        .json(&serde_json::json!({ "by": "e2e" }))
        .send()
        .await
        .expect("declare");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["outcome"], "declared", "{body}");
    let response = client
        .post(format!("{logintel_url}/v1/incidents/{}/resolve", open.incident_id))
        .json(&serde_json::json!({ "by": "e2e" }))
        .send()
        .await
        .expect("resolve");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["outcome"], "resolved", "{body}");
    let resolved = Instant::now();

    // The team's SRE finds the draft within seconds.
    let pm_id = postmortem_id(open.incident_id).to_string();
    let search = format!("{}/v1/search?q=service:{SERVICE}&limit=50", postmortem.url);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(&client, &search, TEAM_SRE).await;
        assert_eq!(status, 200, "{body}");
        if hit_ids(&body).contains(&pm_id) {
            break;
        }
        assert!(Instant::now() < deadline, "draft not searchable in 30 s: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("draft searchable {:?} after the resolve call", resolved.elapsed());

    // The draft cites offsets that exist, and its quoted samples are the lines at those offsets.
    let (status, doc) = get(&client, &format!("{}/v1/postmortems/{pm_id}", postmortem.url), TEAM_SRE).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["status"], "draft");
    assert_eq!(doc["restricted_team"], TEAM);
    let markdown = doc["markdown"].as_str().expect("markdown");
    assert!(markdown.contains("_Draft, needs review._"), "{markdown}");
    let cited = citations(markdown, &raw_topic);
    assert!(!cited.is_empty(), "no raw-log citation: {markdown}");
    for c in &cited {
        assert!(raw.contains_key(c), "cites {c:?}, not in the raw topic: {markdown}");
    }
    let mut compared = 0;
    for entry in markdown.lines().filter(|l| l.contains("; sample \"")) {
        let Some(&first) = citations(entry, &raw_topic).first() else {
            continue;
        };
        let sample = entry
            .split("; sample \"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        let sample = sample.trim_end_matches('…');
        // Samples are redacted in the log service (IPs, e-mail, secrets): compare like with like.
        let redacted = opsline_logintel::redaction::redact(&raw[&first], usize::MAX);
        assert!(
            as_quoted(&redacted).starts_with(sample),
            "entry quotes {sample:?} but {first:?} holds {:?}",
            raw[&first]
        );
        compared += 1;
    }
    assert!(compared > 0, "no timeline entry quotes a cited line: {markdown}");

    // Hidden from an SRE outside the team and from a viewer.
    for token in [OTHER_SRE, VIEWER] {
        let (status, body) = get(&client, &search, token).await;
        assert_eq!(status, 200);
        assert!(!hit_ids(&body).contains(&pm_id), "{body}");
        let (status, _) = get(&client, &format!("{}/v1/postmortems/{pm_id}", postmortem.url), token).await;
        assert_eq!(status, 404);
    }

    postmortem.stop().await.expect("postmortem service ran without error");
    logintel.stop().await.expect("log service ran without error");
}
