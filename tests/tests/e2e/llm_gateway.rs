//! The LLM gateway against a real llama.cpp server with the SmolLM2 135M
//! model: a redacted ticket goes through the ticket-enrichment prompt and
//! comes back schema-valid (with the fallbacks and the repair request making
//! the tiny model reliable), the usage ledger gets one record per call, an
//! identical call is a cache hit, and once the server is gone calls fail fast
//! and the circuit breaker opens. Skipped with `OPSLINE_SKIP_LLM=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsline_e2e::llm::{SMALL_MODEL_NAME, llm_skipped, spawn_llama};
use opsline_events::ops::LlmUsage;
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{KafkaMetrics, Producer};
use opsline_llm::{
    BreakerConfig, BreakerState, LlmConfig, LlmError, LlmGateway, MemoryLedger, RetryConfig, StructuredRequest,
    TaskConfig,
};
use opsline_llm::{KafkaUsageSink, UsageSink};
use opsline_privacy::Redactor;
use opsline_runtime::metrics::Metrics;
use serde_json::Value;

const TASK: &str = "ticket_enrichment";
const PROMPT: &str = "ticket-enrichment";

fn config(base_url: &str) -> LlmConfig {
    let mut config = LlmConfig {
        enabled: true,
        base_url: base_url.to_owned(),
        timeout_secs: 240,
        max_concurrency: 1,
        cache_capacity: 16,
        breaker: BreakerConfig {
            failure_threshold: 2,
            open_secs: 600,
        },
        retry: RetryConfig {
            max_attempts: 2,
            min_delay_ms: 100,
            max_delay_ms: 500,
        },
        ..LlmConfig::default()
    };
    config.tasks.insert(
        TASK.into(),
        TaskConfig {
            model: SMALL_MODEL_NAME.into(),
            temperature: 0.0,
            max_tokens: 700,
            priority: None,
            budget: Default::default(),
        },
    );
    config
        .approved_models
        .insert(TASK.into(), vec![SMALL_MODEL_NAME.into()]);
    config
}

fn ticket_vars(subject: &str, description: &str) -> BTreeMap<String, String> {
    let mut session = Redactor::default().session();
    let subject = session.redact(subject);
    let description = session.redact(description);
    assert!(
        !description.contains("jane.doe@example.com"),
        "redacted before the model: {description}"
    );
    [
        ("subject", subject),
        ("description", description),
        ("queue", "network".to_owned()),
        ("priority", "P3".to_owned()),
        (
            "runbooks",
            "[runbooks/vpn-disconnects.md] VPN client disconnects after an update".to_owned(),
        ),
        (
            "similar_tickets",
            "[TCK-1042] VPN drops every few minutes (resolved: client 5.2 rollback)".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_answers_schema_valid_caches_and_fails_fast_when_gone() {
    if llm_skipped("llm_gateway") {
        return;
    }
    let mut llm = spawn_llama().await;
    let ledger = Arc::new(MemoryLedger::default());
    let gateway = LlmGateway::new(config(&llm.base_url), ledger.clone()).unwrap();
    let vars = ticket_vars(
        "VPN keeps disconnecting",
        "Since this morning's update my VPN drops every 5 minutes. Reach me at jane.doe@example.com or +44 20 7946 0958.",
    );
    let request = StructuredRequest {
        task: TASK,
        prompt_id: PROMPT,
        vars: &vars,
        admission: None,
    };

    let started = Instant::now();
    let first = match gateway.structured::<Value>(request.clone()).await {
        Ok(answer) => answer,
        Err(error) => panic!("structured call failed: {error}\nserver log:\n{}", llm.log()),
    };
    eprintln!("first answer after {:?}: {}", started.elapsed(), first.value);
    let prompt = gateway.prompt(PROMPT).unwrap();
    assert!(
        prompt.violations(&first.value).is_empty(),
        "schema-valid: {}",
        first.value
    );
    assert_eq!(first.prompt, "ticket-enrichment@4");
    assert_eq!(first.model, SMALL_MODEL_NAME);
    assert!(!first.cache_hit);
    let records = ledger.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, "ok");
    assert_eq!(records[0].task, TASK);
    assert!(
        records[0].prompt_tokens > 0 && records[0].completion_tokens > 0,
        "{:?}",
        records[0]
    );

    let second = gateway.structured::<Value>(request.clone()).await.unwrap();
    assert!(second.cache_hit);
    assert_eq!(second.value, first.value);
    let records = ledger.records();
    assert_eq!(records.len(), 2);
    assert!(records[1].cache_hit);
    assert_eq!((records[1].prompt_tokens, records[1].completion_tokens), (0, 0));

    // The server goes away: calls fail fast with an endpoint error, then the
    // breaker opens and calls fail without a request.
    llm.kill();
    let other = ticket_vars("Printer jammed", "Tray 2 jams on every job.");
    let other_request = StructuredRequest {
        task: TASK,
        prompt_id: PROMPT,
        vars: &other,
        admission: None,
    };
    let started = Instant::now();
    for _ in 0..2 {
        let error = gateway.structured::<Value>(other_request.clone()).await.unwrap_err();
        assert!(matches!(error, LlmError::Endpoint(_)), "{error}");
    }
    assert!(matches!(gateway.breaker_state(), BreakerState::Open { .. }));
    let error = gateway.structured::<Value>(other_request).await.unwrap_err();
    assert!(matches!(error, LlmError::CircuitOpen), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "failed fast: {:?}",
        started.elapsed()
    );
    let outcomes: Vec<String> = ledger.records().into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, ["ok", "ok", "error", "error", "circuit_open"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_records_reach_the_ledger_topic_without_blocking() {
    let broker = opsline_e2e::spawn_broker().await;
    let config = broker.config();
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix("llm-usage"));
    opsline_kafka::admin::create_topics(&config, &names.all_to_create())
        .await
        .unwrap();
    let producer = Producer::new(&config, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let sink = KafkaUsageSink::new(producer, &names, "llm-test");
    assert_eq!(sink.topic(), names.name(&topics::LLM_USAGE));
    let usage = LlmUsage {
        task: TASK.into(),
        cache_hit: true,
        ..LlmUsage::sample()
    };
    let started = Instant::now();
    sink.record(usage.clone());
    assert!(started.elapsed() < Duration::from_millis(100), "record must not block");
    let records = opsline_e2e::read_n(&config, sink.topic(), 1, Duration::from_secs(30)).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some(TASK.as_bytes()));
    let envelope: Envelope<LlmUsage> = records[0].envelope().unwrap();
    assert_eq!(envelope.data, usage);
    assert_eq!(envelope.source, "llm-test");
}
