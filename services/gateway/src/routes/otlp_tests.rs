#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// An OTLP/JSON logs export in the shape of the specification's example (made-up values):
/// ids in hex, 64-bit integers as strings.
const JSON_EXPORT: &str = r#"{
  "resourceLogs": [{
    "resource": {"attributes": [
      {"key": "service.name", "value": {"stringValue": "checkout"}},
      {"key": "host.name", "value": {"stringValue": "web-7.example.internal"}}
    ]},
    "scopeLogs": [{
      "scope": {"name": "checkout.payments", "version": "1.2.0"},
      "logRecords": [
        {
          "timeUnixNano": "1764979200000000000",
          "observedTimeUnixNano": "1764979200500000000",
          "severityNumber": 17,
          "severityText": "ERROR",
          "traceId": "5b8efff798038103d269b633813fc60c",
          "spanId": "eee19b7ec3c1b174",
          "body": {"stringValue": "payment provider timed out after 3000 ms"},
          "attributes": [
            {"key": "retry", "value": {"intValue": "2"}},
            {"key": "order", "value": {"kvlistValue": {"values": [{"key": "id", "value": {"stringValue": "A-1"}}]}}}
          ]
        },
        {
          "observedTimeUnixNano": "1764979201000000000",
          "body": {"kvlistValue": {"values": [{"key": "msg", "value": {"stringValue": "structured"}}]}}
        },
        {"body": {"stringValue": "   "}}
      ]
    }]
  }]
}"#;

fn export() -> ExportLogsServiceRequest {
    decode(Encoding::Json, JSON_EXPORT.as_bytes()).unwrap()
}

fn mapped(request: &ExportLogsServiceRequest) -> Vec<Result<RawLog, Unmappable>> {
    let resource_logs = &request.resource_logs[0];
    let resource = &resource_logs.resource.as_ref().unwrap().attributes;
    let scope = &resource_logs.scope_logs[0];
    scope
        .log_records
        .iter()
        .map(|record| raw_log(resource, &scope.scope.as_ref().unwrap().name, record))
        .collect()
}

#[test]
fn json_export_maps_resource_severity_ids_and_time() {
    let logs = mapped(&export());
    let first = logs[0].as_ref().unwrap();
    assert_eq!(first.service, "checkout");
    assert_eq!(first.source, "otlp");
    assert_eq!(first.line, "payment provider timed out after 3000 ms");
    assert_eq!(first.timestamp.unwrap().to_string(), "2025-12-06T00:00:00Z");
    assert_eq!(first.attributes["host.name"], "web-7.example.internal");
    assert_eq!(first.attributes["severity_text"], "ERROR");
    assert_eq!(first.attributes["severity_number"], "17");
    assert_eq!(first.attributes["trace_id"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(first.attributes["span_id"], "eee19b7ec3c1b174");
    assert_eq!(first.attributes["retry"], "2");
    assert_eq!(first.attributes["otel.scope.name"], "checkout.payments");
    assert!(first.attributes["order"].contains("\"A-1\""), "{:?}", first.attributes);
}

#[test]
fn observed_time_and_structured_bodies_are_used_when_that_is_all_there_is() {
    let logs = mapped(&export());
    let second = logs[1].as_ref().unwrap();
    assert_eq!(second.timestamp.unwrap().to_string(), "2025-12-06T00:00:01Z");
    assert!(second.line.contains("structured"), "{}", second.line);
    assert!(!second.attributes.contains_key("trace_id"));
}

#[test]
fn an_empty_body_is_refused_with_a_reason() {
    let logs = mapped(&export());
    let refused = logs[2].as_ref().unwrap_err();
    assert_eq!(refused.code, "invalid_record");
    assert!(refused.reason.contains("empty body"), "{}", refused.reason);
}

#[test]
fn a_record_without_service_name_is_refused() {
    let mut request = export();
    request.resource_logs[0].resource = None;
    let logs = mapped_without_resource(&request);
    let refused = logs[0].as_ref().unwrap_err();
    assert!(refused.reason.contains("service.name"), "{}", refused.reason);
}

fn mapped_without_resource(request: &ExportLogsServiceRequest) -> Vec<Result<RawLog, Unmappable>> {
    request.resource_logs[0].scope_logs[0]
        .log_records
        .iter()
        .map(|record| raw_log(&[], "", record))
        .collect()
}

#[test]
fn protobuf_round_trips_to_the_same_request() {
    let request = export();
    let bytes = request.encode_to_vec();
    assert_eq!(decode(Encoding::Protobuf, &bytes).unwrap(), request);
    assert!(decode(Encoding::Protobuf, b"\xff\xff\xff").is_err());
    assert!(decode(Encoding::Json, b"{\"resourceLogs\": 3}").is_err());
}

#[test]
fn otlp_json_is_told_from_ndjson_by_its_first_key() {
    assert!(is_otlp_json(JSON_EXPORT.as_bytes()));
    assert!(is_otlp_json(b"  {  \"resourceLogs\":[]}"));
    assert!(!is_otlp_json(b"{\"service\":\"a\",\"line\":\"resourceLogs\"}\n"));
    assert!(!is_otlp_json(b""));
    assert!(!is_otlp_json(b"[1]"));
}
