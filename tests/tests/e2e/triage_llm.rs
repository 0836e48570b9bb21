//! Triage with the real local model (llama-server + SmolLM2 135M, `spawn_llama`):
//! revision 1 is routed before the summary (revision 2) arrives, the answer is
//! schema-valid, the usage ledger has the call, an identical ticket hits the
//! cache, an LLM outage only removes the summary, and canary secrets never reach
//! the model endpoint (a recording proxy sits between the gateway and llama-server).
//!
//! Skipped with `OPSLINE_SKIP_LLM=1`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opsline_classify::{TrainConfig, read_labeled_csv, train};
use opsline_e2e::llm::{SMALL_MODEL_NAME, llm_skipped, spawn_llama};
use opsline_e2e::spawn::spawn;
use opsline_e2e::{shared_data, spawn_broker, unique_prefix};
use opsline_events::ops::LlmUsage;
use opsline_events::tickets::{RawTicket, RoutedTicket};
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{InRecord, KafkaConfig, KafkaMetrics, OutRecord, Producer};
use opsline_runtime::metrics::Metrics;
use opsline_triage::{Triage, TriageConfig};

const CANARIES: [&str; 3] = ["Canary-7f3a9c", "jane.canary@example.com", "4111 1111 1111 1111"];

/// A proxy that records every request body and forwards it to `upstream`.
async fn recording_proxy(upstream: String, recorded: Arc<Mutex<Vec<String>>>) -> String {
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: String| {
        let client = client.clone();
        let upstream = upstream.clone();
        let recorded = recorded.clone();
        async move {
            recorded.lock().unwrap().push(body.clone());
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = format!("{}{}", upstream.trim_end_matches("/v1"), path);
            match client
                .post(target)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(response) => {
                    let status = axum::http::StatusCode::from_u16(response.status().as_u16()).unwrap();
                    let text = response.text().await.unwrap_or_default();
                    (status, [("content-type", "application/json")], text)
                }
                Err(error) => (
                    axum::http::StatusCode::BAD_GATEWAY,
                    [("content-type", "application/json")],
                    format!("{{\"error\":\"{error}\"}}"),
                ),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/v1")
}

async fn read_all(kafka: &KafkaConfig, topic: &str) -> Vec<InRecord> {
    opsline_kafka::reader::read_until_idle(kafka, topic, Duration::from_secs(2), Duration::from_secs(30))
        .await
        .unwrap()
}

async fn routed(kafka: &KafkaConfig, names: &TopicNames) -> Vec<(i32, i64, RoutedTicket)> {
    read_all(kafka, &names.name(&topics::TICKETS_ROUTED))
        .await
        .iter()
        .map(|r| (r.partition, r.offset, r.envelope::<RoutedTicket>().unwrap().data))
        .collect()
}

async fn wait_for(
    kafka: &KafkaConfig,
    names: &TopicNames,
    max: Duration,
    done: impl Fn(&[(i32, i64, RoutedTicket)]) -> bool,
) -> Vec<(i32, i64, RoutedTicket)> {
    let deadline = Instant::now() + max;
    loop {
        let seen = routed(kafka, names).await;
        if done(&seen) || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn has(seen: &[(i32, i64, RoutedTicket)], id: &str, revision: u32) -> bool {
    seen.iter().any(|(_, _, r)| r.ticket_id == id && r.revision == revision)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrichment_with_the_local_model() {
    if llm_skipped("enrichment_with_the_local_model") {
        return;
    }
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let mut llm = spawn_llama().await;
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let proxy = recording_proxy(llm.base_url.clone(), recorded.clone()).await;

    let data = read_labeled_csv(shared_data().join("tickets/topic-train.csv"), &[], "").unwrap();
    let n = data.texts.len().min(3000);
    let model = train(&data.texts[..n], &data.labels[..n], &TrainConfig::default()).unwrap();
    let prefix = unique_prefix("triage_llm");
    let names = TopicNames::with_prefix(prefix.clone());
    let mut config = TriageConfig {
        topic_prefix: prefix,
        kafka: kafka.clone(),
        ..TriageConfig::default()
    };
    config.enrichment.runbooks_dir = Some(opsline_e2e::repo_root().join("runbooks"));
    config.llm.enabled = true;
    config.llm.base_url = proxy;
    config.llm.timeout_secs = 120;
    config.llm.retry.max_attempts = 1;
    config.llm.tasks.insert(
        "ticket_enrichment".into(),
        opsline_llm::TaskConfig {
            model: SMALL_MODEL_NAME.into(),
            temperature: 0.0,
            max_tokens: 200,
            priority: None,
            budget: Default::default(),
        },
    );
    config
        .llm
        .approved_models
        .insert("ticket_enrichment".into(), vec![SMALL_MODEL_NAME.into()]);
    let service = spawn::<Triage>(config, Some(model)).await;
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let send = |id: &str, description: &str| {
        let ticket = RawTicket {
            ticket_id: id.into(),
            requester: "jane@example.org".into(),
            subject: "VPN keeps disconnecting".into(),
            description: description.into(),
            channel: "portal".into(),
            service: None,
            attributes: BTreeMap::new(),
        };
        let envelope = Envelope::new("test", ticket);
        OutRecord::event(names.name(&topics::RAW_TICKETS), "jane@example.org", &envelope).unwrap()
    };
    let description = format!(
        "The VPN drops every few minutes. My login is password: {} and you can mail me at {} . \
         I paid the licence with card {} .",
        CANARIES[0], CANARIES[1], CANARIES[2]
    );

    // 1. Routed first, enriched later.
    producer.send(&send("T-1", &description)).await.unwrap();
    let seen = wait_for(&kafka, &names, Duration::from_secs(240), |s| has(s, "T-1", 2)).await;
    let first = seen
        .iter()
        .find(|(_, _, r)| r.ticket_id == "T-1" && r.revision == 1)
        .expect("revision 1");
    let second = seen
        .iter()
        .find(|(_, _, r)| r.ticket_id == "T-1" && r.revision == 2)
        .unwrap_or_else(|| panic!("no revision 2; llama log:\n{}", llm.log()));
    assert_eq!(first.0, second.0, "same partition (keyed by ticket id)");
    assert!(first.1 < second.1, "revision 1 precedes revision 2");
    let enriched = &second.2;
    assert!(!enriched.summary.as_deref().unwrap_or("").is_empty());
    assert!(!enriched.suggested_reply.as_deref().unwrap_or("").is_empty());
    assert_eq!(
        (enriched.queue.as_str(), enriched.priority),
        (first.2.queue.as_str(), first.2.priority)
    );
    assert!(
        enriched
            .enrichment_model
            .as_deref()
            .unwrap()
            .contains("ticket-enrichment")
    );
    assert!(
        !enriched.summary.as_deref().unwrap().contains(CANARIES[0]),
        "credentials are never restored"
    );

    // 2. The ledger has the call; an identical ticket hits the cache.
    producer.send(&send("T-2", &description)).await.unwrap();
    wait_for(&kafka, &names, Duration::from_secs(120), |s| has(s, "T-2", 2)).await;
    let ledger: Vec<LlmUsage> = read_all(&kafka, &names.name(&topics::LLM_USAGE))
        .await
        .iter()
        .map(|r| r.envelope::<LlmUsage>().unwrap().data)
        .collect();
    assert!(
        ledger.iter().any(|u| u.task == "ticket_enrichment" && !u.cache_hit),
        "{ledger:?}"
    );
    assert!(
        ledger.iter().any(|u| u.task == "ticket_enrichment" && u.cache_hit),
        "{ledger:?}"
    );

    // 3. An LLM outage changes nothing but the missing summary.
    llm.kill();
    producer
        .send(&send("T-3", "My VPN drops again since the update."))
        .await
        .unwrap();
    let seen = wait_for(&kafka, &names, Duration::from_secs(60), |s| has(s, "T-3", 1)).await;
    assert!(has(&seen, "T-3", 1), "routing works without the model");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!has(&routed(&kafka, &names).await, "T-3", 2));

    // 4. No canary ever reached the model endpoint.
    let bodies = recorded.lock().unwrap().clone();
    assert!(!bodies.is_empty());
    for body in &bodies {
        for canary in CANARIES {
            assert!(!body.contains(canary), "{canary} reached the model: {body}");
        }
    }
    service.stop().await.unwrap();
}
