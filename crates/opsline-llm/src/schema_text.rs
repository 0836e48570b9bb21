//! The answer schema as its author wrote it: key order kept.
//!
//! An endpoint that enforces a JSON Schema (llama.cpp's grammar, OpenAI's structured outputs)
//! generates the object's keys in the order the schema lists them, so the order is part of the
//! prompt: the summary before the reply that builds on it, the narrative's summary before its
//! action items. `serde_json::Value` sorts keys, so the schema is sent and shown from its text.

/// `json` without white space outside strings; with `drop_patterns`, without the `"pattern"`
/// members (a string value under the key `pattern`), which the endpoint enforces and the model
/// need not read. Key order and everything else is kept as written. The input must be valid
/// JSON (the prompt parser checks it first).
pub fn compact(json: &str, drop_patterns: bool) -> String {
    let chars: Vec<char> = json.chars().collect();
    let mut out = String::with_capacity(json.len());
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c == '"' {
            let end = string_end(&chars, at);
            let token: String = chars[at..end].iter().collect();
            if drop_patterns && token == "\"pattern\"" {
                if let Some(after) = pattern_member_end(&chars, end) {
                    at = if out.ends_with(',') {
                        out.pop();
                        after
                    } else {
                        skip_comma(&chars, after)
                    };
                    continue;
                }
            }
            out.push_str(&token);
            at = end;
        } else {
            if !c.is_whitespace() {
                out.push(c);
            }
            at += 1;
        }
    }
    out
}

/// The index after the string literal starting at `start` (a `"`).
fn string_end(chars: &[char], start: usize) -> usize {
    let mut at = start + 1;
    while at < chars.len() && chars[at] != '"' {
        if chars[at] == '\\' {
            at += 1;
        }
        at += 1;
    }
    (at + 1).min(chars.len())
}

/// When the key ending before `key_end` is followed by `:` and a string value, the index after
/// that value.
fn pattern_member_end(chars: &[char], key_end: usize) -> Option<usize> {
    let colon = skip_space(chars, key_end);
    if chars.get(colon) != Some(&':') {
        return None;
    }
    let value = skip_space(chars, colon + 1);
    (chars.get(value) == Some(&'"')).then(|| string_end(chars, value))
}

fn skip_space(chars: &[char], mut at: usize) -> usize {
    while chars.get(at).is_some_and(|c| c.is_whitespace()) {
        at += 1;
    }
    at
}

fn skip_comma(chars: &[char], at: usize) -> usize {
    let next = skip_space(chars, at);
    if chars.get(next) == Some(&',') { next + 1 } else { at }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::compact;
    use serde_json::Value;

    const SCHEMA: &str = r#"{
      "type": "object",
      "properties": {
        "summary": { "pattern": "^a \"b\" [E1]$", "type": "string", "maxLength": 9 },
        "reply": { "type": "string", "pattern": "^x, y$" },
        "pattern": { "type": "string", "description": "a property named pattern stays" },
        "citations": { "type": "array", "items": { "type": "string" } }
      },
      "required": ["summary", "reply", "pattern", "citations"]
    }"#;

    #[test]
    fn key_order_is_kept_and_white_space_outside_strings_dropped() {
        let text = compact(SCHEMA, false);
        assert!(
            text.starts_with(r#"{"type":"object","properties":{"summary":{"pattern":"^a \"b\" [E1]$","#),
            "{text}"
        );
        let keys = ["\"summary\"", "\"reply\"", "\"citations\""].map(|k| text.find(k).unwrap());
        assert!(keys[0] < keys[1] && keys[1] < keys[2], "{text}");
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, serde_json::from_str::<Value>(SCHEMA).unwrap());
    }

    #[test]
    fn pattern_members_are_dropped_and_the_rest_still_parses() {
        let text = compact(SCHEMA, true);
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let mut expected: Value = serde_json::from_str(SCHEMA).unwrap();
        for field in ["summary", "reply"] {
            expected["properties"][field].as_object_mut().unwrap().remove("pattern");
        }
        assert_eq!(parsed, expected, "{text}");
        assert!(parsed["properties"]["pattern"].is_object());
    }
}
