//! A generic JSON webhook: `{"type":"incident.<transition>","transition":...,"target":...,
//! "incident":<the incident as on opsline.incidents.v1>,"sent_at":...}` POSTed to the
//! target's `url`. With a `secret`, signed: `X-Opsline-Timestamp` (Unix seconds) and
//! `X-Opsline-Signature: v1=<hex HMAC-SHA256 over "<timestamp>.<body>">`; receivers recompute
//! it and refuse timestamps older than a few minutes (replays). 2xx is success; 429 and 5xx are
//! retried, other 4xx are not.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{Failure, Notification, Sink, by_status, unreachable};

/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "x-opsline-timestamp";
/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-opsline-signature";

/// `v1=` + hex HMAC-SHA256 over `{timestamp}.{body}` with `secret`.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("v1={hex}"))
}

pub(super) async fn send(sink: &Sink, notification: &Notification) -> Result<(), Failure> {
    let body = json!({
        "type": format!("incident.{}", notification.transition.as_str()),
        "transition": notification.transition,
        "target": sink.name,
        "incident": notification.incident,
        "sent_at": jiff::Timestamp::now(),
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| Failure::fatal("encode", e.to_string()))?;
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    let signed = match &sink.secret {
        Some(_) => Some(
            signature(sink.secret_text()?.as_bytes(), &timestamp, &bytes)
                .ok_or_else(|| Failure::fatal("invalid_request", "unusable signing key"))?,
        ),
        None => None,
    };
    let mut headers = vec![(TIMESTAMP_HEADER, timestamp.as_str())];
    if let Some(signed) = &signed {
        headers.push((SIGNATURE_HEADER, signed.as_str()));
    }
    let response = sink
        .client
        .post(&sink.base_url, "application/json", Bytes::from(bytes), &headers)
        .await
        .map_err(unreachable)?;
    by_status("webhook", response).map(|_| ())
}
