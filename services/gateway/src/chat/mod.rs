//! The chat webhook: `POST /v1/chat/slack` (Slack Events API and slash commands),
//! `POST /v1/chat/slack/interactions` (Slack buttons: incident acknowledgements, see
//! [`interactions`]) and
//! `POST /v1/chat/webhook` (a generic JSON format), both signed with `v0=` HMAC-SHA256
//! over `v0:{timestamp}:{raw body}`, each with its own secret.
//!
//! A verified message becomes a `chat.message` event on `opsline.chat.messages.v1`
//! (keyed by the verified user id) and is answered at once (Slack wants an answer
//! within 3 s); the self-service service replies later through the platform.
//! A refused request (missing, forged or stale signature, replay, malformed body)
//! is answered `401` (or `400`) with `{"error", "reason"}`, counted
//! (`opsline_gateway_chat_refused_total{platform, code}`), and sampled into the audit topic as
//! a `selfservice.action` (`action: chat_request`, `outcome: refused`): at most
//! `refusal_audit_burst` at once and `refusal_audits_per_minute` after that, each sampled
//! record saying how many refusals went unaudited before it. So a flood of forged requests
//! costs a counter, not a record each on a topic kept for a year.
//!
//! # Delivery guarantee
//!
//! A message is answered `200`/`202` only after the broker acknowledged it with
//! `acks=all`; otherwise `503` and the platform retries. Audit events of refusals
//! are produced without waiting (a failure to audit is logged, never blocks).

mod interactions;
mod platform;
mod signature;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opsline_events::ops::{ChatMessage, SelfServiceAction};
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{OutRecord, Producer};
use opsline_runtime::http::json_error;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::keys::Bucket;
use crate::metrics::{ChatRefusalLabel, GatewayMetrics, RequestLabel};
use crate::routes::{media_type, read_body};
use platform::SlackRequest;
use signature::{Refusal, SignatureVerifier};

const SLACK_ENDPOINT: &str = "/v1/chat/slack";
const WEBHOOK_ENDPOINT: &str = "/v1/chat/webhook";

/// Namespace of the envelope ids derived from Slack event ids.
const SLACK_EVENT_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x736c_6163_6b2d_6576_656e_742d_6964_7331);
/// Settings of the chat webhook (`[chat]` in the gateway config). An endpoint whose
/// secret is not set answers `503 not_configured`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    /// Slack's signing secret (`OPSLINE_CHAT__SLACK_SIGNING_SECRET`).
    #[serde(skip_serializing)]
    pub slack_signing_secret: Option<SecretString>,
    /// Secret of the generic webhook (`OPSLINE_CHAT__WEBHOOK_SECRET`).
    #[serde(skip_serializing)]
    pub webhook_secret: Option<SecretString>,
    /// Largest accepted difference between a request's timestamp and now, either way.
    pub max_skew_secs: u64,
    /// Signatures and event ids remembered per platform against replays (full: refuse).
    pub replay_memory: usize,
    /// Largest chat request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a message waits for the broker's acknowledgement before `503`.
    pub publish_timeout_ms: u64,
    /// Refusals audited at once before sampling starts.
    pub refusal_audit_burst: u32,
    /// Refusals audited a minute once the burst is spent (0: none more).
    pub refusal_audits_per_minute: f64,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            slack_signing_secret: None,
            webhook_secret: None,
            max_skew_secs: 300,
            replay_memory: 100_000,
            max_body_bytes: 64 * 1024,
            publish_timeout_ms: 2_500,
            refusal_audit_burst: 20,
            refusal_audits_per_minute: 6.0,
        }
    }
}

/// What the chat handlers share.
#[derive(Clone)]
pub(crate) struct ChatState {
    producer: Producer,
    messages_topic: String,
    audit_topic: String,
    actions_topic: String,
    slack: Option<Arc<SignatureVerifier>>,
    webhook: Option<Arc<SignatureVerifier>>,
    max_body_bytes: usize,
    publish_timeout: Duration,
    metrics: GatewayMetrics,
    masker: crate::credentials::CredentialMasker,
    /// Which refusals are audited (the others are only counted).
    audit_sampler: Arc<Mutex<Bucket>>,
    /// Refusals not audited since the last audited one.
    unaudited: Arc<AtomicU64>,
}

