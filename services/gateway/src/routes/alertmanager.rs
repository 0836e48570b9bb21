//! `POST /v1/alerts/alertmanager`: Prometheus Alertmanager's webhook (payload version 4) and
//! Grafana's webhook contact point (the same shape, version 1). `POST
//! /v1/alerts/alertmanager/api/v2/alerts`: Alertmanager's own alert API, which Grafana's
//! "Alertmanager" contact point (and any Alertmanager client) posts to: a JSON array of alerts,
//! resolved when `endsAt` has passed. Each alert becomes an [`ExternalAlert`] on the external
//! alerts topic (firing, or resolved with the same `alert_id`), keyed by service like the
//! service's raw logs, so the log-service replica holding those logs correlates both into incidents.
//!
//! Auth: an ingest key allowed `alerts` ([`crate::keys`]), sent as `Authorization: Bearer
//! <key>` (Alertmanager's `http_config.authorization`); each hash in `[gateway.alertmanager]
//! bearer_sha256` is such a key too (named `alertmanager`). The answer is the gateway's usual report: 202 once Kafka
//! acknowledged every alert, per-alert rejections (dead-lettered), 503 to be retried
//! (Alertmanager retries 5xx, not 4xx).

use std::collections::BTreeMap;

use axum::body::Body;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use opsline_events::external::{ExternalAlert, ExternalAlertStatus};
use opsline_events::logs::Severity;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{json_error_code, media_type, read_body};
use crate::app::AppState;
use crate::error::GatewayError;
use crate::ingest::{Prepared, Rejection};
use crate::keys::Caller;

const ENDPOINT: &str = "/v1/alerts/alertmanager";
/// Metrics label of the Alertmanager API path.
const API_ENDPOINT: &str = "/v1/alerts/alertmanager/api/v2/alerts";
/// Namespace of external alert ids.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x616c_6572_746d_616e_6167_6572_2d69_6473);

/// `[gateway.alertmanager]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AlertmanagerConfig {
    /// SHA-256 (hex) of bearer tokens accepted here: each becomes an ingest key allowed only
    /// this endpoint (same as a `[[gateway.keys]]` entry with `endpoints = ["alerts"]`).
    pub bearer_sha256: Vec<String>,
}

/// The webhook's body (Alertmanager `webhook_config`, version 4).
#[derive(Debug, Deserialize)]
struct Notification {
    version: String,
    #[serde(default)]
    alerts: Vec<serde_json::Value>,
}

/// One alert of a notification (webhook), or of a post to the API (no status: from `endsAt`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<Timestamp>,
    #[serde(default)]
    ends_at: Option<Timestamp>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

