//! A redaction session: placeholder numbering shared by the texts of one
//! document, and the originals kept in memory (never serialized, never
//! printed by `Debug`) so text for the helpdesk can be restored.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::{EntityKind, Finding, Redactor, detect};

static PLACEHOLDER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"<(?:EMAIL|PHONE|IP|SECRET|CARD|IBAN|NATIONAL_ID|PERSON)_[0-9]{1,9}>").ok());

/// Placeholder numbering and the originals for one document. Owned and `Send`,
/// so it can be kept until an asynchronous enrichment comes back.
#[derive(Clone)]
pub struct RedactionSession {
    redactor: Redactor,
    /// (kind, normalized original) -> placeholder.
    placeholders: HashMap<(EntityKind, String), String>,
    /// placeholder -> original as first seen.
    originals: HashMap<String, String>,
    counters: BTreeMap<EntityKind, usize>,
    findings: Vec<Finding>,
}

impl fmt::Debug for RedactionSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Originals never appear in debug output.
        f.debug_struct("RedactionSession")
            .field("findings", &self.findings)
            .finish_non_exhaustive()
    }
}

impl RedactionSession {
    pub(crate) fn new(redactor: Redactor) -> Self {
        Self {
            redactor,
            placeholders: HashMap::new(),
            originals: HashMap::new(),
            counters: BTreeMap::new(),
            findings: Vec::new(),
        }
    }

    /// Returns `text` with every sensitive value replaced by its placeholder;
    /// the same value gets the same placeholder everywhere in the session.
    pub fn redact(&mut self, text: &str) -> String {
        let spans = detect::detect(text, self.redactor.person_patterns());
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for span in spans {
            let (Some(before), Some(original)) = (text.get(last..span.start), text.get(span.start..span.end)) else {
                continue;
            };
            out.push_str(before);
            out.push_str(&self.placeholder_for(span.kind, original));
            last = span.end;
        }
        out.push_str(text.get(last..).unwrap_or_default());
        out
    }

    fn placeholder_for(&mut self, kind: EntityKind, original: &str) -> String {
        let key = (kind, normalize(kind, original));
        if let Some(existing) = self.placeholders.get(&key) {
            return existing.clone();
        }
        let counter = self.counters.entry(kind).or_insert(0);
        *counter += 1;
        let placeholder = format!("<{}_{}>", kind.placeholder_prefix(), counter);
        self.placeholders.insert(key, placeholder.clone());
        self.originals.insert(placeholder.clone(), original.to_owned());
        self.findings.push(Finding {
            kind,
            placeholder: placeholder.clone(),
        });
        placeholder
    }

    /// Puts the originals back into `text` (for the helpdesk view only).
    /// Placeholders this session did not issue are left as they are.
    pub fn restore(&self, text: &str) -> String {
        let Some(pattern) = PLACEHOLDER.as_ref() else {
            return text.to_owned();
        };
        pattern
            .replace_all(text, |caps: &regex::Captures<'_>| {
                let placeholder = caps.get(0).map(|m| m.as_str()).unwrap_or_default();
                self.originals
                    .get(placeholder)
                    .cloned()
                    .unwrap_or_else(|| placeholder.to_owned())
            })
            .into_owned()
    }

    /// What was replaced, for the audit trail (no original values): one
    /// finding per distinct value, in the order first seen.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Number of distinct values replaced, per kind (for audit records and metrics).
    pub fn audit_summary(&self) -> BTreeMap<EntityKind, usize> {
        let mut counts = BTreeMap::new();
        for finding in &self.findings {
            *counts.entry(finding.kind).or_insert(0) += 1;
        }
        counts
    }

    /// Whether nothing has been redacted so far.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The identity of a value: e-mail and names are case-insensitive, names and
/// numbers ignore spacing.
fn normalize(kind: EntityKind, original: &str) -> String {
    match kind {
        EntityKind::Email => original.to_lowercase(),
        EntityKind::Person => original.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
        EntityKind::Card | EntityKind::Iban | EntityKind::NationalId | EntityKind::Phone => original
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_uppercase(),
        EntityKind::Ip | EntityKind::Secret => original.to_owned(),
    }
}
