//! Markdown documents with optional YAML front matter.
//!
//! Front matter is the block between a first line `---` and the next line `---` (or `...`).
//! Missing, empty, unterminated or invalid front matter is tolerated: the document is then
//! indexed from its body alone (with a warning for invalid YAML).

use serde_json::{Map, Value};

use super::fields::{FILE_ID_KEYS, ID_KEYS, RecordContext, URL_KEYS, canonical_url, record_to_document, string_field};
use super::{Source, SourceOutcome};
use crate::text::markdown_to_text;

/// Splits `text` into `(front matter, body)`.
fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            let body = &rest[offset + line.len()..];
            return (Some(&rest[..offset]), body);
        }
        offset += line.len();
    }
    // Unterminated: treat the whole file as body.
    (None, text)
}

/// The text of the first ATX heading (`# Title`), if any.
fn first_heading(markdown: &str) -> Option<String> {
    markdown.lines().find_map(|line| {
        let line = line.trim_start();
        let text = line.trim_start_matches('#');
        let level = line.len() - text.len();
        if (1..=6).contains(&level) && (text.is_empty() || text.starts_with(' ')) {
            let heading = markdown_to_text(text.trim().trim_end_matches('#').trim());
            let heading = heading.trim().to_string();
            (!heading.is_empty()).then_some(heading)
        } else {
            None
        }
    })
}

/// Parses one Markdown file into a document.
pub(super) fn parse_markdown(text: &str, source: &Source<'_>) -> SourceOutcome {
    let mut outcome = SourceOutcome::default();
    let (front, body_md) = split_front_matter(text);
    let map: Map<String, Value> = match front {
        Some(yaml) if !yaml.trim().is_empty() => match serde_saphyr::from_str::<Value>(yaml) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                outcome.warn(None, "front matter is not a mapping; ignored".to_string());
                Map::new()
            }
            Err(e) => {
                let message = e.to_string();
                let first_line = message.lines().next().unwrap_or_default();
                outcome.warn(None, format!("invalid YAML front matter ignored: {first_line}"));
                Map::new()
            }
        },
        _ => Map::new(),
    };
    let body = markdown_to_text(body_md).trim().to_string();
    if body.is_empty() && map.is_empty() {
        outcome.warn(None, "empty document skipped".to_string());
        return outcome;
    }
    let id = string_field(&map, ID_KEYS)
        .or_else(|| string_field(&map, URL_KEYS).map(|url| format!("url:{}", canonical_url(&url))))
        .or_else(|| string_field(&map, FILE_ID_KEYS))
        .unwrap_or_else(|| format!("path:{}", source.relative));
    let mut warnings = Vec::new();
    let doc = record_to_document(
        &map,
        RecordContext {
            id,
            body,
            heading: first_heading(body_md),
            fallback_title: source.stem,
            source_path: source.display.clone(),
            default_status: source.default_status,
            path_says_runbook: source.path_says_runbook,
        },
        &mut warnings,
    );
    for warning in warnings {
        outcome.warn(None, warning);
    }
    outcome.documents.push(doc);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_and_tolerated() {
        assert_eq!(split_front_matter("---\na: 1\n---\nbody"), (Some("a: 1\n"), "body"));
        assert_eq!(split_front_matter("no front"), (None, "no front"));
        assert_eq!(split_front_matter("---\nunterminated"), (None, "---\nunterminated"));
        assert_eq!(split_front_matter("---\n---\nbody"), (Some(""), "body"));
    }

    #[test]
    fn headings_are_found() {
        assert_eq!(
            first_heading("intro\n## The *DNS* outage ##\n"),
            Some("The DNS outage".into())
        );
        assert_eq!(first_heading("#hashtag only"), None);
    }
}
