//! Parser for Rasa NLU training files (`nlu:` → `- intent: NAME` + `examples: |` block).

use std::path::Path;

use serde::Deserialize;

use crate::error::{ClassifyError, Result};

#[derive(Debug, Deserialize)]
struct NluFile {
    #[serde(default)]
    nlu: Vec<NluItem>,
}

/// One `nlu:` entry; entries without `intent` (synonym, regex, lookup) are ignored.
#[derive(Debug, Deserialize)]
struct NluItem {
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    examples: Option<String>,
}

/// One example utterance with the intent name it is filed under (as written in the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NluExample {
    /// The intent name from the file (may be outside Opsline's intent list).
    pub intent: String,
    /// The utterance, with Rasa entity annotations `[text](entity)` reduced to `text`.
    pub text: String,
}

/// Removes Rasa entity markup: `[Bob](name)` and `[Bob]{"entity": "name"}` become `Bob`.
fn strip_entity_markup(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let after_open = &rest[open + 1..];
        let Some(close) = after_open.find(']') else {
            break;
        };
        let annotation = &after_open[close + 1..];
        let skip = match annotation.chars().next() {
            Some('(') => annotation.find(')').map(|end| end + 1),
            Some('{') => annotation.find('}').map(|end| end + 1),
            _ => None,
        };
        match skip {
            Some(skip) => {
                out.push_str(&rest[..open]);
                out.push_str(&after_open[..close]);
                rest = &annotation[skip..];
            }
            None => {
                out.push_str(&rest[..open + 1]);
                rest = after_open;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses a Rasa NLU YAML document; `source_name` is used in error messages.
pub fn parse_rasa_nlu(yaml: &str, source_name: &str) -> Result<Vec<NluExample>> {
    let file: NluFile = serde_saphyr::from_str(yaml).map_err(|e| ClassifyError::Yaml {
        source_name: source_name.to_string(),
        message: e.to_string(),
    })?;
    let mut examples = Vec::new();
    for item in file.nlu {
        let (Some(intent), Some(block)) = (item.intent, item.examples) else {
            continue;
        };
        for line in block.lines() {
            let Some(text) = line.trim_start().strip_prefix('-') else {
                continue;
            };
            let text = strip_entity_markup(text.trim());
            if !text.is_empty() {
                examples.push(NluExample {
                    intent: intent.trim().to_string(),
                    text,
                });
            }
        }
    }
    Ok(examples)
}

/// Reads and parses a Rasa NLU YAML file.
pub fn load_rasa_nlu(path: impl AsRef<Path>) -> Result<Vec<NluExample>> {
    let path = path.as_ref();
    let yaml = std::fs::read_to_string(path).map_err(|e| ClassifyError::io(path, e))?;
    parse_rasa_nlu(&yaml, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_intents_and_skips_other_entries() {
        let yaml = r#"version: "3.1"
nlu:
- intent: greet
  examples: |
    - hey
    - hello [Bob](name)!
- synonym: vpn
  examples: |
    - virtual private network
- intent: password_reset
  metadata:
    source: test
  examples: |
    - reset my [password]{"entity": "thing"}

    - unlock me
"#;
        let examples = parse_rasa_nlu(yaml, "inline").unwrap();
        assert_eq!(examples.len(), 4);
        assert_eq!(examples[1].text, "hello Bob!");
        assert_eq!(examples[2].text, "reset my password");
        assert_eq!(examples[3].intent, "password_reset");
        assert!(parse_rasa_nlu("nlu: [unclosed", "bad").is_err());
        assert!(parse_rasa_nlu("version: '3.1'", "empty").unwrap().is_empty());
        assert_eq!(strip_entity_markup("a [b] c"), "a [b] c");
    }
}
