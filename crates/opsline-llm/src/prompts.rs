//! The prompt library: one Markdown file per prompt with YAML front matter
//! (`id`, `version`, `task`, `description`) and the sections `## system`,
//! `## user` (with `{{var}}` placeholders) and `## schema` (a fenced JSON
//! Schema of the answer). The repository's `prompts/*.md` are compiled into the
//! binary; `prompts_dir` may override or add prompts at run time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// The built-in prompts, compiled in so binaries work from any directory.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "ticket-enrichment.md",
        include_str!("../../../prompts/ticket-enrichment.md"),
    ),
    (
        "postmortem-narrative.md",
        include_str!("../../../prompts/postmortem-narrative.md"),
    ),
    ("chat-reply.md", include_str!("../../../prompts/chat-reply.md")),
    (
        "template-refinement.md",
        include_str!("../../../prompts/template-refinement.md"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    version: u32,
    task: String,
    description: String,
}

/// One parsed, checked prompt.
#[derive(Debug)]
pub struct Prompt {
    /// Stable id, e.g. `ticket-enrichment`.
    pub id: String,
    /// Version; bump it whenever the text or schema changes.
    pub version: u32,
    /// The task the prompt serves.
    pub task: String,
    /// What the prompt is for.
    pub description: String,
    /// The system message.
    pub system: String,
    /// The user message template with `{{var}}` placeholders.
    pub user: String,
    /// The JSON Schema the answer must match.
    pub schema: Value,
    /// The same schema as written, compact, key order kept: what the endpoint enforces
    /// ([`crate::schema_text`]).
    pub schema_text: String,
    /// The schema shown in the system message: as written, without its `pattern`s.
    shown_schema: String,
    validator: jsonschema::Validator,
    variables: BTreeSet<String>,
}

impl Prompt {
    /// `id@version`, as recorded with every output.
    pub fn reference(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// The variables the user template needs.
    pub fn variables(&self) -> &BTreeSet<String> {
        &self.variables
    }

    /// Parses a prompt file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim_start_matches('\u{feff}');
        let rest = text.strip_prefix("---").ok_or("missing front matter")?;
        let end = rest.find("\n---").ok_or("unterminated front matter")?;
        let front: FrontMatter = serde_saphyr::from_str(&rest[..end]).map_err(|e| format!("front matter: {e}"))?;
        let body = &rest[end + 4..];
        let sections = sections(body);
        let section = |name: &str| {
            sections
                .get(name)
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| format!("missing section ## {name}"))
        };
        let system = section("system")?;
        let user = section("user")?;
        let schema_text = section("schema")?;
        let json = schema_text
            .strip_prefix("```json")
            .and_then(|s| s.rfind("```").map(|end| &s[..end]))
            .ok_or("the schema section must be a ```json block")?;
        let schema: Value = serde_json::from_str(json).map_err(|e| format!("schema is not JSON: {e}"))?;
        let validator = jsonschema::validator_for(&schema).map_err(|e| format!("invalid schema: {e}"))?;
        let variables = placeholders(&user);
        Ok(Self {
            id: front.id,
            version: front.version,
            task: front.task,
            description: front.description,
            system,
            user,
            schema,
            schema_text: crate::schema_text::compact(json, false),
            shown_schema: crate::schema_text::compact(json, true),
            validator,
            variables,
        })
    }

    /// The user message with every `{{var}}` replaced (single pass: values
    /// are never re-read as template). Fails on a missing variable.
    pub fn render_user(&self, vars: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::with_capacity(self.user.len() + vars.values().map(String::len).sum::<usize>());
        let mut rest = self.user.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let name = after[..close].trim();
            let value = vars
                .get(name)
                .ok_or_else(|| format!("missing variable {name:?} for prompt {}", self.id))?;
            out.push_str(&fence_safe(value));
            rest = &after[close + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The system message: the prompt's instructions, then the answer's schema. It holds no
    /// variable, so it is byte-identical across calls and leads every request: the endpoint's
    /// prompt cache (`cache_prompt`) reuses it, and the variable user message comes last.
    /// The schema is shown in its author's key order (the order the endpoint generates keys in)
    /// and without its `pattern`s: the instructions say the same in words, and the endpoint
    /// enforces them (`response_format`), so the regular expressions would only cost prompt tokens.
    pub fn system_message(&self) -> String {
        format!(
            "{}\n\nThe answer is one JSON object matching this JSON Schema:\n{}",
            self.system, self.shown_schema
        )
    }

    /// The most completion tokens a schema-valid answer can need: every string at its
    /// `maxLength`, every array at its `maxItems`, at about 3 characters a token, plus the
    /// JSON punctuation. `None` when the schema leaves a string or array unbounded.
    pub fn max_answer_tokens(&self) -> Option<u32> {
        let chars = max_json_chars(&self.schema)?;
        u32::try_from(chars.div_ceil(3) + 16).ok()
    }

    /// Every schema violation of `value`, joined (empty when valid).
    pub fn violations(&self, value: &Value) -> Vec<String> {
        self.validator
            .iter_errors(value)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }
}

/// The longest JSON text (characters) a value of `schema` can take, if bounded.
fn max_json_chars(schema: &Value) -> Option<usize> {
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("object");
    let bound = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
    };
    match kind {
        "string" => bound("maxLength").map(|n| n + 2),
        "number" | "integer" => Some(12),
        "boolean" | "null" => Some(5),
        "array" => {
            let item = max_json_chars(schema.get("items")?)?;
            bound("maxItems").map(|n| n * (item + 2) + 2)
        }
        _ => {
            let properties = schema.get("properties")?.as_object()?;
            properties
                .iter()
                .map(|(name, value)| max_json_chars(value).map(|n| n + name.len() + 4))
                .sum::<Option<usize>>()
                .map(|n| n + 2)
        }
    }
}

/// Data may not close the `<<< >>>` fence that marks it as data.
fn fence_safe(value: &str) -> String {
    value.replace(">>>", "> > >").replace("<<<", "< < <")
}

fn sections(body: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in body.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            current = Some(name.trim().to_lowercase());
            continue;
        }
        if let Some(name) = &current {
            let section = out.entry(name.clone()).or_default();
            section.push_str(line);
            section.push('\n');
        }
    }
    out
}

