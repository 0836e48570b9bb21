//! OpenTelemetry logs into the gateway from the stock OpenTelemetry SDKs, configured only by the
//! standard `OTEL_*` variables (installed by `scripts/install-sources.sh`): Python's OTLP/HTTP
//! protobuf exporter (PyPI), plain and gzip-compressed, and JavaScript's OTLP/HTTP JSON exporter
//! (npm). The records land on the raw logs topic once, with the resource's service and host, the
//! severity and the sender's trace id, and their events continue the sender's trace; an
//! undecodable body gets the OTLP 400 answer, and a record without a body is counted in
//! the partial-success answer and dead-lettered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_events::logs::RawLog;
use opsline_events::ops::DeadLetter;
use opsline_events::topics;

/// The SDK a client runs on.
#[derive(Clone, Copy)]
enum Sdk {
    /// Python, OTLP/HTTP protobuf.
    Python,
    /// JavaScript (Node), OTLP/HTTP JSON.
    Node,
}

fn client_command(sdk: Sdk) -> tokio::process::Command {
    let clients = opsline_e2e::repo_root().join("tests/clients");
    match sdk {
        Sdk::Python => {
            let python: PathBuf = opsline_e2e::repo_root().join(".opsline/venv-otel/bin/python");
            assert!(
                python.is_file(),
                "{} is missing: run scripts/install-sources.sh",
                python.display()
            );
            let mut command = tokio::process::Command::new(python);
            command.arg(clients.join("otlp_logs.py"));
            command
        }
        Sdk::Node => {
            assert!(
                clients
                    .join("node_modules/@opentelemetry/exporter-logs-otlp-http")
                    .is_dir(),
                "the OpenTelemetry JavaScript SDK is missing: run scripts/install-sources.sh"
            );
            let mut command = tokio::process::Command::new("node");
            command.arg(clients.join("otlp_logs.mjs"));
            command
        }
    }
}

