//! Opsgenie Alert API (`Authorization: GenieKey <key>`): `POST /v2/alerts` creates the alert
//! with the incident id as `alias` (a severity change creates it again: Opsgenie deduplicates
//! by alias); `POST /v2/alerts/{alias}/acknowledge?identifierType=alias` and `.../close`
//! follow it. Opsgenie answers 202 `{"result":"Request will be processed",...}`; 401, 403 and
//! 404 are not retried, 429 and 5xx are.

use opsline_events::incidents::SevLevel;
use opsline_events::notify::Transition;
use serde_json::json;

use super::{Failure, Notification, Sink, acknowledged_by, cut, summary};
use crate::rules::sev_of;

/// Opsgenie's priority for a level.
fn priority(level: SevLevel) -> &'static str {
    match level {
        SevLevel::Sev1 => "P1",
        SevLevel::Sev2 => "P2",
        SevLevel::Sev3 => "P3",
        SevLevel::Sev4 => "P4",
    }
}

pub(super) async fn send(sink: &Sink, notification: &Notification) -> Result<(), Failure> {
    let incident = &notification.incident;
    let alias = incident.incident_id.to_string();
    let base = sink.base_url.trim_end_matches('/');
    let (url, body) = match notification.transition {
        Transition::Opened | Transition::SeverityChanged => {
            let mut details = serde_json::Map::new();
            details.insert("service".into(), json!(incident.service));
            if let Some(url) = sink.link(incident) {
                details.insert("link".into(), json!(url));
            }
            (
                format!("{base}/v2/alerts"),
                json!({
                    "message": cut(&summary(incident), 130),
                    "alias": alias,
                    "description": cut(incident.attention.as_ref().map_or(incident.title.as_str(), |a| a.why.as_str()), 15_000),
                    "priority": priority(sev_of(incident)),
                    "entity": incident.service,
                    "source": "Opsline",
                    "tags": ["opsline", sev_of(incident).as_str()],
                    "details": details,
                }),
            )
        }
        Transition::Acknowledged => (
            format!("{base}/v2/alerts/{alias}/acknowledge?identifierType=alias"),
            json!({"user": acknowledged_by(incident), "source": "Opsline", "note": "Acknowledged in Opsline"}),
        ),
        Transition::Resolved => (
            format!("{base}/v2/alerts/{alias}/close?identifierType=alias"),
            json!({"user": incident.resolved_by.as_deref().unwrap_or("Opsline"), "source": "Opsline", "note": "Resolved in Opsline"}),
        ),
    };
    let authorization = format!("GenieKey {}", sink.secret_text()?);
    sink.post(&url, &body, &[("authorization", &authorization)])
        .await
        .map(|_| ())
}
