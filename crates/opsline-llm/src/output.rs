//! From answer text to a JSON value: strips Markdown code fences and chatter
//! around the object, parses, and reports why an answer is unusable (the
//! reason is sent back to the model in the one repair request).

use serde_json::Value;

/// Parses a model answer into JSON: the whole text, else the inside of a
/// ```` ``` ```` fence, else the outermost `{ ... }`.
pub fn parse_answer(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the answer was empty".into());
    }
    if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
        return Ok(value);
    }
    if let Some(inner) = fenced(trimmed)
        && let Ok(value) = serde_json::from_str::<Value>(inner.trim())
    {
        return Ok(value);
    }
    if let (Some(start), Some(end)) = (trimmed.find('{'), trimmed.rfind('}'))
        && start < end
    {
        return serde_json::from_str::<Value>(&trimmed[start..=end]).map_err(|e| format!("not valid JSON: {e}"));
    }
    Err("the answer contains no JSON object".into())
}

/// The inside of the first fenced block (```` ```json ... ``` ````).
fn fenced(text: &str) -> Option<&str> {
    let open = text.find("```")?;
    let after = &text[open + 3..];
    let body_start = after.find('\n').map_or(0, |i| i + 1);
    let body = &after[body_start..];
    let close = body.find("```").unwrap_or(body.len());
    Some(&body[..close])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_fenced_and_chatty_answers() {
        assert_eq!(parse_answer(r#" {"a": 1} "#).unwrap(), json!({"a": 1}));
        assert_eq!(parse_answer("```json\n{\"a\": 1}\n```").unwrap(), json!({"a": 1}));
        assert_eq!(parse_answer("```\n{\"a\": 1}\n```\nthanks").unwrap(), json!({"a": 1}));
        assert_eq!(parse_answer("```json\n{\"a\": 1}").unwrap(), json!({"a": 1}));
        assert_eq!(
            parse_answer("Sure! Here it is: {\"a\": {\"b\": 2}} Hope it helps.").unwrap(),
            json!({"a": {"b": 2}})
        );
    }

    #[test]
    fn unusable_answers() {
        assert!(parse_answer("").is_err());
        assert!(parse_answer("no json here").is_err());
        assert!(parse_answer("{\"a\": ").is_err());
        assert!(parse_answer("} {").is_err());
    }
}
