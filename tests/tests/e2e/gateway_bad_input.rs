//! 1,000 malformed inputs of 14 kinds: each gets a clear 4xx with a JSON reason
//! (and, for record-level errors, a dead letter with the original bytes); the
//! good records beside them arrive; nothing crashes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_events::ops::DeadLetter;
use opsline_events::topics;
use serde_json::Value;

/// Record-level malformations: (expected code, NDJSON line bytes).
fn bad_lines(i: usize) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "invalid_json",
            format!("{{\"service\":\"svc\",\"line\":\"unterminated {i}").into_bytes(),
        ),
        ("invalid_json", b"not json at all".to_vec()),
        (
            "invalid_record",
            format!("{{\"line\":\"no service {i}\"}}").into_bytes(),
        ),
        ("invalid_record", b"{\"service\":\"svc\"}".to_vec()),
        (
            "invalid_record",
            format!("{{\"service\":\"svc\",\"line\":{i}}}").into_bytes(),
        ),
        (
            "invalid_record",
            format!("{{\"service\":\"svc\",\"line\":\"x\",\"unexpected\":{i}}}").into_bytes(),
        ),
        ("invalid_record", b"[\"an\",\"array\"]".to_vec()),
        (
            "invalid_record",
            b"{\"service\":\"svc\",\"line\":\"x\",\"timestamp\":\"yesterday\"}".to_vec(),
        ),
        (
            "invalid_record",
            b"{\"service\":\"svc\",\"line\":\"x\",\"id\":\"not-a-uuid\"}".to_vec(),
        ),
        (
            "schema_violation",
            b"{\"service\":\"\",\"line\":\"empty service\"}".to_vec(),
        ),
        (
            "invalid_utf8",
            [
                b"{\"service\":\"svc\",\"line\":\"".as_slice(),
                &[0xff, 0xfe, 0xc3],
                b"\"}",
            ]
            .concat(),
        ),
        (
            "record_too_large",
            format!("{{\"service\":\"svc\",\"line\":\"{}\"}}", "x".repeat(5_000)).into_bytes(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_inputs_get_reasons_and_good_records_arrive() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "badinput", |c| {
        c.max_record_bytes = 4_096;
        c.max_body_bytes = 1_000_000;
    })
    .await;
    // No connection reuse: the gateway closes a connection whose oversized body it refused
    // unread, and a pooled client could otherwise write the next request into it.
    let client = opsline_e2e::gateway::ingest_client_builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let logs = format!("{}/v1/logs", gateway.url);
    let mut good_ids = Vec::new();
    let mut bad_count = 0usize;
    let mut kinds = std::collections::BTreeSet::new();

    // 75 mixed NDJSON requests: 12 bad kinds beside 2 good lines each -> 900 bad records.
    for i in 0..75 {
        let bad = bad_lines(i);
        let mut body = Vec::new();
        body.extend_from_slice(format!("{{\"service\":\"svc\",\"line\":\"good before {i}\"}}\n").as_bytes());
        for (_, line) in &bad {
            body.extend_from_slice(line);
            body.push(b'\n');
        }
        body.extend_from_slice(format!("{{\"service\":\"svc\",\"line\":\"good after {i}\"}}\n").as_bytes());
        let response = client
            .post(&logs)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "mixed batch accepted");
        let report: Value = response.json().await.unwrap();
        assert_eq!(report["accepted"], 2);
        let rejected = report["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), bad.len());
        for (entry, (code, _)) in rejected.iter().zip(&bad) {
            assert_eq!(entry["code"], *code, "{entry}");
            assert!(!entry["reason"].as_str().unwrap().is_empty());
            kinds.insert(*code);
        }
        bad_count += rejected.len();
        good_ids.extend(
            report["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
    }

    // Request-level malformations, 100 in all.
    type Case = (&'static str, &'static str, Vec<u8>, u16, &'static str);
    let request_cases: Vec<Case> = vec![
        (
            "/v1/logs",
            "text/plain",
            b"a line without service param".to_vec(),
            400,
            "bad_request",
        ),
        (
            "/v1/logs",
            "application/xml",
            b"<log/>".to_vec(),
            415,
            "unsupported_media_type",
        ),
        ("/v1/logs", "application/x-ndjson", b"\n\n".to_vec(), 400, "empty_body"),
        (
            "/v1/logs",
            "application/x-ndjson",
            vec![b'x'; 1_100_000],
            413,
            "body_too_large",
        ),
        (
            "/v1/tickets",
            "application/json",
            b"{\"requester\":".to_vec(),
            400,
            "bad_request",
        ),
        (
            "/v1/tickets",
            "application/json",
            b"{\"requester\":\"bob\"}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "/v1/tickets",
            "application/json",
            b"{\"requester\":\"\",\"subject\":\"x\"}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "/v1/tickets",
            "text/plain",
            b"help".to_vec(),
            415,
            "unsupported_media_type",
        ),
        ("/v1/tickets", "application/json", vec![0xff, 0xfe], 400, "bad_request"),
        (
            "/v1/tickets",
            "application/json",
            b"[1, \"two\"]".to_vec(),
            400,
            "invalid_input",
        ),
    ];
    for round in 0..10 {
        for (path, media, body, status, code) in &request_cases {
            let sent = client
                .post(format!("{}{path}", gateway.url))
                .header("content-type", *media)
                .body(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                // An oversized body is refused as soon as its length is known: the gateway may answer
                // 413 and close before the client has written the rest (a broken pipe on its side).
                Err(error) if *status == 413 && error.is_request() => {
                    kinds.insert(code);
                    bad_count += 1;
                    continue;
                }
                Err(error) => panic!("{path} {media} round {round}: {error}"),
            };
            assert_eq!(response.status().as_u16(), *status, "{path} {media} round {round}");
            let json: Value = response.json().await.unwrap();
            assert_eq!(json["error"], *code, "{json}");
            assert!(!json["reason"].as_str().unwrap_or_default().is_empty(), "{json}");
            kinds.insert(code);
            bad_count += 1;
        }
    }
    assert!(bad_count >= 1_000, "{bad_count}");
    assert!(kinds.len() >= 10, "{kinds:?}");

    // A good ticket still works.
    let ticket = client
        .post(format!("{}/v1/tickets", gateway.url))
        .header("content-type", "application/json")
        .body(r#"{"requester":"alice@example.com","subject":"VPN down","description":"since 9am"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ticket.status(), 202);

    // Every good record arrived; every record-level rejection is a dead letter with its bytes.
    let raw = gateway.names.name(&topics::RAW_LOGS);
    let records = opsline_e2e::read_n(&gateway.kafka, &raw, good_ids.len(), Duration::from_secs(60)).await;
    let mut arrived: Vec<String> = records
        .iter()
        .map(|r| r.envelope::<opsline_events::logs::RawLog>().unwrap().id.to_string())
        .collect();
    arrived.sort();
    good_ids.sort();
    assert_eq!(arrived, good_ids);
    let rejected_topic = gateway.names.name(&topics::INGEST_REJECTED);
    let letters = opsline_e2e::read_n(&gateway.kafka, &rejected_topic, 900, Duration::from_secs(60)).await;
    assert!(letters.len() >= 900, "{} dead letters", letters.len());
    let first = letters[0].envelope::<DeadLetter>().unwrap();
    assert_eq!(first.data.original_topic, "/v1/logs");
    assert!(!first.data.payload_base64.is_empty());

    // The gateway is still healthy.
    let health = client.get(format!("{}/healthz", gateway.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = opsline_e2e::scrape_metrics(&gateway.url).await;
    assert!(metrics.contains("opsline_gateway_rejected_records_total"), "{metrics}");
}
