//! PagerDuty Events API v2: `POST /v2/enqueue` with the integration's `routing_key`, the
//! incident id as `dedup_key` (so acknowledge and resolve reach the alert the trigger opened),
//! and `event_action` `trigger` (opened, severity changed), `acknowledge` or `resolve`. A
//! trigger carries `payload.summary` (at most 1024 characters), `payload.severity`
//! (`critical`, `error`, `warning`, `info`) and `payload.source`. PagerDuty answers 202
//! `{"status":"success","dedup_key":...}`; 400 is an invalid event (not retried), 429 and 5xx are retried.

use opsline_events::incidents::SevLevel;
use opsline_events::notify::Transition;
use serde_json::json;

use super::{Failure, Notification, Sink, cut, summary};
use crate::rules::sev_of;

/// PagerDuty's severity for a level.
fn severity(level: SevLevel) -> &'static str {
    match level {
        SevLevel::Sev1 => "critical",
        SevLevel::Sev2 => "error",
        SevLevel::Sev3 => "warning",
        SevLevel::Sev4 => "info",
    }
}

pub(super) async fn send(sink: &Sink, notification: &Notification) -> Result<(), Failure> {
    let incident = &notification.incident;
    let action = match notification.transition {
        Transition::Opened | Transition::SeverityChanged => "trigger",
        Transition::Acknowledged => "acknowledge",
        Transition::Resolved => "resolve",
    };
    let mut body = json!({
        "routing_key": sink.secret_text()?,
        "event_action": action,
        "dedup_key": incident.incident_id.to_string(),
    });
    if action == "trigger" {
        let attention = incident.attention.as_ref();
        body["payload"] = json!({
            "summary": cut(&summary(incident), 1024),
            "severity": severity(sev_of(incident)),
            "source": attention.and_then(|a| a.hosts.first()).unwrap_or(&incident.service),
            "component": incident.service,
            "class": "opsline.incident",
            "custom_details": {
                "why": attention.map(|a| a.why.as_str()),
                "alerts": attention.map(|a| a.alert_count),
                "opened_at": incident.opened_at,
            },
        });
        body["client"] = json!("Opsline");
        if let Some(url) = sink.link(incident) {
            body["client_url"] = json!(url);
            body["links"] = json!([{"href": url, "text": "Incident in Opsline"}]);
        }
    }
    let url = format!("{}/v2/enqueue", sink.base_url.trim_end_matches('/'));
    sink.post(&url, &body, &[]).await.map(|_| ())
}
