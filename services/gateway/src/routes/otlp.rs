//! OpenTelemetry logs over OTLP/HTTP on `POST /v1/logs`: a stock OpenTelemetry SDK exporter
//! pointed at the gateway (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://gateway:8088/v1/logs`)
//! works unchanged. Binary protobuf (`application/x-protobuf`) and OTLP/JSON
//! (`application/json` with `resourceLogs`) are decoded with the official definitions
//! (`opentelemetry-proto`), gzip bodies are accepted (see [`super::read_body`]).
//!
//! Mapping onto [`RawLog`]: `service.name` of the resource is the service (the SDK's
//! `unknown_service:…` default is kept as sent), the body is the line (a string as is, any
//! other value as JSON), the record's time (else its observed time) the timestamp; the
//! resource's and the record's attributes, severity, trace and span ids, event name and
//! instrumentation scope become attributes (`host.name` among them, which the log service
//! uses as the line's host). The source is `otlp`. A record with trace and span ids continues
//! that trace: its event's `traceparent` names them, so Opsline's spans join the sender's trace.
//!
//! Delivery: the answer comes only after Kafka acknowledged every accepted record, as for
//! the other formats. It is the OTLP answer in the request's encoding: `200` with a
//! `partialSuccess` counting the rejected records (each dead-lettered with its reason), `400`
//! when the body cannot be decoded or every record was rejected, `503` with `Retry-After`
//! when Kafka did not take them (the exporter retries). Each record's event id is derived
//! from its content, so an exporter's retry of the same batch yields the same ids.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use jiff::Timestamp;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opsline_events::logs::RawLog;
use prost::Message;
use uuid::Uuid;

use crate::app::AppState;
use crate::ingest::{Prepared, Rejection};

/// The metrics label of OTLP requests.
pub(crate) const ENDPOINT: &str = "/v1/logs (otlp)";
/// The source every OTLP record gets.
const SOURCE: &str = "otlp";
/// Namespace of the content-derived event ids.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f74_6c70_2d6c_6f67_732d_6f70_736c_696e);

/// How the request was encoded; the answer uses the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// OTLP/JSON (`application/json`).
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => "application/x-protobuf",
            Self::Json => "application/json",
        }
    }
}

/// Whether an `application/json` body is an OTLP/JSON export rather than NDJSON records:
/// one JSON object whose first key is `resourceLogs` (the only field of the request).
pub(crate) fn is_otlp_json(body: &[u8]) -> bool {
    let text = body.trim_ascii_start();
    text.strip_prefix(b"{")
        .map(<[u8]>::trim_ascii_start)
        .is_some_and(|rest| rest.starts_with(b"\"resourceLogs\""))
}

/// `google.rpc.Status`, the body OTLP/HTTP answers failures with.
#[derive(Clone, PartialEq, prost::Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// Decodes, maps, produces and answers one OTLP export.
pub(crate) async fn handle(state: AppState, encoding: Encoding, body: &Bytes) -> Response {
    let request = match decode(encoding, body) {
        Ok(request) => request,
        Err(reason) => {
            state.ingest.count_request(ENDPOINT, StatusCode::BAD_REQUEST);
            return failure(
                encoding,
                StatusCode::BAD_REQUEST,
                format!("cannot decode the OTLP logs export: {reason}"),
            );
        }
    };
    let items = records(&state, &request);
    let outcome = state.ingest.clone().deliver(ENDPOINT, items).await;
    let (status, _, reason) = outcome.verdict();
    // All records rejected (or none sent) is still an answered export: 200 with the count.
    let status = match status {
        StatusCode::ACCEPTED | StatusCode::BAD_REQUEST => StatusCode::OK,
        other => other,
    };
    state.ingest.count_request(ENDPOINT, status);
    if status != StatusCode::OK {
        return failure(encoding, status, reason.unwrap_or_default());
    }
    let partial_success = (!outcome.rejected.is_empty()).then(|| {
        let reasons: Vec<String> = outcome
            .rejected
            .iter()
            .take(5)
            .map(|r| format!("record {}: {} ({})", r.item, r.reason, r.code))
            .collect();
        ExportLogsPartialSuccess {
            rejected_log_records: outcome.rejected.len() as i64,
            error_message: reasons.join("; "),
        }
    });
    let bytes = match (encoding, partial_success) {
        (Encoding::Protobuf, partial_success) => ExportLogsServiceResponse { partial_success }.encode_to_vec(),
        // Protobuf's JSON mapping writes 64-bit integers as strings.
        (Encoding::Json, Some(partial)) => serde_json::json!({"partialSuccess": {
            "rejectedLogRecords": partial.rejected_log_records.to_string(),
            "errorMessage": partial.error_message,
        }})
        .to_string()
        .into_bytes(),
        (Encoding::Json, None) => b"{}".to_vec(),
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, encoding.content_type())], bytes).into_response()
}

fn decode(encoding: Encoding, body: &[u8]) -> Result<ExportLogsServiceRequest, String> {
    match encoding {
        Encoding::Protobuf => ExportLogsServiceRequest::decode(body).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::from_slice(body).map_err(|e| e.to_string()),
    }
}

