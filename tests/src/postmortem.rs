//! `spawn_postmortem`: a real postmortem service on port 0 on a test's topics, with its own
//! consumer groups and the repository's runbooks.

use opsline_events::TopicNames;
use opsline_kafka::KafkaConfig;
use opsline_postmortem::{PostmortemConfig, PostmortemService, TokenConfig};

use crate::spawn::{Spawned, spawn_on};

/// Starts a postmortem service on the topics of `names` (already created) with these API
/// tokens; `tweak` adjusts the configuration before the build.
pub async fn spawn_postmortem(
    kafka: KafkaConfig,
    names: &TopicNames,
    tokens: Vec<TokenConfig>,
    tweak: impl FnOnce(&mut PostmortemConfig),
) -> Spawned<PostmortemService> {
    spawn_postmortem_on(kafka, names, tokens, "127.0.0.1:0", tweak).await
}

/// [`spawn_postmortem`] listening on `listen` (see `spawn::reserve_loopback`).
pub async fn spawn_postmortem_on(
    kafka: KafkaConfig,
    names: &TopicNames,
    tokens: Vec<TokenConfig>,
    listen: &str,
    tweak: impl FnOnce(&mut PostmortemConfig),
) -> Spawned<PostmortemService> {
    let mut config = PostmortemConfig {
        topic_prefix: names.prefix.clone(),
        group_id: format!("{}postmortem", names.prefix),
        index_group_id: format!("{}postmortem-index", names.prefix),
        runbooks_dir: Some(crate::repo_root().join("runbooks")),
        tokens,
        kafka,
        ..PostmortemConfig::default()
    };
    tweak(&mut config);
    // The workspace's reqwest has no default TLS provider; tests' HTTP clients need one.
    opsline_llm::endpoint::install_crypto_provider();
    spawn_on::<PostmortemService>(config, None, listen).await
}

/// Produces `alert` and the resolved `incident` citing it onto the test's topics.
pub async fn publish_incident(
    kafka: &KafkaConfig,
    names: &TopicNames,
    incident: &opsline_events::logs::Incident,
    alert: &opsline_events::logs::Alert,
) {
    use opsline_events::{Envelope, topics};
    use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
    let producer = Producer::new(
        kafka,
        &KafkaMetrics::register(&opsline_runtime::metrics::Metrics::new()),
    )
    .expect("producer");
    let records = [
        (
            names.name(&topics::ALERTS),
            alert.service.clone(),
            Envelope::new("e2e", alert.clone()).to_json().expect("json"),
        ),
        (
            names.name(&topics::INCIDENTS),
            incident.incident_id.to_string(),
            Envelope::new("e2e", incident.clone()).to_json().expect("json"),
        ),
    ];
    for (topic, key, payload) in records {
        producer
            .send(&OutRecord::new(topic, Some(&key), payload))
            .await
            .expect("produce");
    }
}

/// Waits until postmortem `id` answers 200 to `token` at `url` (at most `max`).
pub async fn wait_for_postmortem(url: &str, token: &str, id: &str, max: std::time::Duration) {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + max;
    loop {
        let status = client
            .get(format!("{url}/v1/postmortems/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("postmortem service answers")
            .status();
        if status == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "postmortem {id} not drafted in {max:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
