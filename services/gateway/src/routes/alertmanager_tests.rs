#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn now() -> Timestamp {
    "2026-03-10T12:00:00Z".parse().unwrap()
}

/// An Alertmanager webhook alert in the documented version-4 shape (made-up values).
fn alert(status: &str) -> WebhookAlert {
    serde_json::from_value(serde_json::json!({
        "status": status,
        "labels": {"alertname": "HighErrorRate", "job": "Checkout", "severity": "page", "instance": "web-3.example.net:9100"},
        "annotations": {"description": "5xx above 5%", "runbook_url": "https://runbooks/checkout"},
        "startsAt": "2026-03-10T11:00:00Z",
        "endsAt": if status == "resolved" { "2026-03-10T11:20:00Z" } else { "0001-01-01T00:00:00Z" },
        "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
        "fingerprint": "c0ffee1234567890"
    }))
    .unwrap()
}

#[test]
fn labels_and_annotations_map_onto_the_external_alert() {
    let firing = external_alert(alert("firing"), "alertmanager", now()).unwrap();
    assert_eq!(firing.service, "checkout", "job label, lower-cased");
    assert_eq!(firing.name, "HighErrorRate");
    assert_eq!(firing.severity, Severity::Critical);
    assert_eq!(firing.summary, "5xx above 5%");
    assert_eq!(firing.host.as_deref(), Some("web-3.example.net"));
    assert_eq!(firing.status, ExternalAlertStatus::Firing);
    assert_eq!(firing.ends_at, None, "a firing alert's end is a guess");
    assert_eq!(firing.annotations["runbook_url"], "https://runbooks/checkout");
    assert_eq!(firing.source, "alertmanager");
}

#[test]
fn firing_and_resolved_share_the_id_and_a_new_start_gets_a_new_one() {
    let firing = external_alert(alert("firing"), "alertmanager", now()).unwrap();
    let resolved = external_alert(alert("resolved"), "alertmanager", now()).unwrap();
    assert_eq!(firing.alert_id, resolved.alert_id);
    assert_eq!(resolved.ends_at.unwrap().to_string(), "2026-03-10T11:20:00Z");
    let mut later = alert("firing");
    later.starts_at = Some("2026-03-11T09:00:00Z".parse().unwrap());
    assert_ne!(
        external_alert(later, "alertmanager", now()).unwrap().alert_id,
        firing.alert_id
    );
}

#[test]
fn service_severity_and_fingerprint_fall_back() {
    let mut bare = alert("firing");
    bare.labels = BTreeMap::from([("alertname".to_owned(), "DiskFull".to_owned())]);
    bare.annotations.clear();
    bare.fingerprint = None;
    let mapped = external_alert(bare, "alertmanager", now()).unwrap();
    assert_eq!(mapped.service, "diskfull");
    assert_eq!(mapped.severity, Severity::Warning);
    assert_eq!(mapped.summary, "DiskFull");
    assert_eq!(mapped.fingerprint.len(), 16);
    assert_eq!(mapped.host, None);
}

#[test]
fn bad_alerts_say_why() {
    let mut unnamed = alert("firing");
    unnamed.labels.remove("alertname");
    assert!(
        external_alert(unnamed, "alertmanager", now())
            .unwrap_err()
            .contains("alertname")
    );
    let mut odd = alert("firing");
    odd.status = Some("pending".into());
    assert!(
        external_alert(odd, "alertmanager", now())
            .unwrap_err()
            .contains("pending")
    );
}

#[test]
fn ports_are_stripped_from_instances() {
    assert_eq!(strip_port("db-1:5432"), "db-1");
    assert_eq!(strip_port("[2001:db8::1]:9100"), "2001:db8::1");
    assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
    assert_eq!(strip_port("plain-host"), "plain-host");
}

/// Grafana's webhook contact point: the Alertmanager shape with `"version": "1"` and extra
/// fields (the documented example's fields, made-up values).
#[test]
fn grafana_webhook_alerts_map_the_same_way() {
    let value = serde_json::json!({
        "status": "firing",
        "labels": {"alertname": "DiskUsage", "grafana_folder": "Infra", "service": "db", "severity": "warning"},
        "annotations": {"summary": "disk 91% full"},
        "startsAt": "2026-03-10T11:30:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://grafana.example/alerting/grafana/abc/view",
        "fingerprint": "57c6d9296de2ad39",
        "silenceURL": "https://grafana.example/alerting/silence/new",
        "dashboardURL": "", "panelURL": "", "values": {"B": 91.2}, "valueString": "[ var='B' value=91.2 ]"
    });
    let alert: WebhookAlert = serde_json::from_value(value).unwrap();
    let mapped = external_alert(alert, "grafana", now()).unwrap();
    assert_eq!(mapped.source, "grafana");
    assert_eq!(mapped.service, "db");
    assert_eq!(mapped.severity, Severity::Warning);
    assert_eq!(mapped.fingerprint, "57c6d9296de2ad39");
}

/// Alertmanager's API (`/api/v2/alerts`, what Grafana's Alertmanager contact point posts): no
/// status, resolved when `endsAt` has passed, started now when no start is given.
#[test]
fn api_alerts_take_their_status_from_ends_at() {
    let posted = |ends_at: Option<&str>| -> WebhookAlert {
        let mut value = serde_json::json!({"labels": {"alertname": "Down", "job": "api"}, "annotations": {}});
        if let Some(end) = ends_at {
            value["endsAt"] = serde_json::json!(end);
        }
        serde_json::from_value(value).unwrap()
    };
    let open = external_alert(posted(None), "alertmanager-api", now()).unwrap();
    assert_eq!(open.status, ExternalAlertStatus::Firing);
    assert_eq!(open.starts_at, now());
    let future = external_alert(posted(Some("2026-03-10T13:00:00Z")), "alertmanager-api", now()).unwrap();
    assert_eq!(future.status, ExternalAlertStatus::Firing);
    let ended = external_alert(posted(Some("2026-03-10T11:59:00Z")), "alertmanager-api", now()).unwrap();
    assert_eq!(ended.status, ExternalAlertStatus::Resolved);
}
