//! The refinement prompt (instructions, made-up worked examples and the sample lines) and the
//! parsing of the model's answer.
//!
//! The worked examples are invented for this prompt (no line of any evaluation data set): they
//! show the model the `<*>` convention on the variable kinds the masking rules know.

use std::fmt::Write as _;

use crate::WILDCARD;

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions.
    System,
    /// A request.
    User,
    /// A model answer (used for worked examples).
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who says it.
    pub role: Role,
    /// The text.
    pub text: String,
}

/// The longest sample line put in a prompt, in characters (longer ones are cut; the acceptance
/// check still uses the whole line).
pub const MAX_SAMPLE_CHARS: usize = 400;

/// The instructions (the system message).
pub const INSTRUCTIONS: &str = "You turn log messages into log templates. A template is the message with every \
variable part replaced by <*>: numbers, ids, hex values, times and dates, durations and sizes, IP \
addresses, host names, ports, URLs, paths, file names, user, process and object names, and lists \
of such values. Every constant word, function name, keyword and punctuation mark stays exactly as \
written. All the given messages come from the same template, so a part that differs between them \
is a variable. Answer with JSON: {\"template\": \"...\"}.";

/// Worked examples: (messages, answer). Made up.
pub const EXAMPLES: &[(&[&str], &str)] = &[
    (
        &[
            "Worker pool-3 finished job 8812 in 250 ms",
            "Worker pool-7 finished job 8813 in 31 ms",
        ],
        "Worker <*> finished job <*> in <*> ms",
    ),
    (
        &["Connection from relay.example.net port 2525 closed by peer"],
        "Connection from <*> port <*> closed by peer",
    ),
    (
        &[
            "user carol logged out of session s-19af",
            "user dave logged out of session s-20b3",
        ],
        "user <*> logged out of session <*>",
    ),
    (
        &["Loading config /etc/acme/agent.yaml (mode=strict, retries=3) done"],
        "Loading config <*> (mode=<*>, retries=<*>) done",
    ),
    (
        &["rpc_init2() registered handler 12 on queue 4"],
        "rpc_init2() registered handler <*> on queue <*>",
    ),
];

fn request(samples: &[&str]) -> String {
    format!("Messages:\n{}", numbered_lines(samples))
}

/// `samples` one per line, numbered from 1, each cut to [`MAX_SAMPLE_CHARS`] and trimmed (the
/// request's body).
pub fn numbered_lines(samples: &[&str]) -> String {
    let mut text = String::new();
    for (i, line) in samples.iter().enumerate() {
        let line: String = line.chars().take(MAX_SAMPLE_CHARS).collect();
        if i > 0 {
            text.push('\n');
        }
        let _ = write!(text, "{}. {}", i + 1, line.trim());
    }
    text
}

fn answer(template: &str) -> String {
    serde_json::json!({ "template": template }).to_string()
}

/// The messages asking for the template of `samples` (lines of one template, header removed).
/// The mined template is not shown: a small model shown a draft tends to repeat it; the draft
/// is used by the acceptance check instead.
pub fn build_prompt(samples: &[&str]) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage {
        role: Role::System,
        text: INSTRUCTIONS.to_string(),
    }];
    for (lines, template) in EXAMPLES {
        messages.push(ChatMessage {
            role: Role::User,
            text: request(lines),
        });
        messages.push(ChatMessage {
            role: Role::Assistant,
            text: answer(template),
        });
    }
    messages.push(ChatMessage {
        role: Role::User,
        text: request(samples),
    });
    messages
}

/// The template in a model answer: the `template` field of a JSON object (the first one in the
/// text), else the first non-empty line without quotes, back-ticks or a `Template:` label.
/// Wildcards written as `<*>` with inner spaces (`< * >`) are repaired. `None` when nothing is left.
pub fn parse_answer(answer: &str) -> Option<String> {
    let from_json = answer.find('{').and_then(|start| {
        let end = answer.rfind('}')?;
        let value: serde_json::Value = serde_json::from_str(answer.get(start..=end)?).ok()?;
        value.get("template")?.as_str().map(str::to_string)
    });
    let text = from_json.or_else(|| {
        answer
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("```"))
            .map(|l| {
                let l = l.strip_prefix("Template:").unwrap_or(l).trim();
                l.trim_matches(|c| c == '`' || c == '"').to_string()
            })
    })?;
    tidy(&text)
}

/// A proposed template as the check wants it: wildcards written with inner spaces (`< * >`)
/// repaired and the text trimmed; `None` when nothing is left.
pub fn tidy(text: &str) -> Option<String> {
    let text = text
        .replace("< * >", WILDCARD)
        .replace("<* >", WILDCARD)
        .replace("< *>", WILDCARD);
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn prompt_has_instructions_examples_and_the_request_last() {
        let messages = build_prompt(&["fetch a.txt from node-1", "fetch b.txt from node-2"]);
        assert_eq!(messages.len(), 2 + 2 * EXAMPLES.len());
        assert_eq!(messages[0].role, Role::System);
        assert!(messages[0].text.contains("<*>"));
        let last = messages.last().unwrap();
        assert_eq!(last.role, Role::User);
        assert_eq!(
            last.text,
            "Messages:\n1. fetch a.txt from node-1\n2. fetch b.txt from node-2"
        );
        // Examples alternate request and answer, and every answer is valid JSON with a template
        // that matches its own messages.
        for pair in messages[1..messages.len() - 1].chunks(2) {
            assert_eq!((pair[0].role, pair[1].role), (Role::User, Role::Assistant));
            assert!(parse_answer(&pair[1].text).is_some());
        }
        for (lines, template) in EXAMPLES {
            assert!(
                lines.iter().all(|l| super::super::check::matches(template, l)),
                "{template}"
            );
        }
    }

    #[test]
    fn long_samples_are_cut() {
        let long = "x".repeat(MAX_SAMPLE_CHARS * 2);
        let messages = build_prompt(&[&long]);
        assert!(messages.last().unwrap().text.len() < MAX_SAMPLE_CHARS + 40);
    }

    #[test]
    fn answers_parse_from_json_or_plain_text() {
        assert_eq!(parse_answer(r#"{"template": "a <*> b"}"#).as_deref(), Some("a <*> b"));
        assert_eq!(
            parse_answer("Sure:\n```json\n{\"template\":\"x=<*>\"}\n```").as_deref(),
            Some("x=<*>")
        );
        assert_eq!(parse_answer("Template: `a < * > b`").as_deref(), Some("a <*> b"));
        assert_eq!(
            parse_answer("\n\n  \"job <*> done\"\n").as_deref(),
            Some("job <*> done")
        );
        assert_eq!(parse_answer("   "), None);
        assert_eq!(parse_answer(r#"{"template": ""}"#), None);
    }
}
