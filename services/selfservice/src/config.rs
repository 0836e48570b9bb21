//! Self-service configuration (file + `OPSLINE_*` environment variables, e.g.
//! `OPSLINE_DIRECTORY__BIND_PASSWORD`). Secrets are `SecretString`s and are never
//! serialized or logged.

use std::collections::BTreeMap;
use std::path::PathBuf;

use opsline_kafka::KafkaConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::status::StatusLimits;

/// Settings of the self-service service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfServiceConfig {
    /// Listen address of `/healthz`, `/readyz`, `/metrics` (port 0 picks a free port).
    pub listen: String,
    /// Consumer group of the chat-message consumer.
    pub group_id: String,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Estimated helpdesk cost of one ticket, credited to every automatic resolution.
    pub cost_per_ticket: f64,
    /// The LDAP directory.
    pub directory: DirectoryConfig,
    /// Policy of generated temporary passwords.
    pub password_policy: PasswordPolicy,
    /// The one-time-code second factor.
    pub otp: OtpConfig,
    /// Where one-time codes are sent.
    pub notifier: NotifierConfig,
    /// Private replies to the chat platform.
    pub reply: ReplyConfig,
    /// Per-user limit of privileged attempts (reset requests and code entries).
    pub rate_limit: RateLimitConfig,
    /// Bounds of the materialized ticket and incident state that status answers read.
    pub status: StatusLimits,
    /// How many chat records before a partition's resume position are read back when it is
    /// assigned here, so retries of messages handled before a restart, or by another replica,
    /// are dropped (see `replay.rs`; 0: this process's memory only).
    pub replay_window: i64,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
}

opsline_kafka::service_config!(SelfServiceConfig);

impl Default for SelfServiceConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8092".to_owned(),
            group_id: "opsline-selfservice".to_owned(),
            topic_prefix: String::new(),
            cost_per_ticket: 22.0,
            directory: DirectoryConfig::default(),
            password_policy: PasswordPolicy::default(),
            otp: OtpConfig::default(),
            notifier: NotifierConfig::default(),
            reply: ReplyConfig::default(),
            rate_limit: RateLimitConfig::default(),
            status: StatusLimits::default(),
            replay_window: crate::replay::REMEMBERED_IDS as i64,
            kafka: KafkaConfig {
                client_id: "opsline-selfservice".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
        }
    }
}

/// Which directory server the self-service account talks to (how a password is set, how an
/// account is unlocked and locked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryMode {
    /// OpenLDAP (or another RFC directory): `userPassword`, the ppolicy overlay's
    /// `pwdAccountLockedTime` for unlock and lock.
    #[default]
    Openldap,
    /// Microsoft Active Directory: `unicodePwd` (the quoted password in UTF-16LE, accepted only
    /// over an encrypted connection) with `pwdLastSet = 0` (change at next sign-in),
    /// `lockoutTime = 0` to unlock, `userAccountControl` ACCOUNTDISABLE to lock.
    ActiveDirectory,
}

/// The LDAP directory and how chat users map to its entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// `ldaps://host:port` (TLS from the first byte), or `ldap://host:port` with `starttls = true`.
    /// Plain `ldap://` without StartTLS is refused at start-up unless `allow_insecure = true`
    /// and the host is loopback (tests, `opsline up`).
    pub url: String,
    /// Upgrade an `ldap://` connection with the StartTLS extended operation before binding.
    pub starttls: bool,
    /// A PEM file of CA certificates trusted for the directory's certificate, besides the
    /// system roots (a private or corporate CA).
    pub ca_file: Option<PathBuf>,
    /// Allows plain `ldap://` without TLS, and only to a loopback host.
    pub allow_insecure: bool,
    /// `openldap` (default) or `active_directory`.
    pub mode: DirectoryMode,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// The service account that may set passwords and clear lockouts.
    pub bind_dn: String,
    /// Its password (`OPSLINE_DIRECTORY__BIND_PASSWORD`).
    #[serde(skip_serializing)]
    pub bind_password: SecretString,
    /// Attribute holding the chat platform's user id; exactly one entry must match.
    pub user_id_attribute: String,
    /// Per-platform attribute holding that platform's user id (e.g. `slack = "slackMemberId"`,
    /// `webhook = "uid"`), overriding `user_id_attribute` for that platform. Whatever the
    /// attributes, one-time codes, rate limits and audits are kept per `platform:user_id`, so
    /// a webhook `U123` can never answer a code sent for Slack `U123`.
    pub platform_attributes: BTreeMap<String, String>,
    /// Attribute with the registered e-mail (one-time codes, ticket ownership).
    pub mail_attribute: String,
    /// Extra LDAP filter every matching entry must satisfy, e.g. `(objectClass=inetOrgPerson)`.
    pub user_filter: String,
    /// OpenLDAP mode: `ppolicy` (the overlay sets `pwdReset` after an administrative change),
    /// `attribute` (write `pwdReset: TRUE` explicitly) or `none`. Active Directory mode always
    /// writes `pwdLastSet = 0`.
    pub must_change: String,
    /// Timeout of each directory operation.
    pub timeout_ms: u64,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        Self {
            url: "ldap://127.0.0.1:3389".to_owned(),
            starttls: false,
            ca_file: None,
            allow_insecure: false,
            mode: DirectoryMode::Openldap,
            base_dn: "ou=people,dc=example,dc=org".to_owned(),
            bind_dn: "cn=selfservice,ou=services,dc=example,dc=org".to_owned(),
            bind_password: SecretString::from(String::new()),
            user_id_attribute: "employeeNumber".to_owned(),
            platform_attributes: BTreeMap::new(),
            mail_attribute: "mail".to_owned(),
            user_filter: "(objectClass=inetOrgPerson)".to_owned(),
            must_change: "ppolicy".to_owned(),
            timeout_ms: 3_000,
        }
    }
}