/// An OTLP failure answer: `google.rpc.Status` in the request's encoding.
fn failure(encoding: Encoding, status: StatusCode, message: String) -> Response {
    // gRPC codes: INVALID_ARGUMENT (3) for a bad request, UNAVAILABLE (14) for a retry.
    let code = if status == StatusCode::SERVICE_UNAVAILABLE {
        14
    } else {
        3
    };
    let body = match encoding {
        Encoding::Protobuf => Status { code, message }.encode_to_vec(),
        Encoding::Json => serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    };
    let mut response = (status, [(header::CONTENT_TYPE, encoding.content_type())], body).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
    }
    response
}

/// Every log record of the export, mapped and prepared (1-based numbering across the export).
fn records(state: &AppState, request: &ExportLogsServiceRequest) -> Vec<Result<Prepared, Rejection>> {
    let mut items = Vec::new();
    for resource_logs in &request.resource_logs {
        let resource: &[KeyValue] = resource_logs
            .resource
            .as_ref()
            .map_or(&[], |resource| resource.attributes.as_slice());
        for scope_logs in &resource_logs.scope_logs {
            let scope = scope_logs.scope.as_ref().map(|s| s.name.as_str()).unwrap_or_default();
            for record in &scope_logs.log_records {
                let number = items.len() + 1;
                let data = raw_log(resource, scope, record);
                items.push(prepare(state, number, data));
            }
        }
    }
    items
}

/// Why a log record cannot be a [`RawLog`].
#[derive(Debug)]
struct Unmappable {
    code: &'static str,
    reason: String,
    raw: Vec<u8>,
}

fn prepare(state: &AppState, number: usize, data: Result<RawLog, Unmappable>) -> Result<Prepared, Rejection> {
    let data = data.map_err(|e| Rejection::new(number, e.code, e.reason, &e.raw))?;
    let raw = serde_json::to_vec(&data).unwrap_or_default();
    if raw.len() > state.max_record_bytes {
        let reason = format!("record is {} bytes; the limit is {}", raw.len(), state.max_record_bytes);
        return Err(Rejection::new(number, "record_too_large", reason, &raw));
    }
    super::check_service(state, number, &data.service, &raw)?;
    let id = Uuid::new_v5(&ID_NAMESPACE, &raw);
    let span = tracing::info_span!("ingest_otlp_log", item = number);
    let _entered = span.enter();
    let key = data.service.clone();
    // The record continues the sender's trace when it names one.
    let trace = match (data.attributes.get("trace_id"), data.attributes.get("span_id")) {
        (Some(trace_id), Some(span_id)) if trace_id.len() == 32 && span_id.len() == 16 => {
            Some(opsline_events::TraceContext {
                traceparent: format!("00-{trace_id}-{span_id}-01"),
                tracestate: None,
            })
        }
        _ => opsline_kafka::record::current_trace_context(),
    };
    state
        .ingest
        .prepare_in_trace(number, Some(id), &state.raw_logs_topic, &key, data, &raw, trace)
}

/// One OTLP log record as a [`RawLog`], or why it cannot be one.
fn raw_log(resource: &[KeyValue], scope: &str, record: &LogRecord) -> Result<RawLog, Unmappable> {
    let mut attributes = BTreeMap::new();
    for kv in resource.iter().chain(&record.attributes) {
        if let Some(value) = kv.value.as_ref().and_then(text) {
            attributes.insert(kv.key.clone(), value);
        }
    }
    let service = attributes.get("service.name").cloned().unwrap_or_default();
    let line = record.body.as_ref().and_then(text).unwrap_or_default();
    if service.trim().is_empty() || line.trim().is_empty() {
        let what = if service.trim().is_empty() {
            "no service.name resource attribute"
        } else {
            "an empty body"
        };
        return Err(Unmappable {
            code: "invalid_record",
            reason: format!("log record has {what}"),
            raw: line.into_bytes(),
        });
    }
    if !record.severity_text.is_empty() {
        attributes.insert("severity_text".to_owned(), record.severity_text.clone());
    }
    if record.severity_number != 0 {
        attributes.insert("severity_number".to_owned(), record.severity_number.to_string());
    }
    if record.trace_id.iter().any(|b| *b != 0) {
        attributes.insert("trace_id".to_owned(), hex(&record.trace_id));
    }
    if record.span_id.iter().any(|b| *b != 0) {
        attributes.insert("span_id".to_owned(), hex(&record.span_id));
    }
    if !record.event_name.is_empty() {
        attributes.insert("event_name".to_owned(), record.event_name.clone());
    }
    if !scope.is_empty() {
        attributes.insert("otel.scope.name".to_owned(), scope.to_owned());
    }
    let nanos = if record.time_unix_nano != 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    };
    let timestamp = (nanos != 0)
        .then(|| i128::from(nanos))
        .and_then(|n| Timestamp::from_nanosecond(n).ok());
    Ok(RawLog {
        service,
        source: SOURCE.to_owned(),
        line,
        timestamp,
        attributes,
    })
}

/// An attribute or body value as text: strings as they are, everything else as JSON.
fn text(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        any_value::Value::BytesValue(bytes) => Some(hex(bytes)),
        _ => serde_json::to_value(value).ok().map(|json| {
            json.get("arrayValue")
                .or(json.get("kvlistValue"))
                .cloned()
                .unwrap_or(json)
                .to_string()
        }),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "otlp_tests.rs"]
mod tests;