/// The chat routes with their state.
pub(crate) fn router(config: &ChatConfig, producer: Producer, names: &TopicNames, metrics: GatewayMetrics) -> Router {
    let verifier = |secret: &Option<SecretString>| {
        secret
            .clone()
            .map(|s| Arc::new(SignatureVerifier::new(s, config.max_skew_secs, config.replay_memory)))
    };
    let state = ChatState {
        producer,
        messages_topic: names.name(&topics::CHAT_MESSAGES),
        audit_topic: names.name(&topics::SELFSERVICE_AUDIT),
        actions_topic: names.name(&topics::INCIDENT_ACTIONS),
        slack: verifier(&config.slack_signing_secret),
        webhook: verifier(&config.webhook_secret),
        max_body_bytes: config.max_body_bytes,
        publish_timeout: Duration::from_millis(config.publish_timeout_ms),
        masker: crate::credentials::CredentialMasker::new(metrics.masked.clone()),
        metrics,
        audit_sampler: Arc::new(Mutex::new(Bucket::new(
            config.refusal_audits_per_minute / 60.0,
            config.refusal_audit_burst,
        ))),
        unaudited: Arc::new(AtomicU64::new(0)),
    };
    Router::new()
        .route(SLACK_ENDPOINT, post(post_slack))
        .route(WEBHOOK_ENDPOINT, post(post_webhook))
        .route(
            interactions::SLACK_INTERACTIONS_ENDPOINT,
            post(interactions::post_slack_interaction),
        )
        .with_state(state)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

async fn post_slack(State(state): State<ChatState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let response = match handle_slack(&state, &headers, body).await {
        Ok(response) => response,
        Err(refusal) => state.refuse("slack", refusal, started),
    };
    state.count(SLACK_ENDPOINT, &response);
    response
}

async fn handle_slack(state: &ChatState, headers: &HeaderMap, body: Body) -> Result<Response, Refusal> {
    let Some(verifier) = &state.slack else {
        return Err(Refusal::new("not_configured", "Slack signing secret not configured"));
    };
    let body = read_body(headers, body, state.max_body_bytes)
        .await
        .map_err(|e| Refusal::new("bad_request", e.to_string()))?;
    let now = now_secs();
    verifier.verify(
        header(headers, "x-slack-request-timestamp"),
        header(headers, "x-slack-signature"),
        &body,
        now,
    )?;
    match platform::parse_slack(&media_type(headers), &body)? {
        SlackRequest::Challenge(challenge) => Ok(axum::Json(json!({ "challenge": challenge })).into_response()),
        SlackRequest::Ignored(why) => Ok(axum::Json(json!({ "ok": true, "ignored": why })).into_response()),
        SlackRequest::Message {
            event_id,
            message,
            slash_command,
        } => {
            // Slack retries an event it saw no answer to (same `event_id`, new signature,
            // `X-Slack-Retry-Num`). A retry of an event already published is acknowledged again
            // and not published twice; an event is remembered only once published, so the retry
            // of one whose publish failed is published. Its envelope id is derived from the
            // event id, so a retry reaching another replica (or a restarted one) carries the same
            // id and self-service drops the second record.
            if let Some(event_id) = &event_id
                && verifier.event_published(event_id, now)?
            {
                return Ok(axum::Json(json!({ "ok": true, "duplicate": true })).into_response());
            }
            let id = event_id
                .as_deref()
                .map(|e| uuid::Uuid::new_v5(&SLACK_EVENT_NAMESPACE, e.as_bytes()));
            state.publish(message, id).await?;
            if let Some(event_id) = &event_id {
                // Published already: a concurrent duplicate ("replayed") or a full memory changes nothing.
                let _ = verifier.remember_event(event_id, now);
            }
            if slash_command {
                Ok(axum::Json(json!({
                    "response_type": "ephemeral",
                    "text": "Got it, I am on it. I will answer here privately."
                }))
                .into_response())
            } else {
                Ok(axum::Json(json!({ "ok": true })).into_response())
            }
        }
    }
}

async fn post_webhook(State(state): State<ChatState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let response = match handle_webhook(&state, &headers, body).await {
        Ok(response) => response,
        Err(refusal) => state.refuse("webhook", refusal, started),
    };
    state.count(WEBHOOK_ENDPOINT, &response);
    response
}

async fn handle_webhook(state: &ChatState, headers: &HeaderMap, body: Body) -> Result<Response, Refusal> {
    let Some(verifier) = &state.webhook else {
        return Err(Refusal::new("not_configured", "webhook secret not configured"));
    };
    let body = read_body(headers, body, state.max_body_bytes)
        .await
        .map_err(|e| Refusal::new("bad_request", e.to_string()))?;
    verifier.verify(
        header(headers, "x-opsline-request-timestamp"),
        header(headers, "x-opsline-signature"),
        &body,
        now_secs(),
    )?;
    let message = platform::parse_webhook(&body)?;
    let id = state.publish(message, None).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(json!({ "accepted": true, "id": id }))).into_response())
}

