//! Slack: `chat.postMessage` (JSON, `Authorization: Bearer <bot token>`) with Block Kit. The
//! first message about an incident is the parent of its thread and carries an **Acknowledge**
//! button (`action_id` [`ACKNOWLEDGE_ACTION`], `value` = incident id); every later transition is
//! a reply in that thread (`thread_ts`) and the parent is brought up to date with `chat.update`.
//! Slack answers HTTP 200 with `{"ok":false,"error":"..."}` on most errors: transient ones
//! (`ratelimited`, `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout`)
//! are retried, the others (`invalid_auth`, `channel_not_found`, ...) are not.

use http::Method;
use opsline_events::incidents::IncidentStatus;
use opsline_events::notify::Transition;
use serde_json::{Value, json};

use super::{
    Failure, Notification, Progress, Sink, Thread, by_status, cut, headline, status_word, summary, unreachable,
};
use crate::rules::sev_of;
use crate::transitions::is_acknowledged;

/// The `action_id` of the Acknowledge button (the gateway's interaction route looks for it).
pub use opsline_events::actions::SLACK_ACKNOWLEDGE_ACTION as ACKNOWLEDGE_ACTION;

/// Slack's answers are read whole up to this size.
const MAX_ANSWER: usize = 256 * 1024;

/// Sends one transition: a new parent message, or a thread reply plus an update of the parent.
pub(super) async fn send(sink: &Sink, notification: &Notification, progress: &mut Progress) -> Result<(), Failure> {
    let incident = &notification.incident;
    let Some(thread) = progress.thread.clone() else {
        // No thread yet (the first message, or the parent never got through): start one.
        let mut body = parent(sink, notification);
        body["channel"] = json!(sink.channel);
        let answer = call(sink, "chat.postMessage", &body).await?;
        let ts = answer["ts"].as_str().unwrap_or_default().to_owned();
        let channel = answer["channel"].as_str().unwrap_or(&sink.channel).to_owned();
        if ts.is_empty() {
            return Err(Failure::fatal("bad_answer", "slack answered ok without a ts"));
        }
        progress.thread = Some(Thread { channel, ts });
        return Ok(());
    };
    if !progress.replied {
        let text = format!("{} ({})", headline(notification), status_word(incident));
        let reply = json!({
            "channel": thread.channel,
            "thread_ts": thread.ts,
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": escape(&text)}}],
        });
        call(sink, "chat.postMessage", &reply).await?;
        progress.replied = true;
    }
    let mut update = parent(sink, notification);
    update["channel"] = json!(thread.channel);
    update["ts"] = json!(thread.ts);
    call(sink, "chat.update", &update).await?;
    Ok(())
}

/// The parent message as of this revision: header, facts, and the buttons while it is open.
fn parent(sink: &Sink, notification: &Notification) -> Value {
    let incident = &notification.incident;
    let mut facts = format!(
        "*Service:* {}\n*Severity:* {}\n*Status:* {}",
        escape(&incident.service),
        sev_of(incident).as_str(),
        status_word(incident)
    );
    if let Some(by) = incident.response.as_ref().and_then(|r| r.acknowledged_by.as_deref()) {
        facts.push_str(&format!("\n*Acknowledged by:* {}", escape(by)));
    }
    if let Some(why) = incident.attention.as_ref().map(|a| a.why.as_str()) {
        facts.push_str(&format!("\n{}", escape(&cut(why, 2000))));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&summary(incident), 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": facts}}),
    ];
    let mut buttons = Vec::new();
    if incident.status == IncidentStatus::Open && !is_acknowledged(incident) {
        buttons.push(json!({
            "type": "button",
            "text": {"type": "plain_text", "text": "Acknowledge"},
            "style": "primary",
            "action_id": ACKNOWLEDGE_ACTION,
            "value": incident.incident_id.to_string(),
        }));
    }
    if let Some(url) = sink.link(incident) {
        buttons.push(json!({
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in Opsline"},
            "action_id": "opsline_open",
            "url": url,
        }));
    }
    if !buttons.is_empty() {
        blocks.push(
            json!({"type": "actions", "block_id": format!("incident:{}", incident.incident_id), "elements": buttons}),
        );
    }
    let text = match notification.transition {
        Transition::Opened => summary(incident),
        _ => format!("{} ({})", summary(incident), status_word(incident)),
    };
    json!({"text": text, "blocks": blocks})
}

/// Calls a Web API method and returns its answer when `ok` is true.
async fn call(sink: &Sink, method: &str, body: &Value) -> Result<Value, Failure> {
    let url = format!("{}/{method}", sink.base_url.trim_end_matches('/'));
    let authorization = format!("Bearer {}", sink.secret_text()?);
    let response = sink
        .client
        .request_json(
            Method::POST,
            &url,
            Some(body),
            &[("authorization", &authorization)],
            MAX_ANSWER,
        )
        .await
        .map_err(unreachable)?;
    let response = by_status("slack", response)?;
    let answer: Value = serde_json::from_str(&response.body_snippet)
        .map_err(|e| Failure::retryable("bad_answer", format!("slack answer is not JSON: {e}")))?;
    if answer["ok"].as_bool() == Some(true) {
        return Ok(answer);
    }
    let error = answer["error"].as_str().unwrap_or("unknown_error").to_owned();
    let reason = format!("slack {method}: {error}");
    Err(match error.as_str() {
        "ratelimited" | "rate_limited" => Failure::retryable("rate_limited", reason),
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            Failure::retryable("server_error", reason)
        }
        "invalid_auth" | "not_authed" | "account_inactive" | "token_revoked" | "token_expired" | "missing_scope"
        | "no_permission" => Failure::fatal("unauthorized", reason),
        "channel_not_found" | "message_not_found" | "thread_not_found" => Failure::fatal("not_found", reason),
        _ => Failure::fatal("rejected", reason),
    })
}

/// Escapes `&`, `<` and `>` as Slack's text formatting asks.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
