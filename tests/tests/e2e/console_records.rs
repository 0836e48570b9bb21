//! The record view's team restriction end to end: the log service restricts service `apache`
//! to team `finance` (`incidents.restricted_teams`), Apache_2k.log is replayed through the
//! gateway, and every incident it opens is restricted. A raw-log record those incidents and
//! their alerts cite is then asked for, through the API (`GET /v1/records/{partition}/{offset}`)
//! and the page (`/records/...`), with real tokens: members of other teams (an SRE, a helpdesk
//! agent, a viewer) get 404 as for a record nobody cited, a finance member reads it, redacted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::console::{FINANCE, HELPDESK, SRE, VIEWER, start_configured};
use opsline_e2e::session::sign_in;
use opsline_e2e::spawn_broker;
use opsline_events::logs::RawLog;
use opsline_events::{Envelope, topics};
use opsline_privacy::Redactor;
use serde_json::Value;

async fn api(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn page(url: &str, token: &str) -> (u16, String) {
    let session = sign_in(url, token).await;
    let response = reqwest::Client::new()
        .get(url)
        .header("cookie", session.cookie)
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_incidents_records_are_shown_only_to_its_team_and_redacted() {
    let broker = spawn_broker().await;
    let pipeline = start_configured(broker.config(), "consolerecords", "", |config| {
        config
            .incidents
            .restricted_teams
            .insert("apache".to_owned(), "finance".to_owned());
    })
    .await;
    let base = pipeline.console.url.clone();
    let raw_topic = pipeline.names.name(&topics::RAW_LOGS);
    assert!(
        pipeline
            .incidents
            .values()
            .all(|i| i.restricted_team.as_deref() == Some("finance")),
        "every apache incident is restricted"
    );
    // The cited records, and what each holds on the broker (read here directly).
    let mut cited: Vec<(i32, i64)> = pipeline
        .incidents
        .values()
        .flat_map(|i| &i.evidence)
        .filter(|e| e.topic == raw_topic)
        .map(|e| (e.partition, e.offset))
        .collect();
    cited.sort_unstable();
    cited.dedup();
    assert!(!cited.is_empty(), "the incidents cite raw-log records");
    let redactor = Redactor::default();
    let mut raw_lines = Vec::new();
    for &(partition, offset) in &cited {
        let record =
            opsline_kafka::reader::read_at(&pipeline.kafka, &raw_topic, partition, offset, Duration::from_secs(10))
                .await
                .expect("read")
                .expect("the cited record is on the broker");
        let raw = Envelope::<RawLog>::from_json(record.payload_bytes())
            .expect("a raw log")
            .data;
        raw_lines.push(raw.line);
    }
    // Prefer a record whose line holds something to redact (Apache's `[client <IP>]`).
    let pick = raw_lines
        .iter()
        .position(|line| redactor.redact(line) != *line)
        .unwrap_or(0);
    let (partition, offset) = cited[pick];
    let raw_line = &raw_lines[pick];
    let api_url = format!("{base}/v1/records/{partition}/{offset}");
    let page_url = format!("{base}/records/{partition}/{offset}");

    // Other teams: not found, like a record nobody cited (nothing says it exists).
    for token in [SRE, HELPDESK, VIEWER] {
        let (status, body) = api(&api_url, token).await;
        assert_eq!(status, 404, "{body}");
        assert!(!body.to_string().contains(raw_line.as_str()), "the line leaked: {body}");
        let (status, html) = page(&page_url, token).await;
        assert_eq!(status, 404);
        assert!(
            html.contains("class=\"error\"") && !html.contains("<pre class=\"record\">"),
            "{html}"
        );
    }
    // Without a token: 401.
    let anonymous = reqwest::get(&api_url).await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // The finance team reads it, redacted, with the incidents that cite it.
    let (status, record) = api(&api_url, FINANCE).await;
    assert_eq!(status, 200, "{record}");
    let shown = record["line"].as_str().unwrap();
    assert_eq!(shown, redactor.redact(raw_line), "redacted like every record");
    eprintln!("cited record {partition}@{offset}: {raw_line:?} shown as {shown:?}");
    assert_eq!(record["service"], "apache");
    let citing: Vec<&str> = record["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!citing.is_empty(), "{record}");
    assert!(
        citing
            .iter()
            .all(|id| pipeline.incidents.keys().any(|k| k.to_string() == *id))
    );
    let (status, html) = page(&page_url, FINANCE).await;
    assert_eq!(status, 200);
    assert!(html.contains("<pre class=\"record\">"), "{html}");
    assert!(
        html.contains(&format!("/incidents/{}", citing[0])),
        "links the citing incident: {html}"
    );

    pipeline.console.stop().await.expect("console stops cleanly");
    pipeline.logintel.stop().await.expect("logintel stops cleanly");
}