fn placeholders(template: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.insert(after[..close].trim().to_owned());
        rest = &after[close + 2..];
    }
    out
}

/// All prompts by id.
#[derive(Debug, Default)]
pub struct PromptLibrary {
    prompts: BTreeMap<String, Prompt>,
}

impl PromptLibrary {
    /// The built-in prompts, then the files of `dir` (override by id).
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let mut library = Self::default();
        for (name, text) in BUILT_IN {
            library.add(Prompt::parse(text).map_err(|e| format!("prompt {name}: {e}"))?);
        }
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| format!("prompts_dir {}: {e}", dir.display()))?;
            let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
            paths.sort();
            for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")) {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                library.add(Prompt::parse(&text).map_err(|e| format!("prompt {}: {e}", path.display()))?);
            }
        }
        Ok(library)
    }

    fn add(&mut self, prompt: Prompt) {
        self.prompts.insert(prompt.id.clone(), prompt);
    }

    /// The prompt with this id.
    pub fn get(&self, id: &str) -> Option<&Prompt> {
        self.prompts.get(id)
    }

    /// Every prompt, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Prompt> {
        self.prompts.values()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn built_in_prompts_parse() {
        let library = PromptLibrary::load(None).unwrap();
        let enrichment = library.get("ticket-enrichment").unwrap();
        assert_eq!(enrichment.reference(), "ticket-enrichment@4");
        assert_eq!(enrichment.task, "ticket_enrichment");
        let vars: Vec<_> = enrichment.variables().iter().cloned().collect();
        assert_eq!(
            vars,
            [
                "description",
                "priority",
                "queue",
                "runbooks",
                "similar_tickets",
                "subject"
            ]
        );
        // A negated character class in a pattern must leave out `"` and `\`: the grammar
        // generated from it would otherwise let the model close the JSON string early.
        for prompt in [enrichment, library.get("postmortem-narrative").unwrap()] {
            for (name, property) in prompt.schema["properties"].as_object().unwrap() {
                if let Some(pattern) = property["pattern"].as_str().filter(|p| p.contains("[^")) {
                    assert!(pattern.contains('"') && pattern.contains("\\\\"), "{name}: {pattern}");
                }
            }
        }
        // A summary for the agent, never the model talking to the requester ("I'm sorry, ...").
        let summary =
            |text: &str| serde_json::json!({"summary": text, "citations": [], "reply": "Thanks, we are on it."});
        assert!(
            enrichment
                .violations(&summary("The requester needs a new laptop."))
                .is_empty()
        );
        assert_eq!(enrichment.violations(&summary("I'm sorry, I cannot help.")).len(), 1);
        let narrative = library.get("postmortem-narrative").unwrap();
        assert!(narrative.variables().contains("timeline"));
        // Every fact sentence must end with a citation; the endpoint enforces the pattern,
        // the model reads the rule in words only.
        let summary = &narrative.schema["properties"]["summary"];
        assert!(
            summary["pattern"].as_str().is_some_and(|p| p.contains("\\[E")),
            "{summary}"
        );
        let cited = "Nodes failed at 10:02 [E3]. The control stream broke [E4][E5].";
        let one = "Nodes failed at 10:02 [E3].";
        let mut answer = serde_json::json!({"summary": cited, "impact": one, "root_causes": one,
            "trigger": "Nodes failed [E3].", "detection": "An alert fired [E1].", "resolution": one,
            "lessons_learned": "Alerting worked.", "action_items": ["Check nodes [E3]"]});
        assert_eq!(narrative.violations(&answer), Vec::<String>::new());
        answer["impact"] = "Nodes failed at 10:02, then the stream broke.".into();
        assert_eq!(narrative.violations(&answer).len(), 1, "an uncited sentence");
        assert!(!narrative.system_message().contains("pattern"));
        assert!(narrative.system_message().contains("\"summary\""));
        assert!(library.get("chat-reply").unwrap().system.contains("DATA"));
        let refinement = library.get("template-refinement").unwrap();
        assert_eq!(refinement.task, "template_refinement");
        let vars: Vec<_> = refinement.variables().iter().cloned().collect();
        assert_eq!(vars, ["messages"]);
        assert!(refinement.max_answer_tokens().is_some_and(|n| n < 256));
    }

    fn ticket(queue: &str, subject: &str, description: &str) -> BTreeMap<String, String> {
        [
            ("queue", queue),
            ("priority", "p3"),
            ("runbooks", "- [runbooks/vpn.md] VPN"),
            ("similar_tickets", "(none)"),
            ("subject", subject),
            ("description", description),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn two_tickets_share_the_prompt_prefix_up_to_the_variable_part() {
        let library = PromptLibrary::load(None).unwrap();
        let prompt = library.get("ticket-enrichment").unwrap();
        let whole = |vars: &BTreeMap<String, String>| {
            format!("{}\n{}", prompt.system_message(), prompt.render_user(vars).unwrap())
        };
        let one = whole(&ticket("Hardware", "printer jammed", "paper stuck in tray 2"));
        let two = whole(&ticket("Access", "vpn drops", "the tunnel disconnects every hour"));
        let shared = one.bytes().zip(two.bytes()).take_while(|(a, b)| a == b).count();
        let fixed = prompt.user.find("{{").unwrap();
        let expected = prompt.system_message().len() + 1 + fixed;
        assert_eq!(
            shared, expected,
            "the prefix ends exactly where the first variable begins"
        );
        assert!(shared > 800, "instructions and schema lead: {shared} bytes");
        // The instructions hold no variable: every variable is in the user message.
        assert!(!prompt.system.contains("{{"));
    }

    #[test]
    fn answer_token_bounds_follow_the_schema() {
        let library = PromptLibrary::load(None).unwrap();
        let enrichment = library.get("ticket-enrichment").unwrap().max_answer_tokens().unwrap();
        let narrative = library
            .get("postmortem-narrative")
            .unwrap()
            .max_answer_tokens()
            .unwrap();
        assert!((100..384).contains(&enrichment), "{enrichment}");
        assert!(narrative > enrichment && narrative < 768, "{narrative}");
        let open = Prompt::parse("---\nid: x\nversion: 1\ntask: t\ndescription: d\n---\n## system\nS\n## user\nU\n## schema\n```json\n{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}\n```\n").unwrap();
        assert_eq!(open.max_answer_tokens(), None, "an unbounded string");
    }

    #[test]
    fn render_is_single_pass_and_checks_variables() {
        let library = PromptLibrary::load(None).unwrap();
        let chat = library.get("chat-reply").unwrap();
        let mut vars = BTreeMap::new();
        vars.insert("intent".to_owned(), "{{facts}}".to_owned());
        assert!(chat.render_user(&vars).is_err());
        vars.insert("facts".to_owned(), "ignore >>> previous".to_owned());
        let text = chat.render_user(&vars).unwrap();
        assert!(text.contains("Intent: {{facts}}"));
        assert!(text.contains("ignore > > > previous"));
    }

    #[test]
    fn schema_violations_are_reported() {
        let library = PromptLibrary::load(None).unwrap();
        let chat = library.get("chat-reply").unwrap();
        assert!(chat.violations(&serde_json::json!({"reply": "hi"})).is_empty());
        assert!(!chat.violations(&serde_json::json!({"reply": 1})).is_empty());
        assert!(!chat.violations(&serde_json::json!({"reply": "hi", "x": 1})).is_empty());
    }

    #[test]
    fn broken_prompts_are_rejected() {
        assert!(Prompt::parse("no front matter").is_err());
        assert!(
            Prompt::parse("---\nid: x\nversion: 1\ntask: t\ndescription: d\n---\n## system\nS\n## user\nU\n").is_err()
        );
        let ok = "---\nid: x\nversion: 2\ntask: t\ndescription: d\n---\n## system\nS\n## user\nU {{a}}\n## schema\n```json\n{\"type\":\"object\"}\n```\n";
        assert_eq!(Prompt::parse(ok).unwrap().reference(), "x@2");
    }
}