impl ChatState {
    /// Produces a verified message (with envelope id `id`, else a fresh one) and waits for the
    /// broker's acknowledgement.
    async fn publish(&self, mut message: ChatMessage, id: Option<uuid::Uuid>) -> Result<uuid::Uuid, Refusal> {
        self.masker.mask("chat", &mut message.text);
        let key = message.user_id.clone();
        let mut envelope = Envelope::new("gateway", message).with_trace(opsline_kafka::record::current_trace_context());
        if let Some(id) = id {
            envelope.id = id;
        }
        let record = OutRecord::event(self.messages_topic.clone(), &key, &envelope)
            .map_err(|e| Refusal::new("internal", format!("cannot encode message: {e}")))?;
        match tokio::time::timeout(self.publish_timeout, self.producer.send(&record)).await {
            Ok(Ok(_)) => Ok(envelope.id),
            Ok(Err(error)) => Err(Refusal::new("unavailable", format!("event bus unavailable: {error}"))),
            Err(_) => Err(Refusal::new("unavailable", "event bus did not acknowledge in time")),
        }
    }

    /// Answers a refusal and audits it (without waiting for the audit's acknowledgement).
    fn refuse(&self, platform: &'static str, refusal: Refusal, started: Instant) -> Response {
        let status = match refusal.code {
            "bad_request" => StatusCode::BAD_REQUEST,
            "unsupported_media_type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_configured" | "unavailable" | "overloaded" => StatusCode::SERVICE_UNAVAILABLE,
            "internal" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        };
        self.metrics
            .chat_refused
            .get_or_create(&ChatRefusalLabel {
                platform,
                code: refusal.code,
            })
            .inc();
        if (status != StatusCode::SERVICE_UNAVAILABLE || refusal.code == "overloaded") && self.sampled() {
            self.audit_refusal(platform, &refusal, started);
        }
        tracing::info!(platform, code = refusal.code, "chat request refused");
        json_error(status, refusal.code, refusal.reason)
    }

    /// Whether this refusal is audited; counts it as unaudited when not.
    fn sampled(&self) -> bool {
        let taken = match self.audit_sampler.lock() {
            Ok(mut bucket) => bucket.take(Instant::now()).is_ok(),
            Err(poisoned) => poisoned.into_inner().take(Instant::now()).is_ok(),
        };
        if !taken {
            self.unaudited.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    fn audit_refusal(&self, platform: &str, refusal: &Refusal, started: Instant) {
        let skipped = self.unaudited.swap(0, Ordering::Relaxed);
        let sampled = if skipped == 0 {
            String::new()
        } else {
            format!("; {skipped} refusals not audited before this one (sampled)")
        };
        let action = SelfServiceAction {
            action_id: uuid::Uuid::now_v7(),
            user_id: "unverified".to_owned(),
            action: "chat_request".to_owned(),
            outcome: "refused".to_owned(),
            reason: Some(format!("{}: {} ({platform}){sampled}", refusal.code, refusal.reason)),
            target: None,
            handling_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            cost_saved: 0.0,
        };
        let record = match OutRecord::event(
            self.audit_topic.clone(),
            "unverified",
            &Envelope::new("gateway", action),
        ) {
            Ok(record) => record,
            Err(error) => {
                tracing::warn!(%error, "cannot encode chat refusal audit");
                return;
            }
        };
        match self.producer.enqueue(&record) {
            Ok(delivery) => {
                tokio::spawn(async move {
                    if let Err(error) = delivery.wait().await {
                        tracing::warn!(%error, "chat refusal audit not delivered");
                    }
                });
            }
            Err(error) => tracing::warn!(%error, "chat refusal audit not enqueued"),
        }
    }

    fn count(&self, endpoint: &'static str, response: &Response) {
        self.metrics
            .requests
            .get_or_create(&RequestLabel {
                endpoint,
                status: response.status().as_u16(),
            })
            .inc();
    }
}
