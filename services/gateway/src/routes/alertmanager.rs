//! `POST /v1/alerts/alertmanager`: Prometheus Alertmanager's webhook (payload version 4), which
//! Grafana's Alertmanager-compatible contact point also sends. Each alert of the notification
//! becomes an [`ExternalAlert`] on the external alerts topic (firing, or resolved with the same
//! `alert_id`), keyed by fingerprint; the log service correlates them into incidents.
//!
//! Auth: when `[gateway.alertmanager] bearer_sha256` lists hashes, the request must carry
//! `Authorization: Bearer <token>` (Alertmanager's `http_config.authorization`) whose SHA-256
//! is one of them (401 otherwise). The answer is the gateway's usual report: 202 once Kafka
//! acknowledged every alert, per-alert rejections (dead-lettered), 503 to be retried
//! (Alertmanager retries 5xx, not 4xx).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use opsline_events::external::{ExternalAlert, ExternalAlertStatus};
use opsline_events::logs::Severity;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{json_error_code, media_type, read_body};
use crate::app::AppState;
use crate::error::GatewayError;
use crate::ingest::{Prepared, Rejection};

const ENDPOINT: &str = "/v1/alerts/alertmanager";
/// The source name of these alerts.
const SOURCE: &str = "alertmanager";
/// Namespace of external alert ids.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x616c_6572_746d_616e_6167_6572_2d69_6473);

/// `[gateway.alertmanager]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AlertmanagerConfig {
    /// SHA-256 (hex) of the bearer tokens accepted; empty: no token asked (loopback use).
    pub bearer_sha256: Vec<String>,
}

/// The webhook's body (Alertmanager `webhook_config`, version 4).
#[derive(Debug, Deserialize)]
struct Notification {
    version: String,
    #[serde(default)]
    alerts: Vec<serde_json::Value>,
}

/// One alert of a notification.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: Timestamp,
    #[serde(default)]
    ends_at: Option<Timestamp>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

pub(crate) async fn post_alertmanager(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match handle(state, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn handle(state: AppState, headers: HeaderMap, body: Body) -> Result<Response, GatewayError> {
    if !authorized(&headers, &state.alertmanager.bearer_sha256) {
        state.ingest.count_request(ENDPOINT, StatusCode::UNAUTHORIZED);
        return Ok(opsline_runtime::http::json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <token>` with a token configured in [gateway.alertmanager] bearer_sha256"
                .to_owned(),
        ));
    }
    let media = media_type(&headers);
    if media != "application/json" {
        return Err(GatewayError::UnsupportedMediaType {
            found: media,
            expected: "application/json (Alertmanager webhook, version 4)",
        });
    }
    let body = read_body(&headers, body, state.max_body_bytes).await?;
    let notification: Notification = serde_json::from_slice(&body)
        .map_err(|e| GatewayError::BadRequest(format!("not an Alertmanager notification: {e}")))?;
    if notification.version != "4" {
        return Err(GatewayError::BadRequest(format!(
            "Alertmanager webhook payload version {:?}; this endpoint reads version \"4\"",
            notification.version
        )));
    }
    let items = notification
        .alerts
        .iter()
        .enumerate()
        .map(|(index, value)| prepare(&state, index + 1, value))
        .collect();
    Ok(state.ingest.clone().publish(ENDPOINT, items).await)
}

/// Whether the request carries one of the configured tokens (always, when none is configured).
fn authorized(headers: &HeaderMap, hashes: &[String]) -> bool {
    if hashes.is_empty() {
        return true;
    }
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let digest = Sha256::digest(token.trim().as_bytes());
    let presented: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hashes
        .iter()
        .any(|hash| bool::from(hash.to_ascii_lowercase().as_bytes().ct_eq(presented.as_bytes())))
}

fn prepare(state: &AppState, item: usize, value: &serde_json::Value) -> Result<Prepared, Rejection> {
    let raw = serde_json::to_vec(value).unwrap_or_default();
    let alert: WebhookAlert = serde_json::from_value(value.clone())
        .map_err(|e| Rejection::new(item, json_error_code(&e), e.to_string(), &raw))?;
    let external = external_alert(alert).map_err(|reason| Rejection::new(item, "invalid_record", reason, &raw))?;
    let key = external.fingerprint.clone();
    let id = Some(Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{}/{}", external.alert_id, external.status as u8).as_bytes(),
    ));
    state
        .ingest
        .prepare(item, id, &state.external_alerts_topic, &key, external, &raw)
}

/// Maps one webhook alert (see [`ExternalAlert`]'s fields for the rules).
fn external_alert(alert: WebhookAlert) -> Result<ExternalAlert, String> {
    let status = match alert.status.as_str() {
        "firing" => ExternalAlertStatus::Firing,
        "resolved" => ExternalAlertStatus::Resolved,
        other => return Err(format!("status {other:?} is neither \"firing\" nor \"resolved\"")),
    };
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
    let alert_id = Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{SOURCE}/{fingerprint}/{}", alert.starts_at).as_bytes(),
    );
    // Alertmanager writes year 1 for "no end"; a firing alert's end is only a guess.
    let ends_at = alert
        .ends_at
        .filter(|end| end.as_second() > 0 && status == ExternalAlertStatus::Resolved);
    Ok(ExternalAlert {
        alert_id,
        source: SOURCE.to_owned(),
        fingerprint,
        status,
        service,
        name,
        severity,
        summary,
        labels: alert.labels,
        annotations: alert.annotations,
        starts_at: alert.starts_at,
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
