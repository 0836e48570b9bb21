//! `spawn_gateway`: a real gateway on port 0 with its own topic prefix, and
//! `post_lines`: the one way tests send log lines through it.

use opsline_events::TopicNames;
use opsline_gateway::{Gateway, GatewayConfig};
use opsline_kafka::KafkaConfig;
use serde_json::Value;
use uuid::Uuid;

use crate::spawn::{Spawned, spawn};

/// Creates every topic under a unique prefix and starts a gateway on them.
pub async fn spawn_gateway(kafka: KafkaConfig, test: &str, tweak: impl FnOnce(&mut GatewayConfig)) -> Spawned<Gateway> {
    let names = TopicNames::with_prefix(crate::unique_prefix(test));
    opsline_kafka::admin::create_topics(&kafka, &names.all_to_create())
        .await
        .expect("create topics");
    let mut config = GatewayConfig {
        topic_prefix: names.prefix.clone(),
        kafka,
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
