//! Similar past incidents and runbooks for the incident page, from the postmortem service's
//! search index (`POST {postmortem_url}/v1/similar`, its compact answer), asked with the
//! caller's own token so that service applies the caller's role and teams. Best effort: when
//! the postmortem service is not configured or does not answer, the page says so.

use opsline_events::logs::Incident;
use opsline_runtime::outbound::OutboundClient;
use serde::Deserialize;

/// Longest wait for the postmortem service.
const WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// One similar document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SimilarDoc {
    /// Document id (a postmortem id, or `path:<file>` for a runbook).
    pub id: String,
    /// `postmortem` or `runbook`.
    pub kind: String,
    /// `draft`, `reviewed` or `published`.
    pub status: String,
    /// Title.
    pub title: String,
}

#[derive(Debug, Deserialize)]
struct Answer {
    hits: Vec<SimilarDoc>,
}

/// The words an incident is searched by: its service, title and why it was opened.
pub fn query_of(incident: &Incident) -> String {
    let mut text = format!("{} {}", incident.service, incident.title);
    if let Some(attention) = &incident.attention {
        text.push(' ');
        text.push_str(&attention.why);
    }
    text
}

/// Documents similar to `incident` (its own postmortem left out), or why there are none.
pub async fn similar(
    client: &OutboundClient,
    postmortem_url: &str,
    token: Option<&str>,
    incident: &Incident,
) -> Result<Vec<SimilarDoc>, String> {
    if postmortem_url.is_empty() {
        return Err("no postmortem service is configured".to_owned());
    }
    let token = token.ok_or_else(|| "no token to ask the postmortem service with".to_owned())?;
    let authorization = format!("Bearer {token}");
    let body = serde_json::json!({ "q": query_of(incident), "limit": 5 });
    let url = format!("{postmortem_url}/v1/similar");
    let headers = [("authorization", authorization.as_str())];
    let call = client.post_json(&url, &body, &headers);
    // The page does not wait long for a side panel.
    let answer = tokio::time::timeout(WAIT, call)
        .await
        .map_err(|_| format!("the postmortem service did not answer within {} s", WAIT.as_secs()))?
        .map_err(|e| format!("the postmortem service did not answer: {e}"))?;
    if !answer.is_success() {
        return Err(format!("the postmortem service answered {}", answer.status));
    }
    let own = opsline_events::ops::postmortem_id(incident.incident_id).to_string();
    let parsed: Answer = serde_json::from_str(&answer.body_snippet)
        .map_err(|e| format!("the postmortem service's answer did not parse: {e}"))?;
    Ok(parsed.hits.into_iter().filter(|h| h.id != own).collect())
}
