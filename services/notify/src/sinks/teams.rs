//! Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
//! received"): a POST of `{"type":"message","attachments":[{"contentType":
//! "application/vnd.microsoft.card.adaptive","content":<Adaptive Card>}]}` to the workflow's
//! URL (the target's `secret`: it carries the signature). The workflow answers 202; 4xx is not
//! retried except 429, 5xx is.

use serde_json::json;

use super::{Failure, Notification, Sink, headline, status_word, summary};
use crate::rules::sev_of;

pub(super) async fn send(sink: &Sink, notification: &Notification) -> Result<(), Failure> {
    let incident = &notification.incident;
    let mut facts = vec![
        json!({"title": "Service", "value": incident.service}),
        json!({"title": "Severity", "value": sev_of(incident).as_str()}),
        json!({"title": "Status", "value": status_word(incident)}),
        json!({"title": "Incident", "value": incident.incident_id.to_string()}),
    ];
    if let Some(why) = incident.attention.as_ref().map(|a| a.why.as_str()) {
        facts.push(json!({"title": "Why", "value": why}));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": headline(notification)},
            {"type": "TextBlock", "wrap": true, "text": summary(incident)},
            {"type": "FactSet", "facts": facts},
        ],
    });
    if let Some(url) = sink.link(incident) {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": "Open in Opsline", "url": url}]);
    }
    let body = json!({
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}],
    });
    let url = sink.secret_text()?.to_owned();
    sink.post(&url, &body, &[]).await.map(|_| ())
}
