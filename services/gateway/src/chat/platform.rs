//! The request formats of the chat platforms, turned into [`ChatMessage`]s:
//! Slack's Events API (JSON) and slash commands (form-encoded), and Opsline's
//! generic JSON webhook.

use opsline_events::ops::ChatMessage;
use serde::Deserialize;

use super::signature::Refusal;

/// What a verified Slack request asks of the gateway.
#[derive(Debug, PartialEq)]
pub(crate) enum SlackRequest {
    /// `url_verification`: answer the challenge.
    Challenge(String),
    /// An event to ignore (bot messages, edits, other event types), with why.
    Ignored(&'static str),
    /// A user's message; `event_id` is remembered against replays.
    Message {
        /// Slack's event id, when the request was an event callback.
        event_id: Option<String>,
        /// The message.
        message: ChatMessage,
        /// Whether it came from a slash command (answered with an ephemeral text).
        slash_command: bool,
    },
}

#[derive(Debug, Deserialize)]
struct SlackEnvelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<SlackEvent>,
}

#[derive(Debug, Deserialize)]
struct SlackEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SlashCommand {
    user_id: String,
    channel_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    command: String,
    #[serde(default)]
    response_url: Option<String>,
}

/// The generic webhook's body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookMessage {
    user_id: String,
    channel_id: String,
    text: String,
    #[serde(default)]
    reply_url: Option<String>,
}

/// Longest message text accepted, in bytes.
const MAX_TEXT_BYTES: usize = 4_000;

fn bad(reason: impl Into<String>) -> Refusal {
    Refusal::new("bad_request", reason)
}

fn checked(message: ChatMessage) -> Result<ChatMessage, Refusal> {
    if message.user_id.trim().is_empty() || message.channel_id.trim().is_empty() {
        return Err(bad("user and channel ids must not be empty"));
    }
    if message.text.len() > MAX_TEXT_BYTES {
        return Err(bad(format!("message text longer than {MAX_TEXT_BYTES} bytes")));
    }
    if let Some(url) = &message.response_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(bad("reply URL must be http(s)"));
        }
    }
    Ok(message)
}

/// Parses a verified Slack request body of media type `media`.
pub(crate) fn parse_slack(media: &str, body: &[u8]) -> Result<SlackRequest, Refusal> {
    match media {
        "application/json" => {
            let envelope: SlackEnvelope =
                serde_json::from_slice(body).map_err(|e| bad(format!("invalid Slack event JSON: {e}")))?;
            match envelope.kind.as_str() {
                "url_verification" => Ok(SlackRequest::Challenge(envelope.challenge.unwrap_or_default())),
                "event_callback" => {
                    let Some(event) = envelope.event else {
                        return Err(bad("event_callback without an event"));
                    };
                    if event.kind != "message" && event.kind != "app_mention" {
                        return Ok(SlackRequest::Ignored("event type not handled"));
                    }
                    if event.bot_id.is_some() || event.subtype.is_some() {
                        return Ok(SlackRequest::Ignored("bot message or message change"));
                    }
                    let message = checked(ChatMessage {
                        platform: "slack".to_owned(),
                        user_id: event.user.unwrap_or_default(),
                        channel_id: event.channel.unwrap_or_default(),
                        text: event.text.unwrap_or_default(),
                        response_url: None,
                    })?;
                    Ok(SlackRequest::Message {
                        event_id: envelope.event_id,
                        message,
                        slash_command: false,
                    })
                }
                _ => Ok(SlackRequest::Ignored("request type not handled")),
            }
        }
        "application/x-www-form-urlencoded" => {
            let command: SlashCommand =
                serde_urlencoded::from_bytes(body).map_err(|e| bad(format!("invalid slash command: {e}")))?;
            let text = if command.text.trim().is_empty() {
                command.command
            } else {
                command.text
            };
            let message = checked(ChatMessage {
                platform: "slack".to_owned(),
                user_id: command.user_id,
                channel_id: command.channel_id,
                text,
                response_url: command.response_url.filter(|u| !u.is_empty()),
            })?;
            Ok(SlackRequest::Message {
                event_id: None,
                message,
                slash_command: true,
            })
        }
        other => Err(Refusal::new(
            "unsupported_media_type",
            format!("unsupported content type {other:?}; use application/json or application/x-www-form-urlencoded"),
        )),
    }
}

/// Parses a verified generic-webhook body (`{user_id, channel_id, text, reply_url?}`).
pub(crate) fn parse_webhook(body: &[u8]) -> Result<ChatMessage, Refusal> {
    let input: WebhookMessage = serde_json::from_slice(body).map_err(|e| bad(format!("invalid webhook JSON: {e}")))?;
    checked(ChatMessage {
        platform: "webhook".to_owned(),
        user_id: input.user_id,
        channel_id: input.channel_id,
        text: input.text,
        response_url: input.reply_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_formats() {
        let challenge = parse_slack(
            "application/json",
            br#"{"type":"url_verification","token":"x","challenge":"abc"}"#,
        )
        .unwrap();
        assert_eq!(challenge, SlackRequest::Challenge("abc".into()));
        let event = parse_slack(
            "application/json",
            br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","user":"U1","channel":"C1","text":"reset my password"}}"#,
        )
        .unwrap();
        let SlackRequest::Message { event_id, message, .. } = event else {
            panic!("not a message")
        };
        assert_eq!(event_id.as_deref(), Some("Ev1"));
        assert_eq!(message.user_id, "U1");
        let bot = parse_slack(
            "application/json",
            br#"{"type":"event_callback","event":{"type":"message","bot_id":"B1","text":"hi"}}"#,
        )
        .unwrap();
        assert!(matches!(bot, SlackRequest::Ignored(_)));
        let slash = parse_slack(
            "application/x-www-form-urlencoded",
            b"user_id=U2&channel_id=D2&command=%2Fhelpdesk&text=reset+my+password&response_url=https%3A%2F%2Fhooks.example%2Fx",
        )
        .unwrap();
        let SlackRequest::Message {
            message, slash_command, ..
        } = slash
        else {
            panic!("not a message")
        };
        assert!(slash_command);
        assert_eq!(message.text, "reset my password");
        assert_eq!(message.response_url.as_deref(), Some("https://hooks.example/x"));
    }

    #[test]
    fn webhook_format() {
        let m = parse_webhook(br#"{"user_id":"U1","channel_id":"C","text":"hi","reply_url":"http://127.0.0.1:1/r"}"#)
            .unwrap();
        assert_eq!(m.platform, "webhook");
        assert!(parse_webhook(br#"{"user_id":"","channel_id":"C","text":"hi"}"#).is_err());
        assert!(parse_webhook(br#"{"user_id":"U","channel_id":"C","text":"hi","reply_url":"file:///etc"}"#).is_err());
    }
}
