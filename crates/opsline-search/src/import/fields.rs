//! Mapping of loosely shaped records (YAML front matter, JSON objects) onto
//! [`SearchDocument`] fields, shared by the Markdown and JSON Lines importers.
//!
//! Keys are matched case-insensitively against alias lists (for example the `company` of a
//! public postmortem becomes the `service`, `categories` or `section` become tags). Values
//! of unexpected types are coerced when it is meaningful (numbers to strings, the first
//! element of a list for a scalar field) and ignored otherwise.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;
use serde_json::{Map, Value};

use crate::document::{DocKind, DocStatus, SearchDocument};
use crate::text::{first_sentence, truncate_chars};

/// Longest generated title, in characters.
const MAX_TITLE_CHARS: usize = 120;

pub(crate) const ID_KEYS: &[&str] = &["id", "uuid", "doc_id"];
pub(crate) const TITLE_KEYS: &[&str] = &["title", "name", "subject", "headline"];
pub(crate) const BODY_KEYS: &[&str] = &[
    "text",
    "body",
    "content",
    "description",
    "summary",
    "message",
    "markdown",
];
const KIND_KEYS: &[&str] = &["kind", "type", "doc_type"];
const SERVICE_KEYS: &[&str] = &["service", "company", "product", "system", "component"];
const SEVERITY_KEYS: &[&str] = &["severity", "sev", "priority"];
const CREATED_KEYS: &[&str] = &["created", "date", "created_at", "published", "incident_date"];
const UPDATED_KEYS: &[&str] = &["updated", "updated_at", "modified", "last_modified"];
const STATUS_KEYS: &[&str] = &["status", "state"];
const TAG_KEYS: &[&str] = &["tags", "categories", "category", "labels", "section"];
const TEAM_KEYS: &[&str] = &["team", "owner_team", "restricted_to"];
pub(crate) const URL_KEYS: &[&str] = &["url", "link", "href", "source_url"];

/// The first non-empty scalar value under any of `keys`, as a string.
pub(crate) fn string_field(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| scalar(v))
    })
}

fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => return items.iter().find_map(scalar),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn list_field(map: &Map<String, Value>, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for key in keys {
        for (_, value) in map.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)) {
            match value {
                Value::Array(items) => out.extend(items.iter().filter_map(scalar)),
                Value::String(s) => out.extend(
                    s.split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string),
                ),
                other => out.extend(scalar(other)),
            }
        }
    }
    out
}

/// Parses RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (UTC) dates.
pub(crate) fn parse_date(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(ts) = raw.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = raw.parse::<DateTime>() {
        return Offset::UTC.to_timestamp(dt).ok();
    }
    raw.parse::<Date>()
        .ok()
        .and_then(|date| Offset::UTC.to_timestamp(DateTime::from(date)).ok())
}

/// What the caller knows beyond the record itself.
pub(crate) struct RecordContext<'a> {
    /// The stable id chosen by the importer.
    pub id: String,
    /// Body text (already plain text).
    pub body: String,
    /// A title found outside the record (e.g. the first Markdown heading).
    pub heading: Option<String>,
    /// Last-resort title (file stem).
    pub fallback_title: &'a str,
    /// Path of the source file, as displayed.
    pub source_path: String,
    /// Status when the record has none.
    pub default_status: DocStatus,
    /// Whether the source path suggests a runbook.
    pub path_says_runbook: bool,
}

/// Builds a document from a record; pushes human-readable warnings for ignored values.
pub(crate) fn record_to_document(
    map: &Map<String, Value>,
    ctx: RecordContext<'_>,
    warnings: &mut Vec<String>,
) -> SearchDocument {
    let service = string_field(map, SERVICE_KEYS);
    let tags = list_field(map, TAG_KEYS);
    let kind = match string_field(map, KIND_KEYS).map(|k| k.parse::<DocKind>()) {
        Some(Ok(kind)) => kind,
        other => {
            if let Some(Err(e)) = other {
                warnings.push(format!("{e}; inferred from tags and path"));
            }
            let tag_says_runbook = tags.iter().any(|t| t.eq_ignore_ascii_case("runbook"));
            if tag_says_runbook || ctx.path_says_runbook {
                DocKind::Runbook
            } else {
                DocKind::Postmortem
            }
        }
    };
    let status = match string_field(map, STATUS_KEYS).map(|s| s.parse::<DocStatus>()) {
        Some(Ok(status)) => status,
        Some(Err(e)) => {
            warnings.push(format!("{e}; using {}", ctx.default_status));
            ctx.default_status
        }
        None => ctx.default_status,
    };
    let mut date = |keys: &[&str], name: &str| {
        let raw = string_field(map, keys)?;
        let parsed = parse_date(&raw);
        if parsed.is_none() {
            warnings.push(format!("unparseable {name} date `{raw}` ignored"));
        }
        parsed
    };
    let created = date(CREATED_KEYS, "created");
    let updated = date(UPDATED_KEYS, "updated");
    let title = string_field(map, TITLE_KEYS)
        .or(ctx.heading)
        .or_else(|| {
            let sentence = first_sentence(&ctx.body);
            (!sentence.is_empty()).then(|| match &service {
                Some(service) => format!("{service}: {sentence}"),
                None => sentence.to_string(),
            })
        })
        .map(|t| truncate_chars(&t, MAX_TITLE_CHARS))
        .unwrap_or_else(|| ctx.fallback_title.to_string());
    SearchDocument {
        id: ctx.id,
        kind,
        title,
        body: ctx.body,
        service,
        severity: string_field(map, SEVERITY_KEYS),
        created,
        updated,
        status,
        tags,
        team: string_field(map, TEAM_KEYS),
        url: string_field(map, URL_KEYS),
        source_path: Some(ctx.source_path),
    }
}
