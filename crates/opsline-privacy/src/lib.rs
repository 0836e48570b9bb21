//! Privacy before anything leaves the process: sensitive data in free text is
//! detected and replaced by typed placeholders (`<EMAIL_1>`, `<CARD_1>`, ...).
//!
//! A [`RedactionSession`] keeps the placeholder numbering consistent across the
//! fields of one document (subject and description of a ticket) and can restore
//! the originals in text shown to the helpdesk. Only the placeholder text ever
//! goes to a model, a log line or a Kafka payload in clear.
//!
//! Detected: e-mail addresses; phone numbers (international `+` forms, North
//! American and national trunk-`0` forms); IPv4 and IPv6 addresses;
//! credentials (values of `password`/`pwd`/`token`/`api_key`/`secret`...
//! keys, `Authorization: Bearer|Basic`, passwords in URLs, AWS, GitHub, Slack,
//! OpenAI, Google and Stripe key shapes, JWTs, PEM private keys, long
//! high-entropy tokens); payment cards (Luhn); IBANs (mod-97); national ids
//! (US SSN, UK NINO); and person names from the directory
//! ([`RedactorConfig::person_names`]).
//!
//! Guarantees: deterministic, no panics on any input, time linear in the
//! input (finite-automata regexes plus linear checks). When in doubt between
//! two kinds the stronger evidence wins (a checksum beats a shape).

mod checks;
mod detect;
mod session;

use std::sync::Arc;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

pub use session::RedactionSession;

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

impl EntityKind {
    /// Every kind, in declaration order.
    pub const ALL: [EntityKind; 8] = [
        Self::Email,
        Self::Phone,
        Self::Ip,
        Self::Secret,
        Self::Card,
        Self::Iban,
        Self::NationalId,
        Self::Person,
    ];

    /// The placeholder prefix: `EMAIL` in `<EMAIL_1>`.
    pub fn placeholder_prefix(self) -> &'static str {
        match self {
            Self::Email => "EMAIL",
            Self::Phone => "PHONE",
            Self::Ip => "IP",
            Self::Secret => "SECRET",
            Self::Card => "CARD",
            Self::Iban => "IBAN",
            Self::NationalId => "NATIONAL_ID",
            Self::Person => "PERSON",
        }
    }

    /// The wire name (`email`, `national_id`, ...), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Ip => "ip",
            Self::Secret => "secret",
            Self::Card => "card",
            Self::Iban => "iban",
            Self::NationalId => "national_id",
            Self::Person => "person",
        }
    }
}

/// The kinds [`Redactor::mask_credentials`] masks: never stored in clear, on any topic.
pub const CREDENTIAL_KINDS: [EntityKind; 2] = [EntityKind::Secret, EntityKind::Card];

/// Redaction settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactorConfig {
    /// Person names to detect (from the directory, when available): whole
    /// words, case-insensitive, any whitespace between the parts. Names
    /// shorter than 3 characters are ignored (too many false positives).
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

/// Names per compiled pattern: keeps each automaton well under the size limit
/// even for a large directory.
const NAMES_PER_PATTERN: usize = 2_000;

#[derive(Debug, Default)]
struct Compiled {
    config: RedactorConfig,
    person_patterns: Vec<Regex>,
}

/// A compiled redactor; cheap to clone (shared inside) and to send across tasks.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    inner: Arc<Compiled>,
}

impl Redactor {
    /// Builds a redactor from its settings.
    pub fn new(config: RedactorConfig) -> Self {
        let person_patterns = person_patterns(&config.person_names);
        Self {
            inner: Arc::new(Compiled {
                config,
                person_patterns,
            }),
        }
    }

    /// The settings this redactor was built from.
    pub fn config(&self) -> &RedactorConfig {
        &self.inner.config
    }

    /// Starts a session whose placeholders are consistent across several texts.
    pub fn session(&self) -> RedactionSession {
        RedactionSession::new(self.clone())
    }

    /// Redacts one text on its own (a fresh session).
    pub fn redact(&self, text: &str) -> String {
        self.session().redact(text)
    }

    /// Replaces every sensitive value with a fixed label per kind (no
    /// numbering, nothing kept to restore): for log samples and other text
    /// that is only ever shown redacted.
    pub fn mask_with(&self, text: &str, label: impl Fn(EntityKind) -> &'static str) -> String {
        self.mask_spans(text, |_| true, label)
            .unwrap_or_else(|| text.to_owned())
    }

    /// Replaces the detected spans `keep` accepts with their kind's label; `None` when it accepts
    /// none (the text can be kept as it is, without a copy). Overlaps are resolved over every kind
    /// first, so a card number is never half-masked as a phone number.
    fn mask_spans(
        &self,
        text: &str,
        keep: impl Fn(&detect::Span) -> bool,
        label: impl Fn(EntityKind) -> &'static str,
    ) -> Option<String> {
        let spans: Vec<_> = detect::detect(text, &self.inner.person_patterns)
            .into_iter()
            .filter(|span| keep(span))
            .collect();
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for span in spans {
            if let Some(before) = text.get(last..span.start) {
                out.push_str(before);
                out.push_str(label(span.kind));
                last = span.end;
            }
        }
        out.push_str(text.get(last..).unwrap_or_default());
        Some(out)
    }

    /// Masks what must never be stored in clear anywhere, even on internal topics:
    /// credentials (`<SECRET>`) and payment card numbers (`<CARD>`). Personal data is left
    /// as it is (downstream services need it; they redact it before any model call).
    /// Only strong evidence counts: a long random-looking token without a credential key
    /// (which is as often a file path or a build id in a log line) is kept.
    /// `None` when the text holds neither.
    pub fn mask_credentials(&self, text: &str) -> Option<String> {
        self.mask_spans(
            text,
            |span| CREDENTIAL_KINDS.contains(&span.kind) && span.priority > detect::priority::ENTROPY,
            |kind| match kind {
                EntityKind::Card => "<CARD>",
                _ => "<SECRET>",
            },
        )
    }

    /// Whether `text` contains anything this redactor would replace.
    pub fn contains_sensitive(&self, text: &str) -> bool {
        !detect::detect(text, &self.inner.person_patterns).is_empty()
    }

    pub(crate) fn person_patterns(&self) -> &[Regex] {
        &self.inner.person_patterns
    }
}

/// Compiles the directory names into a few whole-word, case-insensitive
/// alternations (longest names first, so "Ann Lee" wins over "Ann").
fn person_patterns(names: &[String]) -> Vec<Regex> {
    let mut parts: Vec<String> = names
        .iter()
        .map(|n| n.split_whitespace().map(regex::escape).collect::<Vec<_>>().join(r"\s+"))
        .filter(|n| n.chars().count() >= 3)
        .collect();
    parts.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    parts.dedup();
    parts
        .chunks(NAMES_PER_PATTERN)
        .filter_map(|chunk| {
            RegexBuilder::new(&format!(r"\b(?:{})\b", chunk.join("|")))
                .case_insensitive(true)
                .size_limit(64 << 20)
                .build()
                .ok()
        })
        .collect()
}
