//! JSON Lines: one JSON object per line.
//!
//! The body comes from the first of `text`, `body`, `content`, `description`, `summary`,
//! `message`; objects without any body text are reported and skipped, as are lines that are
//! not JSON objects. Ids are the object's `url` if present, else `<file>#<id>` from an `id`
//! key, else `<file>#L<line>`.

use serde_json::Value;

use super::fields::{BODY_KEYS, ID_KEYS, RecordContext, URL_KEYS, canonical_url, record_to_document, string_field};
use super::{Source, SourceOutcome};
use crate::text::markdown_to_text;

/// Parses a JSON Lines file; bad lines are reported and skipped.
pub(super) fn parse_jsonl(text: &str, source: &Source<'_>) -> SourceOutcome {
    let mut outcome = SourceOutcome::default();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let map = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                outcome.fail(Some(line_no), "not a JSON object".to_string());
                continue;
            }
            Err(e) => {
                outcome.fail(Some(line_no), format!("invalid JSON: {e}"));
                continue;
            }
        };
        let Some(body) = string_field(&map, BODY_KEYS) else {
            outcome.fail(Some(line_no), "no text field (text/body/content/...)".to_string());
            continue;
        };
        let id = string_field(&map, URL_KEYS)
            .map(|url| format!("url:{}", canonical_url(&url)))
            .or_else(|| string_field(&map, ID_KEYS).map(|id| format!("{}#{id}", source.relative)))
            .unwrap_or_else(|| format!("{}#L{line_no}", source.relative));
        let mut warnings = Vec::new();
        let doc = record_to_document(
            &map,
            RecordContext {
                id,
                body: markdown_to_text(&body).trim().to_string(),
                heading: None,
                fallback_title: source.stem,
                source_path: source.display.clone(),
                default_status: source.default_status,
                path_says_runbook: source.path_says_runbook,
            },
            &mut warnings,
        );
        for warning in warnings {
            outcome.warn(Some(line_no), warning);
        }
        outcome.documents.push(doc);
    }
    outcome
}
