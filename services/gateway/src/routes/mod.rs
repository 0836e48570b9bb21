//! HTTP handlers of the gateway, one module per endpoint.

pub(crate) mod alertmanager;
pub(crate) mod logs;
pub(crate) mod otlp;
pub(crate) mod tickets;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;

use crate::app::AppState;
use crate::error::GatewayError;
use crate::ingest::Rejection;

/// Refuses an item whose service the request's key may not send for.
pub(crate) fn check_service(state: &AppState, item: usize, service: &str, raw: &[u8]) -> Result<(), Rejection> {
    match &state.caller {
        Some(caller) if caller.may_send_for(service) => Ok(()),
        Some(caller) => Err(Rejection::new(
            item,
            "service_not_allowed",
            format!(
                "ingest key `{}` may not send records for service {service:?}",
                caller.name
            ),
            raw,
        )),
        None => Err(Rejection::new(item, "unauthorized", "no ingest key", raw)),
    }
}

/// Reads the whole body, refusing more than `limit` bytes, and decodes `Content-Encoding: gzip`
/// (the decoded body is held to the same limit, so a small bomb cannot grow past it).
pub(crate) async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    let raw = read_raw_body(headers, body, limit).await?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => gunzip(&raw, limit),
        other => Err(GatewayError::UnsupportedEncoding(other.to_owned())),
    }
}

/// Decompresses a gzip body, refusing more than `limit` decoded bytes.
fn gunzip(compressed: &[u8], limit: usize) -> Result<Bytes, GatewayError> {
    use std::io::Read;
    let mut decoded = Vec::new();
    let mut reader = flate2::read::MultiGzDecoder::new(compressed).take(limit as u64 + 1);
    reader
        .read_to_end(&mut decoded)
        .map_err(|error| GatewayError::BodyRead(format!("invalid gzip body: {error}")))?;
    if decoded.len() > limit {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    Ok(Bytes::from(decoded))
}

async fn read_raw_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let text = format!("{error} {:?}", std::error::Error::source(&error));
        if text.contains("length limit") {
            GatewayError::BodyTooLarge { limit }
        } else {
            GatewayError::BodyRead(error.to_string())
        }
    })
}

/// The media type without parameters, lower-cased (`""` when absent).
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Describes a `serde_json` error with a stable code.
pub(crate) fn json_error_code(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Data => "invalid_record",
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof | serde_json::error::Category::Io => {
            "invalid_json"
        }
    }
}
