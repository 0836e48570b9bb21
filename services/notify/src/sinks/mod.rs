//! The targets' wire formats: one module per tool turns a [`Notification`] into the
//! requests its API documents and its answers into success or a [`Failure`] (retryable with
//! an optional `Retry-After`, or not). Every request goes through the workspace's
//! [`OutboundClient`]; retries and dead letters are the caller's ([`crate::delivery`]).

pub mod opsgenie;
pub mod pagerduty;
pub mod slack;
pub mod teams;
pub mod webhook;

use std::time::Duration;

use opsline_events::incidents::Incident;
use opsline_events::notify::Transition;
use opsline_runtime::outbound::{OutboundClient, OutboundError, OutboundResponse};
use secrecy::{ExposeSecret, SecretString};

use crate::config::TargetKind;
use crate::rules::sev_of;

/// One notification: a transition of an incident (the revision that brought it).
#[derive(Debug, Clone)]
pub struct Notification {
    /// What happened.
    pub transition: Transition,
    /// The incident as of the revision.
    pub incident: Incident,
}

/// A Slack thread: the channel and `ts` of its parent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// Channel id.
    pub channel: String,
    /// The parent message's `ts`.
    pub ts: String,
}

/// Why a target did not take a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Bounded code (metrics label, dead-letter `error_code`).
    pub code: &'static str,
    /// What happened, in words (no secret, no URL).
    pub reason: String,
    /// Whether trying again may succeed.
    pub retryable: bool,
    /// How long the target asked to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure retrying will not fix.
    pub fn fatal(code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            retryable: false,
            retry_after: None,
        }
    }

    /// A failure that may go away.
    pub fn retryable(code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            retryable: true,
            retry_after: None,
        }
    }
}

/// A configured target, ready to send.
#[derive(Clone)]
pub struct Sink {
    /// Its name (`[targets.<name>]`).
    pub name: String,
    /// The tool.
    pub kind: TargetKind,
    /// The API base, the webhook URL, or (Teams) nothing: the secret is the URL.
    pub base_url: String,
    /// Slack channel.
    pub channel: String,
    /// The credential.
    pub secret: Option<SecretString>,
    /// The link to an incident (`{id}` replaced).
    pub incident_url: Option<String>,
    /// The HTTP client.
    pub client: OutboundClient,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What a delivery attempt keeps between retries (a Slack thread reply already posted is
/// not posted again when only the parent's update failed).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// The thread, known or created by this notification.
    pub thread: Option<Thread>,
    /// Slack: the thread reply was posted.
    pub replied: bool,
}

impl Sink {
    /// Sends `notification`; `progress` carries the thread in and out.
    pub async fn send(&self, notification: &Notification, progress: &mut Progress) -> Result<(), Failure> {
        match self.kind {
            TargetKind::Slack => slack::send(self, notification, progress).await,
            TargetKind::Teams => teams::send(self, notification).await,
            TargetKind::Pagerduty => pagerduty::send(self, notification).await,
            TargetKind::Opsgenie => opsgenie::send(self, notification).await,
            TargetKind::Webhook => webhook::send(self, notification).await,
        }
    }

    /// The credential as text (only to build a request).
    fn secret_text(&self) -> Result<&str, Failure> {
        self.secret
            .as_ref()
            .map(ExposeSecret::expose_secret)
            .ok_or_else(|| Failure::fatal("no_secret", format!("target {} has no secret", self.name)))
    }

    /// The incident's link, when configured.
    pub fn link(&self, incident: &Incident) -> Option<String> {
        self.incident_url
            .as_deref()
            .filter(|url| !url.is_empty())
            .map(|url| url.replace("{id}", &incident.incident_id.to_string()))
    }

    /// POSTs JSON to `url` and classifies the answer by its status.
    async fn post(
        &self,
        url: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Result<OutboundResponse, Failure> {
        let response = self.client.post_json(url, body, headers).await.map_err(unreachable)?;
        by_status(self.kind.as_str(), response)
    }
}

/// An outbound error as a failure.
pub(crate) fn unreachable(error: OutboundError) -> Failure {
    if error.is_retryable() {
        Failure::retryable("unreachable", error.to_string())
    } else {
        Failure::fatal("invalid_request", error.to_string())
    }
}

/// 2xx is success; 429 and 5xx are retried (honouring `Retry-After`); 401/403, 404 and
/// other 4xx are not.
pub(crate) fn by_status(vendor: &str, response: OutboundResponse) -> Result<OutboundResponse, Failure> {
    let status = response.status.as_u16();
    if response.is_success() {
        return Ok(response);
    }
    let snippet: String = response.body_snippet.chars().take(200).collect();
    let reason = format!("{vendor} answered {status}: {snippet}");
    let mut failure = match status {
        429 => Failure::retryable("rate_limited", reason),
        500..=599 => Failure::retryable("server_error", reason),
        401 | 403 => Failure::fatal("unauthorized", reason),
        404 => Failure::fatal("not_found", reason),
        _ => Failure::fatal("rejected", reason),
    };
    failure.retry_after = response.retry_after;
    Err(failure)
}

/// A one-line summary: `[SEV2] <title> (<service>)`.
pub fn summary(incident: &Incident) -> String {
    format!(
        "[{}] {} ({})",
        sev_of(incident).as_str().to_ascii_uppercase(),
        incident.title,
        incident.service
    )
}

/// What happened, in words.
pub fn headline(notification: &Notification) -> String {
    let incident = &notification.incident;
    match notification.transition {
        Transition::Opened => format!("Incident opened: {}", incident.title),
        Transition::SeverityChanged => format!("Severity is now {}", sev_of(incident).as_str()),
        Transition::Acknowledged => format!("Acknowledged by {}", acknowledged_by(incident)),
        Transition::Resolved => format!("Resolved by {}", incident.resolved_by.as_deref().unwrap_or("someone")),
    }
}

/// Who acknowledged the incident.
pub fn acknowledged_by(incident: &Incident) -> &str {
    incident
        .response
        .as_ref()
        .and_then(|r| r.acknowledged_by.as_deref())
        .unwrap_or("someone")
}

/// The status in words: `open`, `acknowledged` or `resolved`.
pub fn status_word(incident: &Incident) -> &'static str {
    if incident.status == opsline_events::incidents::IncidentStatus::Resolved {
        "resolved"
    } else if crate::transitions::is_acknowledged(incident) {
        "acknowledged"
    } else {
        "open"
    }
}

/// `text` cut to at most `max` characters.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