pub(crate) async fn post_alertmanager(
    State(mut state): State<AppState>,
    caller: Option<Extension<Arc<Caller>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    state.caller = caller.map(|Extension(caller)| caller);
    match handle(state, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

pub(crate) async fn post_alertmanager_api(
    State(mut state): State<AppState>,
    caller: Option<Extension<Arc<Caller>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    state.caller = caller.map(|Extension(caller)| caller);
    match handle_api(state, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// Checks the caller and the media type and reads the body.
async fn checked_body(
    state: &AppState,
    endpoint: &'static str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Result<bytes::Bytes, Response>, GatewayError> {
    if state.caller.is_none() {
        state.ingest.count_request(endpoint, StatusCode::UNAUTHORIZED);
        return Err(GatewayError::Unauthorized);
    }
    let media = media_type(headers);
    if media != "application/json" {
        return Err(GatewayError::UnsupportedMediaType {
            found: media,
            expected: "application/json",
        });
    }
    Ok(Ok(read_body(headers, body, state.max_body_bytes).await?))
}

async fn handle(state: AppState, headers: HeaderMap, body: Body) -> Result<Response, GatewayError> {
    let body = match checked_body(&state, ENDPOINT, &headers, body).await? {
        Ok(body) => body,
        Err(refused) => return Ok(refused),
    };
    let notification: Notification = serde_json::from_slice(&body)
        .map_err(|e| GatewayError::BadRequest(format!("not an Alertmanager notification: {e}")))?;
    let source = match notification.version.as_str() {
        "4" => "alertmanager",
        "1" => "grafana",
        other => {
            return Err(GatewayError::BadRequest(format!(
                "webhook payload version {other:?}; this endpoint reads Alertmanager's \"4\" and Grafana's \"1\""
            )));
        }
    };
    let now = Timestamp::now();
    let items = notification
        .alerts
        .iter()
        .enumerate()
        .map(|(index, value)| prepare(&state, index + 1, value, source, now))
        .collect();
    Ok(state.ingest.clone().publish(ENDPOINT, items).await)
}

async fn handle_api(state: AppState, headers: HeaderMap, body: Body) -> Result<Response, GatewayError> {
    let body = match checked_body(&state, API_ENDPOINT, &headers, body).await? {
        Ok(body) => body,
        Err(refused) => return Ok(refused),
    };
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| GatewayError::BadRequest(format!("not a JSON array of alerts (Alertmanager API v2): {e}")))?;
    let now = Timestamp::now();
    let items = alerts
        .iter()
        .enumerate()
        .map(|(index, value)| prepare(&state, index + 1, value, "alertmanager-api", now))
        .collect();
    Ok(state.ingest.clone().publish(API_ENDPOINT, items).await)
}

fn prepare(
    state: &AppState,
    item: usize,
    value: &serde_json::Value,
    source: &str,
    now: Timestamp,
) -> Result<Prepared, Rejection> {
    let raw = serde_json::to_vec(value).unwrap_or_default();
    let alert: WebhookAlert = serde_json::from_value(value.clone())
        .map_err(|e| Rejection::new(item, json_error_code(&e), e.to_string(), &raw))?;
    let external =
        external_alert(alert, source, now).map_err(|reason| Rejection::new(item, "invalid_record", reason, &raw))?;
    super::check_service(state, item, &external.service, &raw)?;
    // Keyed like the service's logs: both land on the same partition number (see the topic).
    let key = external.service.clone();
    let id = Some(Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{}/{}", external.alert_id, external.status as u8).as_bytes(),
    ));
    state
        .ingest
        .prepare(item, id, &state.external_alerts_topic, &key, external, &raw)
}

/// Maps one alert received at `now` from `source` (see [`ExternalAlert`]'s fields for the
/// rules). Without a status (the API), it is resolved once its `endsAt` has passed; without a
/// start, it started `now`.
fn external_alert(alert: WebhookAlert, source: &str, now: Timestamp) -> Result<ExternalAlert, String> {
    let status = match alert.status.as_deref() {
        Some("firing") => ExternalAlertStatus::Firing,
        Some("resolved") => ExternalAlertStatus::Resolved,
        Some(other) => return Err(format!("status {other:?} is neither \"firing\" nor \"resolved\"")),
        None if alert.ends_at.is_some_and(|end| end.as_second() > 0 && end <= now) => ExternalAlertStatus::Resolved,
        None => ExternalAlertStatus::Firing,
    };
    let starts_at = alert.starts_at.filter(|start| start.as_second() > 0).unwrap_or(now);
    let label = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| alert.labels.get(*name).filter(|v| !v.trim().is_empty()))
            .cloned()
    };
    let name = label(&["alertname"]).ok_or("the alert has no alertname label")?;
    let service = label(&["service", "job", "app", "alertname"])
        .unwrap_or_else(|| name.clone())
        .to_lowercase();
    let severity = match label(&["severity"]).unwrap_or_default().to_lowercase().as_str() {
        "critical" | "page" | "error" | "high" => Severity::Critical,
        "info" | "none" | "low" => Severity::Info,
        _ => Severity::Warning,
    };
    let summary = ["summary", "description", "message"]
        .iter()
        .find_map(|key| alert.annotations.get(*key).filter(|v| !v.trim().is_empty()))
        .cloned()
        .unwrap_or_else(|| name.clone());
    let host = label(&["instance"])
        .map(|instance| strip_port(&instance))
        .or_else(|| label(&["host", "hostname", "node"]));
    let fingerprint = alert.fingerprint.filter(|f| !f.is_empty()).unwrap_or_else(|| {
        let labels: Vec<String> = alert.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let digest = Sha256::digest(labels.join("\u{1f}").as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    });
    let alert_id = Uuid::new_v5(&ID_NAMESPACE, format!("{source}/{fingerprint}/{starts_at}").as_bytes());
    // Alertmanager writes year 1 for "no end"; a firing alert's end is only a guess.
    let ends_at = alert
        .ends_at
        .filter(|end| end.as_second() > 0 && status == ExternalAlertStatus::Resolved);
    Ok(ExternalAlert {
        alert_id,
        source: source.to_owned(),
        fingerprint,
        status,
        service,
        name,
        severity,
        summary,
        labels: alert.labels,
        annotations: alert.annotations,
        starts_at,
        ends_at,
        generator_url: alert.generator_url.filter(|u| !u.is_empty()),
        host,
    })
}

/// `host:port` or `[v6]:port` without the port.
fn strip_port(instance: &str) -> String {
    if let Some(rest) = instance.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_owned();
    }
    match instance.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) && !host.contains(':') => host.to_owned(),
        _ => instance.to_owned(),
    }
}

#[cfg(test)]
#[path = "alertmanager_tests.rs"]
mod tests;
