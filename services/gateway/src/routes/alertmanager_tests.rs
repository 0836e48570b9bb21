#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

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
    let firing = external_alert(alert("firing")).unwrap();
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
    let firing = external_alert(alert("firing")).unwrap();
    let resolved = external_alert(alert("resolved")).unwrap();
    assert_eq!(firing.alert_id, resolved.alert_id);
    assert_eq!(resolved.ends_at.unwrap().to_string(), "2026-03-10T11:20:00Z");
    let mut later = alert("firing");
    later.starts_at = "2026-03-11T09:00:00Z".parse().unwrap();
    assert_ne!(external_alert(later).unwrap().alert_id, firing.alert_id);
}

#[test]
fn service_severity_and_fingerprint_fall_back() {
    let mut bare = alert("firing");
    bare.labels = BTreeMap::from([("alertname".to_owned(), "DiskFull".to_owned())]);
    bare.annotations.clear();
    bare.fingerprint = None;
    let mapped = external_alert(bare).unwrap();
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
    assert!(external_alert(unnamed).unwrap_err().contains("alertname"));
    let mut odd = alert("firing");
    odd.status = "pending".into();
    assert!(external_alert(odd).unwrap_err().contains("pending"));
}

#[test]
fn ports_are_stripped_from_instances() {
    assert_eq!(strip_port("db-1:5432"), "db-1");
    assert_eq!(strip_port("[2001:db8::1]:9100"), "2001:db8::1");
    assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
    assert_eq!(strip_port("plain-host"), "plain-host");
}

#[test]
fn bearer_tokens_are_checked_by_hash() {
    let hash: String = Sha256::digest(b"s3cret").iter().map(|b| format!("{b:02x}")).collect();
    let mut headers = HeaderMap::new();
    assert!(authorized(&headers, &[]), "no tokens configured: open");
    assert!(!authorized(&headers, std::slice::from_ref(&hash)));
    headers.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
    assert!(!authorized(&headers, std::slice::from_ref(&hash)));
    headers.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
    assert!(authorized(&headers, &[hash.to_uppercase()]));
}
