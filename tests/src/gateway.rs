//! `spawn_gateway`: a real gateway on port 0 with its own topic prefix and the tests' ingest
//! key ([`INGEST_KEY`], unlimited rate), and `post_lines`: the one way tests send log lines
//! through it.

use opsline_events::TopicNames;
use opsline_gateway::{Gateway, GatewayConfig, IngestKeyConfig, hash_key};
use opsline_kafka::KafkaConfig;
use serde_json::Value;
use uuid::Uuid;

use crate::spawn::{Spawned, spawn};

/// The ingest key every gateway of the tests accepts (`Authorization: Bearer <INGEST_KEY>`).
pub const INGEST_KEY: &str = "opsline-e2e-ingest-key";

/// The name of [`INGEST_KEY`] (tickets sent with their own `ticket_id` get `e2e:<ticket_id>`).
pub const INGEST_KEY_NAME: &str = "e2e";

/// The tests' ingest key configuration: every endpoint and service, no rate limit.
pub fn test_key() -> IngestKeyConfig {
    let mut key = IngestKeyConfig::new(INGEST_KEY_NAME, hash_key(INGEST_KEY));
    key.requests_per_sec = 0.0;
    key
}

/// A client that sends [`INGEST_KEY`] with every request (for tests that talk only to the gateway).
pub fn ingest_client() -> reqwest::Client {
    ingest_client_builder().build().expect("client")
}

/// A client builder with [`INGEST_KEY`] as a default header.
pub fn ingest_client_builder() -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {INGEST_KEY}")).expect("header"),
    );
    reqwest::Client::builder().default_headers(headers)
}

/// Creates every topic under a unique prefix and starts a gateway on them.
pub async fn spawn_gateway(kafka: KafkaConfig, test: &str, tweak: impl FnOnce(&mut GatewayConfig)) -> Spawned<Gateway> {
    let names = TopicNames::with_prefix(crate::unique_prefix(test));
    opsline_kafka::admin::create_topics(&kafka, &names.all_to_create())
        .await
        .expect("create topics");
    let mut config = GatewayConfig {
        topic_prefix: names.prefix.clone(),
        kafka,
        keys: vec![test_key()],
        ..GatewayConfig::default()
    };
    tweak(&mut config);
    spawn::<Gateway>(config, ()).await
}

/// Posts `lines` of `service` to the gateway at `url` as NDJSON, 500 a request, and
/// returns the ids the gateway accepted (every request must be answered 202).
pub async fn post_lines(url: &str, service: &str, lines: &[impl AsRef<str>]) -> Vec<Uuid> {
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(lines.len());
    for chunk in lines.chunks(500) {
        let body: String = chunk
            .iter()
            .map(|line| {
                serde_json::json!({ "service": service, "source": "replay", "line": line.as_ref() }).to_string() + "\n"
            })
            .collect();
        let response = client
            .post(format!("{url}/v1/logs"))
            .bearer_auth(INGEST_KEY)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .expect("post");
        let status = response.status();
        let text = response.text().await.expect("answer");
        assert_eq!(status, 202, "{text}");
        let report: Value = serde_json::from_str(&text).expect("json answer");
        for id in report["ids"].as_array().expect("ids") {
            ids.push(id.as_str().and_then(|s| s.parse().ok()).expect("uuid"));
        }
    }
    ids
}