/// What a generated temporary password must contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// Length in characters (at least 8).
    pub length: usize,
    /// At least one lower-case letter.
    pub lower: bool,
    /// At least one upper-case letter.
    pub upper: bool,
    /// At least one digit.
    pub digit: bool,
    /// At least one symbol.
    pub symbol: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            length: 16,
            lower: true,
            upper: true,
            digit: true,
            symbol: true,
        }
    }
}

/// The one-time-code second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtpConfig {
    /// Whether a reset or unlock needs a code sent to the registered e-mail first.
    pub required: bool,
    /// Digits in a code.
    pub digits: u32,
    /// How long a code is valid.
    pub ttl_secs: u64,
    /// Wrong codes allowed before the challenge is dropped.
    pub max_attempts: u32,
    /// Challenges open at once (all users); past it a new reset is refused until codes
    /// expire, rather than cancelling someone else's challenge.
    pub max_open: usize,
}

impl Default for OtpConfig {
    fn default() -> Self {
        Self {
            required: true,
            digits: 6,
            ttl_secs: 600,
            max_attempts: 3,
            max_open: 10_000,
        }
    }
}

/// Where one-time codes go: `file` (appends JSON lines to `path`, mode 0600),
/// `webhook` (POSTs `{"mail", "code"}` to `url`) or `none` (resets needing a code are refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifierConfig {
    /// `file`, `webhook` or `none`.
    pub kind: String,
    /// File of the `file` notifier.
    pub path: String,
    /// URL of the `webhook` notifier: `https://`, or `http://` only to a loopback host.
    pub url: String,
    /// A PEM file of extra CA certificates trusted for an `https` notifier URL, besides
    /// the system roots (a corporate or private CA).
    pub ca_file: Option<PathBuf>,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            kind: "none".to_owned(),
            path: String::new(),
            url: String::new(),
            ca_file: None,
        }
    }
}

/// Private replies to the chat platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplyConfig {
    /// Outbound webhook for messages that carry no response URL (or for every reply when
    /// `use_response_url` is false): `https://`, or `http://` only to a loopback host (the
    /// same rule holds for a message's response URL).
    pub webhook_url: String,
    /// Whether to answer on a message's own response URL (Slack's `response_url`).
    pub use_response_url: bool,
    /// When not empty, response URLs must start with one of these prefixes.
    pub allowed_url_prefixes: Vec<String>,
    /// Attempts per reply (first try included).
    pub attempts: usize,
    /// First retry delay; doubles up to one second.
    pub retry_delay_ms: u64,
    /// Timeout of one HTTP attempt.
    pub timeout_ms: u64,
    /// A PEM file of extra CA certificates trusted for `https` reply URLs, besides the
    /// system roots (a corporate or private CA, e.g. an internal chat relay).
    pub ca_file: Option<PathBuf>,
}

impl Default for ReplyConfig {
    fn default() -> Self {
        Self {
            webhook_url: String::new(),
            use_response_url: true,
            allowed_url_prefixes: Vec::new(),
            attempts: 4,
            retry_delay_ms: 100,
            timeout_ms: 2_000,
            ca_file: None,
        }
    }
}

/// Per-user limit of privileged attempts in a sliding window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Attempts allowed per window.
    pub max_attempts: usize,
    /// Window length.
    pub window_secs: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            window_secs: 900,
        }
    }
}
