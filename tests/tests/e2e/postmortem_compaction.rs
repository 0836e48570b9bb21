//! Hardening issue, item 10: reviewed postmortems stay reviewed across restart and
//! compaction. Compaction keeps the record written last per key; the service keeps the
//! highest (status, revision). A narrative finished while a reviewer marked the draft
//! reviewed is written after the review: compacted, the topic would keep that draft and a
//! restart would forget the review. The service writes the winner again behind such a
//! record, so the last record per key is always the winner. Real broker and service; the
//! compaction is done by copying the last record per key to a fresh topic (what the broker's
//! cleaner keeps), on which a fresh service starts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use opsline_e2e::postmortem::spawn_postmortem;
use opsline_e2e::{read_n, spawn_broker, unique_prefix};
use opsline_events::ops::{Postmortem, PostmortemStatus};
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{KafkaConfig, KafkaMetrics, OutRecord, Producer};
use opsline_postmortem::{Role, TokenConfig, hash_token};
use serde_json::Value;

const SRE: &str = "compaction-sre-token";

fn tokens() -> Vec<TokenConfig> {
    vec![TokenConfig {
        name: "sam".into(),
        role: Role::Sre,
        teams: Vec::new(),
        sha256: hash_token(SRE),
    }]
}

async fn produce(kafka: &KafkaConfig, topic: &str, postmortems: &[Postmortem]) {
    let producer = Producer::new(
        kafka,
        &KafkaMetrics::register(&opsline_runtime::metrics::Metrics::new()),
    )
    .unwrap();
    for postmortem in postmortems {
        let key = postmortem.postmortem_id.to_string();
        let record = OutRecord::event(topic.to_owned(), &key, &Envelope::new("e2e", postmortem.clone())).unwrap();
        producer.send(&record).await.unwrap();
    }
}

async fn create(kafka: &KafkaConfig, test: &str) -> TopicNames {
    let names = TopicNames::with_prefix(unique_prefix(test));
    opsline_kafka::admin::create_topics(kafka, &names.all_to_create())
        .await
        .expect("create topics");
    names
}

/// The postmortem's status as the service answers it (waits up to 30 s for `wanted`).
async fn status_of(url: &str, id: &str, wanted: &str) -> String {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = client
            .get(format!("{url}/v1/postmortems/{id}/outline"))
            .bearer_auth(SRE)
            .send()
            .await
            .unwrap();
        let ok = response.status() == 200;
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let status = body["status"].as_str().unwrap_or_default().to_owned();
        if (ok && status == wanted) || tokio::time::Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reviewed_postmortems_stay_reviewed_across_restart_and_compaction() {
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = create(&kafka, "pmcompact").await;
    let topic = names.name(&topics::POSTMORTEMS);
    let service = spawn_postmortem(kafka.clone(), &names, tokens(), |_| {}).await;

    // The race, written in the order it happens: the draft, the review of it, then the
    // narrative built on the draft (the same revision number as the review, lower status).
    let draft = Postmortem::sample();
    let id = draft.postmortem_id.to_string();
    let reviewed = Postmortem {
        status: PostmortemStatus::Reviewed,
        reviewer: Some("sam".into()),
        revision: 2,
        ..draft.clone()
    };
    let late_narrative = Postmortem {
        model: "qwen2.5-coder-1.5b".into(),
        markdown: format!("{}\nA narrative.\n", draft.markdown),
        revision: 2,
        ..draft.clone()
    };
    produce(&kafka, &topic, &[draft, reviewed, late_narrative]).await;
    assert_eq!(status_of(&service.url, &id, "reviewed").await, "reviewed");

    // The service wrote the review again behind the late draft.
    let records = read_n(&kafka, &topic, 4, Duration::from_secs(30)).await;
    assert_eq!(records.len(), 4, "the winner was written again");
    let mut last_per_key: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for record in &records {
        last_per_key.insert(record.key.clone().unwrap_or_default(), record.payload_bytes().to_vec());
    }
    let compacted: Vec<Postmortem> = last_per_key
        .values()
        .map(|payload| Envelope::<Postmortem>::from_json(payload).unwrap().data)
        .collect();
    assert_eq!(compacted.len(), 1);
    assert_eq!(
        compacted[0].status,
        PostmortemStatus::Reviewed,
        "compaction keeps the review"
    );
    service.stop().await.expect("service ran without error");

    // A fresh service on the compacted topic: still reviewed.
    let after = create(&kafka, "pmcompacted").await;
    produce(&kafka, &after.name(&topics::POSTMORTEMS), &compacted).await;
    let restarted = spawn_postmortem(kafka.clone(), &after, tokens(), |_| {}).await;
    assert_eq!(status_of(&restarted.url, &id, "reviewed").await, "reviewed");
    restarted.stop().await.expect("restarted service ran without error");
}
