//! The SaaS helpdesks, each a [`crate::sink::HelpdeskSink`] over the shared [`crate::sink::Api`]:
//! Jira Service Management ([`jira`]), ServiceNow ([`servicenow`]) and Zendesk ([`zendesk`]).
//! Their tickets reach Opsline through the gateway's `/v1/tickets` with a key named after the
//! connector's `ticket_prefix` (a helpdesk trigger or automation posting them), so routed ids
//! are `<prefix>:<the helpdesk's id>`.
//!
//! Delivery: at least once. Each revision is one idempotent field update (queue/group,
//! priority) plus one private comment or work note; those are append-only in these helpdesks,
//! so a replayed revision repeats its note (the fields are the same). Contract tests:
//! `services/helpdesk/tests/saas_contract.rs`, built from each vendor's documented requests,
//! answers and error codes.

pub mod jira;
pub mod servicenow;
pub mod zendesk;

use std::collections::BTreeMap;
use std::path::PathBuf;

use opsline_events::tickets::RoutedTicket;
use opsline_runtime::StartupError;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::resolve_secret;
use crate::sink::Api;

/// One SaaS helpdesk's settings (`[jira]`, `[servicenow]`, `[zendesk]`). Off while `url` is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SaasConfig {
    /// The instance's base URL (`https://example.atlassian.net`, `https://example.service-now.com`,
    /// `https://example.zendesk.com`); empty = off.
    pub url: String,
    /// The ticket-id prefix of this helpdesk's tickets in Opsline: the gateway key's name.
    pub ticket_prefix: String,
    /// Basic auth user: the Atlassian account e-mail, the ServiceNow user, the Zendesk agent e-mail.
    pub user: String,
    /// The API token (Jira, Zendesk) or password (ServiceNow), e.g. `OPSLINE_JIRA__PASSWORD`.
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// ...or a file holding it.
    pub password_file: Option<PathBuf>,
    /// An OAuth bearer token instead of basic auth (ServiceNow), e.g. `OPSLINE_SERVICENOW__TOKEN`.
    #[serde(skip_serializing)]
    pub token: Option<SecretString>,
    /// ...or a file holding it.
    pub token_file: Option<PathBuf>,
    /// A PEM file of extra CA certificates trusted for the instance.
    pub ca_file: Option<PathBuf>,
    /// The queue/group is set only at or above this routing confidence.
    pub min_confidence: f64,
    /// Opsline queue -> the helpdesk's group: a Jira component name, a ServiceNow
    /// `assignment_group` (sys_id or name), a Zendesk `group_id`. Unlisted queues set no group.
    pub groups: BTreeMap<String, String>,
}

impl Default for SaasConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            ticket_prefix: String::new(),
            user: String::new(),
            password: None,
            password_file: None,
            token: None,
            token_file: None,
            ca_file: None,
            min_confidence: 0.6,
            groups: BTreeMap::new(),
        }
    }
}

impl SaasConfig {
    /// The default settings of the connector whose tickets carry `prefix`.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            ticket_prefix: prefix.to_owned(),
            ..Self::default()
        }
    }

    /// These settings for connector `name`: an empty `ticket_prefix` (a section written without
    /// one inside `opsline up`'s `[helpdesk]`, where the service's defaults do not apply) is `name`.
    pub fn named(&self, name: &str) -> Self {
        let mut config = self.clone();
        if config.ticket_prefix.trim().is_empty() {
            config.ticket_prefix = name.to_owned();
        }
        config
    }

    /// Whether the connector is configured.
    pub fn enabled(&self) -> bool {
        !self.url.trim().is_empty()
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// The group of `ticket`'s queue, when confident enough and mapped.
    pub fn group_of(&self, ticket: &RoutedTicket) -> Option<&str> {
        (ticket.confidence >= self.min_confidence)
            .then(|| self.groups.get(&ticket.queue))
            .flatten()
            .map(String::as_str)
    }

    /// The `Authorization` header: a bearer token, or basic auth of `user:password` where
    /// `basic_user` turns the user into what the vendor expects (Zendesk: `<email>/token`).
    pub fn authorization(&self, name: &str, basic_user: impl Fn(&str) -> String) -> Result<SecretString, StartupError> {
        let token = resolve_secret(
            self.token.as_ref(),
            self.token_file.as_deref(),
            &format!("{name}.token"),
        )?;
        let password = resolve_secret(
            self.password.as_ref(),
            self.password_file.as_deref(),
            &format!("{name}.password"),
        )?;
        match (token, password) {
            (Some(token), None) => Ok(SecretString::from(format!("Bearer {}", token.expose_secret()))),
            (None, Some(password)) if !self.user.is_empty() => Ok(Api::basic(&basic_user(&self.user), &password)),
            (None, Some(_)) => Err(StartupError::new(format!("{name}.password needs {name}.user"))),
            (Some(_), Some(_)) => Err(StartupError::new(format!(
                "set {name}.token or {name}.password, not both"
            ))),
            (None, None) => Err(StartupError::new(format!(
                "{name} needs credentials: {name}.user with {name}.password (or password_file)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_without_a_prefix_takes_the_connector_s_name() {
        let parsed: SaasConfig = serde_json::from_str(r#"{"url": "https://example.zendesk.com"}"#).unwrap_or_default();
        assert_eq!(parsed.ticket_prefix, "");
        assert_eq!(parsed.named("zendesk").ticket_prefix, "zendesk");
        assert_eq!(SaasConfig::with_prefix("zd").named("zendesk").ticket_prefix, "zd");
    }
}
