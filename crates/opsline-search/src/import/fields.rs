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

/// Explicit document ids.
pub(crate) const ID_KEYS: &[&str] = &["id", "doc_id"];
/// Ids of the file or record rather than of the document (used after the URL).
pub(crate) const FILE_ID_KEYS: &[&str] = &["uuid"];
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

/// The identity of a URL for de-duplication: scheme, `www.`, a Wayback Machine prefix,
/// the fragment and trailing slashes are dropped and the host is lower-cased, so
/// `http://www.Example.com/a/#x` and
/// `https://web.archive.org/web/2021/https://example.com/a` are the same document.
pub(crate) fn canonical_url(url: &str) -> String {
    let mut rest = url.trim();
    loop {
        let before = rest;
        for prefix in ["https://", "http://", "www."] {
            if rest
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
            {
                rest = rest.get(prefix.len()..).unwrap_or_default();
            }
        }
        // web.archive.org/web/<timestamp>/<original url>
        if let Some(after) = rest.strip_prefix("web.archive.org/web/") {
            if let Some((_, original)) = after.split_once('/') {
                rest = original;
            }
        }
        if rest == before {
            break;
        }
    }
    let rest = rest.split('#').next().unwrap_or_default().trim_end_matches('/');
    match rest.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => rest.to_ascii_lowercase(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_urls_merge_variants() {
        let a = canonical_url("http://www.Example.com/a/#x");
        assert_eq!(a, "example.com/a");
        assert_eq!(
            canonical_url("https://web.archive.org/web/20211006135542/https://example.com/a/"),
            a
        );
        assert_eq!(canonical_url("https://example.com/A"), "example.com/A");
        for odd in ["", "https://", "web.archive.org/web/", "é/ü", "www."] {
            let _ = canonical_url(odd);
        }
    }
}
