//! The gateway against a stand-in OpenAI-compatible server (axum on port 0):
//! response-format fallback, fenced answers, repair, length, retries,
//! timeouts, the circuit breaker, the cache, the ledger and the metrics.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use opsline_llm::{
    BreakerState, LlmConfig, LlmError, LlmGateway, MemoryLedger, PriceConfig, RetryConfig, StructuredRequest,
    TaskConfig,
};
use serde::Deserialize;
use serde_json::{Value, json};

type Reply = (StatusCode, Value, Duration);
type Handler = Arc<dyn Fn(&Value, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct StubState {
    handler: Handler,
    requests: Arc<Mutex<Vec<Value>>>,
}

struct Stub {
    base_url: String,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl Stub {
    fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

async fn completions(State(state): State<StubState>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let n = {
        let mut requests = state.requests.lock().unwrap();
        requests.push(body.clone());
        requests.len() - 1
    };
    let (status, value, delay) = (state.handler)(&body, n);
    tokio::time::sleep(delay).await;
    (status, Json(value))
}

async fn stub(handler: impl Fn(&Value, usize) -> Reply + Send + Sync + 'static) -> Stub {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let state = StubState {
        handler: Arc::new(handler),
        requests: requests.clone(),
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Stub {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        requests,
    }
}

fn completion(content: &str, finish: &str) -> Reply {
    let body = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "stub-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    });
    (StatusCode::OK, body, Duration::ZERO)
}

fn error(status: StatusCode, message: &str) -> Reply {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    (status, body, Duration::ZERO)
}

const GOOD: &str = r#"{"reply": "Your VPN access is being restored."}"#;

fn config(base_url: &str) -> LlmConfig {
    let mut config = LlmConfig {
        enabled: true,
        base_url: base_url.to_owned(),
        timeout_secs: 5,
        retry: RetryConfig {
            max_attempts: 1,
            min_delay_ms: 10,
            max_delay_ms: 20,
        },
        ..LlmConfig::default()
    };
    config.tasks.insert(
        "chat_reply".into(),
        TaskConfig {
            model: "stub-model".into(),
            temperature: 0.0,
            max_tokens: 200,
            priority: None,
            budget: Default::default(),
        },
    );
    config
        .approved_models
        .insert("chat_reply".into(), vec!["stub-model".into()]);
    config.prices.insert(
        "stub-model".into(),
        PriceConfig {
            prompt_per_1k: 1.0,
            completion_per_1k: 2.0,
        },
    );
    config
}

fn vars(facts: &str) -> BTreeMap<String, String> {
    [
        ("intent".to_owned(), "vpn_access".to_owned()),
        ("facts".to_owned(), facts.to_owned()),
    ]
    .into_iter()
    .collect()
}

#[derive(Debug, Deserialize, PartialEq)]
struct ChatReply {
    reply: String,
}

async fn ask(gateway: &LlmGateway, facts: &str) -> Result<opsline_llm::StructuredOutput<ChatReply>, LlmError> {
    let vars = vars(facts);
    gateway
        .structured::<ChatReply>(StructuredRequest {
            task: "chat_reply",
            prompt_id: "chat-reply",
            vars: &vars,
            admission: None,
        })
        .await
}

fn gateway(config: LlmConfig) -> (LlmGateway, Arc<MemoryLedger>) {
    let ledger = Arc::new(MemoryLedger::default());
    (LlmGateway::new(config, ledger.clone()).unwrap(), ledger)
}

fn format_type(request: &Value) -> Option<&str> {
    request
        .get("response_format")
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str)
}

#[tokio::test]
async fn json_schema_rejected_falls_back_to_json_object_and_remembers() {
    let server = stub(|request, _| match format_type(request) {
        Some("json_schema") => error(StatusCode::BAD_REQUEST, "json_schema is not supported"),
        _ => completion(GOOD, "stop"),
    })
    .await;
    let (gateway, ledger) = gateway(config(&server.base_url));
    let answer = ask(&gateway, "access restored").await.unwrap();
    assert_eq!(answer.value.reply, "Your VPN access is being restored.");
    assert_eq!(answer.prompt, "chat-reply@1");
    assert_eq!(answer.model, "stub-model");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(format_type(&requests[0]), Some("json_schema"));
    assert_eq!(requests[0]["response_format"]["json_schema"]["strict"], json!(true));
    assert_eq!(format_type(&requests[1]), Some("json_object"));
    ask(&gateway, "another").await.unwrap();
    assert_eq!(server.count(), 3, "the accepted format is remembered");
    assert_eq!(format_type(&server.requests()[2]), Some("json_object"));
    assert_eq!(ledger.records().len(), 2);
}

#[tokio::test]
async fn plain_text_with_fences_when_no_response_format_is_accepted() {
    let server = stub(|request, _| match format_type(request) {
        Some(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": "unknown field"}),
            Duration::ZERO,
        ),
        None => completion(&format!("Here you go:\n```json\n{GOOD}\n```"), "stop"),
    })
    .await;
    let (gateway, _) = gateway(config(&server.base_url));
    let answer = ask(&gateway, "x").await.unwrap();
    assert_eq!(answer.value.reply, "Your VPN access is being restored.");
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn invalid_answer_is_repaired_once() {
    let server = stub(|_, n| {
        if n == 0 {
            completion(r#"{"answer": 42}"#, "stop")
        } else {
            completion(GOOD, "stop")
        }
    })
    .await;
    let (gateway, ledger) = gateway(config(&server.base_url));
    let answer = ask(&gateway, "x").await.unwrap();
    assert!(!answer.cache_hit);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let messages = requests[1]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["role"], "assistant");
    assert!(messages[3]["content"].as_str().unwrap().contains("not valid"));
    let records = ledger.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, "ok");
    assert_eq!((records[0].prompt_tokens, records[0].completion_tokens), (200, 40));
    assert!((records[0].cost - (0.2 + 0.08)).abs() < 1e-9, "{}", records[0].cost);
}

#[tokio::test]
async fn still_invalid_after_repair_is_invalid_output() {
    let server = stub(|_, _| completion("I cannot answer that.", "stop")).await;
    let (gateway, ledger) = gateway(config(&server.base_url));
    let error = ask(&gateway, "x").await.unwrap_err();
    assert!(matches!(error, LlmError::InvalidOutput(_)), "{error}");
    assert_eq!(server.count(), 2);
    assert_eq!(ledger.records()[0].outcome, "invalid_output");
    assert_eq!(
        gateway.breaker_state(),
        BreakerState::Closed { failures: 0 },
        "the endpoint itself works"
    );
}

#[tokio::test]
async fn length_finish_is_a_failure() {
    let server = stub(|_, _| completion(GOOD, "length")).await;
    let (gateway, ledger) = gateway(config(&server.base_url));
    let error = ask(&gateway, "x").await.unwrap_err();
    assert!(
        matches!(error, LlmError::InvalidOutput(ref m) if m.contains("token limit")),
        "{error}"
    );
    assert_eq!(ledger.records()[0].outcome, "invalid_output");
}

#[tokio::test]
async fn transient_errors_are_retried() {
    let server = stub(|_, n| {
        if n == 0 {
            error(StatusCode::SERVICE_UNAVAILABLE, "loading model")
        } else {
            completion(GOOD, "stop")
        }
    })
    .await;
    let mut config = config(&server.base_url);
    config.retry.max_attempts = 3;
    let (gateway, _) = gateway(config);
    ask(&gateway, "x").await.unwrap();
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn slow_endpoint_times_out() {
    let server = stub(|_, _| (StatusCode::OK, json!({}), Duration::from_secs(30))).await;
    let mut config = config(&server.base_url);
    config.timeout_secs = 1;
    let (gateway, ledger) = gateway(config);
    let started = std::time::Instant::now();
    let error = ask(&gateway, "x").await.unwrap_err();
    assert!(
        matches!(error, LlmError::Endpoint(ref m) if m.contains("timed out")),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(ledger.records()[0].outcome, "error");
}

#[tokio::test]
async fn breaker_opens_after_the_threshold_and_closes_after_a_good_trial() {
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = healthy.clone();
    let server = stub(move |_, _| {
        if flag.load(Ordering::SeqCst) {
            completion(GOOD, "stop")
        } else {
            error(StatusCode::BAD_GATEWAY, "down")
        }
    })
    .await;
    let mut config = config(&server.base_url);
    config.breaker.failure_threshold = 2;
    config.breaker.open_secs = 1;
    let (gateway, ledger) = gateway(config);
    for _ in 0..2 {
        assert!(matches!(ask(&gateway, "x").await, Err(LlmError::Endpoint(_))));
    }
    assert!(matches!(gateway.breaker_state(), BreakerState::Open { .. }));
    assert!(matches!(ask(&gateway, "x").await, Err(LlmError::CircuitOpen)));
    assert_eq!(server.count(), 2, "no HTTP call while open");
    let outcomes: Vec<String> = ledger.records().into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, ["error", "error", "circuit_open"]);
    healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    ask(&gateway, "x").await.unwrap();
    assert_eq!(gateway.breaker_state(), BreakerState::Closed { failures: 0 });
}

#[tokio::test]
async fn identical_request_is_a_cache_hit_in_the_ledger() {
    let server = stub(|_, _| completion(GOOD, "stop")).await;
    let (gateway, ledger) = gateway(config(&server.base_url));
    let first = ask(&gateway, "same facts").await.unwrap();
    let second = ask(&gateway, "same facts").await.unwrap();
    assert!(!first.cache_hit && second.cache_hit);
    assert_eq!(first.value, second.value);
    assert_eq!(server.count(), 1);
    ask(&gateway, "other facts").await.unwrap();
    assert_eq!(server.count(), 2);
    let records = ledger.records();
    assert_eq!(records.len(), 3);
    assert!(records[1].cache_hit);
    assert_eq!(
        (records[1].prompt_tokens, records[1].completion_tokens, records[1].cost),
        (0, 0, 0.0)
    );
    assert_eq!(records[1].outcome, "ok");
    assert_eq!(records[1].prompt, "chat-reply@1");
    assert_ne!(records[0].call_id, records[1].call_id);
}

#[tokio::test]
async fn metrics_count_calls_and_cache_hits() {
    let server = stub(|_, _| completion(GOOD, "stop")).await;
    let metrics = opsline_runtime::metrics::Metrics::new();
    let (gateway, _) = gateway(config(&server.base_url));
    let gateway = gateway.with_metrics(&metrics);
    ask(&gateway, "m").await.unwrap();
    ask(&gateway, "m").await.unwrap();
    let text = metrics.encode();
    assert!(
        text.contains(r#"opsline_llm_calls_total{task="chat_reply",outcome="ok"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"opsline_llm_cache_hits_total{task="chat_reply"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn disabled_gateway_answers_disabled() {
    assert!(!LlmGateway::disabled().is_enabled());
    assert!(matches!(
        ask(&LlmGateway::disabled(), "x").await,
        Err(LlmError::Disabled)
    ));
    let (gateway, ledger) = gateway(LlmConfig::default());
    assert!(!gateway.is_enabled());
    assert!(matches!(ask(&gateway, "x").await, Err(LlmError::Disabled)));
    assert!(ledger.records().is_empty());
}

#[tokio::test]
async fn configuration_errors() {
    let mut unapproved = config("http://127.0.0.1:9/v1");
    unapproved.approved_models.clear();
    assert!(matches!(
        LlmGateway::new(unapproved, Arc::new(MemoryLedger::default())),
        Err(LlmError::Config(_))
    ));
    let (gateway, _) = gateway(config("http://127.0.0.1:9/v1"));
    let vars = vars("x");
    let unknown = gateway
        .structured::<ChatReply>(StructuredRequest {
            task: "chat_reply",
            prompt_id: "nope",
            vars: &vars,
            admission: None,
        })
        .await;
    assert!(matches!(unknown, Err(LlmError::Config(_))));
    let wrong_task = gateway
        .structured::<ChatReply>(StructuredRequest {
            task: "other",
            prompt_id: "chat-reply",
            vars: &vars,
            admission: None,
        })
        .await;
    assert!(matches!(wrong_task, Err(LlmError::Config(_))));
    let missing = BTreeMap::new();
    let missing_var = gateway
        .structured::<ChatReply>(StructuredRequest {
            task: "chat_reply",
            prompt_id: "chat-reply",
            vars: &missing,
            admission: None,
        })
        .await;
    assert!(matches!(missing_var, Err(LlmError::Config(_))));
}

#[tokio::test]
async fn config_deserializes_with_defaults_and_rejects_unknown_keys() {
    let config: LlmConfig = serde_json::from_value(json!({
        "enabled": true, "base_url": "http://x/v1", "api_key": "sk-test",
        "tasks": {"chat_reply": {"model": "m"}}, "approved_models": {"chat_reply": ["m"]},
        "breaker": {"failure_threshold": 3}
    }))
    .unwrap();
    assert_eq!(config.tasks["chat_reply"].max_tokens, 512);
    assert_eq!(config.breaker.failure_threshold, 3);
    assert_eq!(config.breaker.open_secs, 30);
    assert!(!format!("{config:?}").contains("sk-test"), "the key never reaches logs");
    assert!(serde_json::from_value::<LlmConfig>(json!({"enabld": true})).is_err());
}

#[test]
fn other_http_clients_in_the_process_still_build() {
    // reqwest stays TLS-free (the gateway owns its rustls/ring transport), so
    // a plain client elsewhere in a process that links opsline-llm never panics
    // for want of a crypto provider.
    let _client = reqwest::Client::new();
}

#[tokio::test]
async fn https_endpoint_gets_a_tls_transport() {
    let mut config = config("https://llm.example.invalid/v1");
    config.retry.max_attempts = 1;
    match LlmGateway::new(config, Arc::new(MemoryLedger::default())) {
        Ok(gateway) => assert!(matches!(ask(&gateway, "x").await, Err(LlmError::Endpoint(_)))),
        Err(LlmError::Config(message)) => assert!(message.contains("root certificates"), "{message}"),
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn cache_prompt_is_sent_only_when_configured_and_cached_tokens_are_recorded() {
    let stub = stub(|_, _| {
        let (status, mut body, delay) = completion(GOOD, "stop");
        body["usage"]["prompt_tokens_details"] = json!({"cached_tokens": 80});
        (status, body, delay)
    })
    .await;
    let (plain, _) = gateway(config(&stub.base_url));
    ask(&plain, "first").await.unwrap();
    let mut cached_config = config(&stub.base_url);
    cached_config.cache_prompt = true;
    let (cached, ledger) = gateway(cached_config);
    ask(&cached, "second").await.unwrap();
    let requests = stub.requests();
    assert_eq!(requests[0].get("cache_prompt"), None);
    assert_eq!(requests[1]["cache_prompt"], json!(true));
    assert_eq!(
        requests[1]["model"],
        json!("stub-model"),
        "the typed request is still all there"
    );
    assert!(requests[1]["messages"].as_array().is_some_and(|m| m.len() == 2));
    assert_eq!(ledger.records()[0].cached_tokens, 80);
}