/// Runs an SDK client: `count` records as `service` on `host`; returns the trace id it printed.
async fn send_with_sdk(sdk: Sdk, gateway: &str, service: &str, host: &str, count: usize, compression: &str) -> String {
    let output = client_command(sdk)
        .arg(count.to_string())
        .env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", format!("{gateway}/v1/logs"))
        .env("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", compression)
        // The SDKs' own way to send headers: the ingest key, `%20` for the space.
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization=Bearer%20{}", opsline_e2e::gateway::INGEST_KEY),
        )
        .env("OTEL_SERVICE_NAME", service)
        .env("OTEL_RESOURCE_ATTRIBUTES", format!("host.name={host}"))
        .output()
        .await
        .expect("run the OpenTelemetry client");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        output.status.success(),
        "the SDK's export failed: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opentelemetry_sdk_exporters_work_unchanged() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "otlp", |_| {}).await;
    let raw = gateway.names.name(&topics::RAW_LOGS);

    let plain = send_with_sdk(
        Sdk::Python,
        &gateway.url,
        "checkout",
        "web-1.example.internal",
        3,
        "none",
    )
    .await;
    let gzip = send_with_sdk(
        Sdk::Python,
        &gateway.url,
        "payments",
        "web-2.example.internal",
        2,
        "gzip",
    )
    .await;
    let json = send_with_sdk(
        Sdk::Node,
        &gateway.url,
        "inventory",
        "web-3.example.internal",
        2,
        "none",
    )
    .await;
    assert_eq!(plain.len(), 32, "trace id printed: {plain}");
    assert_eq!(json.len(), 32, "trace id printed: {json}");
    let trace_of = |service: &str| match service {
        "checkout" => plain.clone(),
        "payments" => gzip.clone(),
        _ => json.clone(),
    };

    let records = opsline_e2e::read_n(&gateway.kafka, &raw, 7, Duration::from_secs(60)).await;
    for record in &records {
        let envelope = record.envelope::<RawLog>().unwrap();
        let traceparent = envelope.trace.map(|t| t.traceparent).unwrap_or_default();
        let expected = trace_of(&envelope.data.service);
        assert!(
            traceparent.contains(&expected),
            "joins the sender's trace: {traceparent}"
        );
    }
    let logs: Vec<RawLog> = records.iter().map(|r| r.envelope::<RawLog>().unwrap().data).collect();
    assert_eq!(logs.len(), 7, "{logs:?}");
    for (service, host, severity, line, count) in [
        (
            "checkout",
            "web-1.example.internal",
            "ERROR",
            "payment provider timed out after 30",
            3,
        ),
        (
            "payments",
            "web-2.example.internal",
            "ERROR",
            "payment provider timed out after 30",
            2,
        ),
        (
            "inventory",
            "web-3.example.internal",
            "WARN",
            "stock level below threshold for sku 100",
            2,
        ),
    ] {
        let mine: Vec<&RawLog> = logs.iter().filter(|l| l.service == service).collect();
        assert_eq!(mine.len(), count, "{service}: {logs:?}");
        for log in mine {
            assert_eq!(log.source, "otlp");
            assert!(log.line.starts_with(line), "{}", log.line);
            assert_eq!(log.attributes.get("host.name").map(String::as_str), Some(host));
            assert_eq!(log.attributes.get("severity_text").map(String::as_str), Some(severity));
            assert_eq!(log.attributes.get("trace_id"), Some(&trace_of(service)));
            assert!(log.timestamp.is_some());
        }
    }
    let zoned = logs
        .iter()
        .filter(|l| l.attributes.get("warehouse.zone").map(String::as_str) == Some("b"));
    assert_eq!(zoned.count(), 2, "record attributes of the JSON export are kept");
    let metrics = opsline_e2e::scrape_metrics(&gateway.url).await;
    assert!(metrics.contains("/v1/logs (otlp)"), "per-source metrics: {metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_otlp_input_gets_otlp_answers_and_dead_letters() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "otlpbad", |_| {}).await;
    let client = opsline_e2e::gateway::ingest_client();
    let url = format!("{}/v1/logs", gateway.url);

    let garbage = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(vec![0xff_u8, 0xff, 0xff, 0x0f])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    assert_eq!(
        garbage.headers()["content-type"].to_str().unwrap(),
        "application/x-protobuf"
    );

    let export = serde_json::json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeLogs": [{"logRecords": [
            {"timeUnixNano": "1764979200000000000", "body": {"stringValue": "disk full on /var"}},
            {"timeUnixNano": "1764979200000000000"}
        ]}]
    }]});
    let partial = client.post(&url).json(&export).send().await.unwrap();
    assert_eq!(partial.status(), 200);
    let answer: serde_json::Value = partial.json().await.unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], "1", "{answer}");
    assert!(
        answer["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("empty body"),
        "{answer}"
    );

    let raw = gateway.names.name(&topics::RAW_LOGS);
    let accepted = opsline_e2e::read_n(&gateway.kafka, &raw, 1, Duration::from_secs(60)).await;
    assert_eq!(accepted[0].envelope::<RawLog>().unwrap().data.line, "disk full on /var");
    let rejected_topic = gateway.names.name(&topics::INGEST_REJECTED);
    let letters = opsline_e2e::read_n(&gateway.kafka, &rejected_topic, 1, Duration::from_secs(60)).await;
    let letter = letters[0].envelope::<DeadLetter>().unwrap().data;
    assert_eq!(letter.error_code, "invalid_record");
    assert!(letter.reason.contains("empty body"), "{}", letter.reason);

    // The same export again (an exporter's retry) carries the same event id.
    let again = client.post(&url).json(&export).send().await.unwrap();
    assert_eq!(again.status(), 200);
    let twice = opsline_e2e::read_n(&gateway.kafka, &raw, 2, Duration::from_secs(60)).await;
    assert_eq!(twice.len(), 2);
    assert_eq!(
        twice[0].envelope::<RawLog>().unwrap().id,
        twice[1].envelope::<RawLog>().unwrap().id
    );
}
