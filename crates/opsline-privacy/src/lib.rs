//! Privacy before anything leaves the process: sensitive data in free text is
//! detected and replaced by typed placeholders (`<EMAIL_1>`, `<CARD_1>`, ...).
//!
//! A [`RedactionSession`] keeps the placeholder numbering consistent across the
//! fields of one document (subject and description of a ticket) and can restore
//! the originals in text shown to the helpdesk. Only the placeholder text ever
//! goes to a model, a log line or a Kafka payload in clear.
//!
//! SKELETON: the detectors are being implemented; the API below is the contract.

use serde::{Deserialize, Serialize};

/// Kinds of sensitive data, each with its placeholder prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// E-mail address (`<EMAIL_n>`).
    Email,
    /// Phone number (`<PHONE_n>`).
    Phone,
    /// IPv4 or IPv6 address (`<IP_n>`).
    Ip,
    /// Password, API key, token or other credential (`<SECRET_n>`).
    Secret,
    /// Payment card number, Luhn-checked (`<CARD_n>`).
    Card,
    /// IBAN, checksum-checked (`<IBAN_n>`).
    Iban,
    /// National identity number (`<NATIONAL_ID_n>`).
    NationalId,
    /// A person's name known to the directory (`<PERSON_n>`).
    Person,
}

/// Redaction settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactorConfig {
    /// Person names to detect (from the directory, when available).
    pub person_names: Vec<String>,
}

/// One detected entity (never carries the original value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What was found.
    pub kind: EntityKind,
    /// The placeholder that replaced it.
    pub placeholder: String,
}

/// A compiled redactor; cheap to clone (shared inside) and to send across tasks.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    config: std::sync::Arc<RedactorConfig>,
}

impl Redactor {
    /// Builds a redactor from its settings.
    pub fn new(config: RedactorConfig) -> Self {
        Self { config: std::sync::Arc::new(config) }
    }

    /// Starts a session whose placeholders are consistent across several texts.
    pub fn session(&self) -> RedactionSession {
        RedactionSession { redactor: self.clone(), originals: Vec::new(), findings: Vec::new() }
    }

    /// Redacts one text on its own (a fresh session).
    pub fn redact(&self, text: &str) -> String {
        self.session().redact(text)
    }
}

/// Placeholder numbering and the originals for one document. Owned and `Send`,
/// so it can be kept until an asynchronous enrichment comes back.
#[derive(Debug, Clone)]
pub struct RedactionSession {
    redactor: Redactor,
    originals: Vec<(String, String)>,
    findings: Vec<Finding>,
}

impl RedactionSession {
    /// Returns `text` with every sensitive value replaced by its placeholder.
    pub fn redact(&mut self, text: &str) -> String {
        let _ = (&self.redactor.config, &mut self.originals);
        text.to_string()
    }

    /// Puts the originals back into `text` (for the helpdesk view only).
    pub fn restore(&self, text: &str) -> String {
        text.to_string()
    }

    /// What was replaced, for the audit trail (no original values).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}
