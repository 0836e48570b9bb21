//! Self-service test helpers: `spawn_selfservice` (the service on a test's topics and
//! directory, with a recording notifier), `spawn_recorder` (an HTTP server standing in
//! for the chat platform's response URL), and `signed_post` (requests signed like Slack's).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use opsline_events::TopicNames;
use opsline_kafka::KafkaConfig;
use opsline_selfservice::{RecordingNotifier, SelfService, SelfServiceConfig};
use secrecy::SecretString;
use serde_json::Value;

use crate::ldap::{SERVICE_DN, SERVICE_PASSWORD, TestLdap};
use crate::spawn::{Spawned, spawn};

/// Starts the service on `names`' topics and `ldap`, replying to `reply_url` when a
/// message has no response URL; returns it with the notifier recording the codes it "mails".
pub async fn spawn_selfservice(
    kafka: KafkaConfig,
    names: &TopicNames,
    ldap: &TestLdap,
    reply_url: &str,
    tweak: impl FnOnce(&mut SelfServiceConfig),
) -> (Spawned<SelfService>, RecordingNotifier) {
    let mut config = SelfServiceConfig {
        topic_prefix: names.prefix.clone(),
        kafka,
        ..SelfServiceConfig::default()
    };
    config.group_id = format!("{}selfservice", names.prefix);
    config.directory.url = ldap.url.clone();
    match &ldap.ca_file {
        // A TLS test directory: StartTLS with its test CA.
        Some(ca) => {
            config.directory.starttls = true;
            config.directory.ca_file = Some(ca.clone());
        }
        // The plain test directory listens on loopback only.
        None => config.directory.allow_insecure = true,
    }
    config.directory.bind_dn = SERVICE_DN.to_owned();
    config.directory.bind_password = SecretString::from(SERVICE_PASSWORD);
    config.reply.webhook_url = reply_url.to_owned();
    config.reply.retry_delay_ms = 20;
    tweak(&mut config);
    let notifier = RecordingNotifier::default();
    let recording: Arc<dyn opsline_selfservice::Notifier> = Arc::new(notifier.clone());
    (spawn::<SelfService>(config, Some(recording)).await, notifier)
}

/// An HTTP server recording every JSON body POSTed to it (any path).
#[derive(Clone)]
pub struct Recorder {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    failing: Arc<Mutex<bool>>,
    fail_after: Arc<Mutex<Option<usize>>>,
}

impl Recorder {
    /// Every body so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// Makes the server answer 500 (true) or 200 (false).
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().unwrap() = failing;
    }

    /// Accepts `accepted` more bodies, then answers 500 to every request.
    pub fn fail_after(&self, accepted: usize) {
        let already = self.bodies.lock().unwrap().len();
        *self.fail_after.lock().unwrap() = Some(already + accepted);
    }

    /// The texts received so far.
    pub fn texts(&self) -> Vec<String> {
        self.bodies()
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    /// Waits until more than `already` texts arrived and returns the new ones.
    pub async fn wait_texts(&self, already: usize, max_wait: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            let texts = self.texts();
            if texts.len() > already || tokio::time::Instant::now() > deadline {
                return texts.into_iter().skip(already).collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn record(State(recorder): State<Recorder>, body: axum::body::Bytes) -> StatusCode {
    if *recorder.failing.lock().unwrap() {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let limit = *recorder.fail_after.lock().unwrap();
    if limit.is_some_and(|limit| recorder.bodies.lock().unwrap().len() >= limit) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    recorder.bodies.lock().unwrap().push(value);
    StatusCode::OK
}

/// Starts a recording HTTP server on a free port.
pub async fn spawn_recorder() -> Recorder {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let recorder = Recorder {
        url: format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port()),
        bodies: Arc::default(),
        failing: Arc::default(),
        fail_after: Arc::default(),
    };
    let app = axum::Router::new().fallback(post(record)).with_state(recorder.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    recorder
}

/// `v0=` + hex HMAC-SHA256 over `v0:{timestamp}:{body}`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("v0={hex}")
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Header names of a platform's signature and timestamp.
#[derive(Debug, Clone, Copy)]
pub enum Platform {
    /// `X-Slack-Signature`, `X-Slack-Request-Timestamp`.
    Slack,
    /// `X-Opsline-Signature`, `X-Opsline-Request-Timestamp`.
    Webhook,
}

/// POSTs `body` to `url` signed with `secret` at `timestamp`; returns (status, JSON answer).
pub async fn signed_post(
    url: &str,
    platform: Platform,
    secret: &str,
    timestamp: i64,
    content_type: &str,
    body: &[u8],
) -> (u16, Value) {
    let (sig_header, ts_header) = match platform {
        Platform::Slack => ("x-slack-signature", "x-slack-request-timestamp"),
        Platform::Webhook => ("x-opsline-signature", "x-opsline-request-timestamp"),
    };
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .header(sig_header, sign(secret, timestamp, body))
        .header(ts_header, timestamp.to_string())
        .body(body.to_vec())
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let value = response.json().await.unwrap_or(Value::Null);
    (status, value)
}

/// A form-encoded Slack slash command body.
pub fn slash_command(user_id: &str, text: &str, response_url: &str) -> Vec<u8> {
    let pairs = [
        ("token", "ignored"),
        ("team_id", "T0TEST"),
        ("channel_id", "D0TEST"),
        ("user_id", user_id),
        ("command", "/helpdesk"),
        ("text", text),
        ("response_url", response_url),
    ];
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

/// A Slack Events API direct message from U0ALICE with Slack's `event_id` (its retries repeat it).
pub fn slack_dm(event_id: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "event_callback",
        "event_id": event_id,
        "event": { "type": "message", "channel_type": "im", "user": "U0ALICE", "channel": "D0TEST", "text": text }
    }))
    .unwrap_or_default()
}
