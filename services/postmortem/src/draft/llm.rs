//! The LLM drafter: the narrative sections written by a model through the LLM gateway
//! (task `postmortem_narrative`, prompt `postmortem-narrative`), from the incident's timeline.
//!
//! The model sees the timeline as lines `[E<n>] <time> <text> [E<n>].` (the number in front
//! to find an event, and again at the end the way a cited sentence ends, which even a small
//! model copies; alerts in a few words; redacted once more with `opsline-privacy` before they
//! leave the service) and
//! must cite those numbers; its answer is
//! turned into a [`Narrative`] citing `[T<n>]`, the timeline's own numbering, so the usual
//! [`check_citations`](super::check_citations) decides whether it is used or replaced by the
//! deterministic draft. The narrative records the model and prompt version that wrote it.

use std::collections::BTreeMap;

use opsline_llm::{Admission, LlmGateway, StructuredRequest};
use opsline_privacy::{Redactor, RedactorConfig};
use serde::Deserialize;

use super::{DraftFuture, DraftInput, Drafter, DrafterError, Narrative, NarrativeSection, SectionKind};
use crate::timeline::{EntryKind, MAX_QUOTE_CHARS, Timeline, TimelineEntry, quote};

/// The gateway task of the narrative.
pub const NARRATIVE_TASK: &str = "postmortem_narrative";
/// The prompt id of the narrative.
pub const NARRATIVE_PROMPT: &str = "postmortem-narrative";

/// The model's answer, as the prompt's JSON Schema defines it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NarrativeAnswer {
    /// What happened.
    pub summary: String,
    /// Who and what was affected.
    pub impact: String,
    /// Why it happened (hypotheses).
    pub root_causes: String,
    /// What set it off.
    pub trigger: String,
    /// How it was noticed.
    pub detection: String,
    /// How it ended.
    pub resolution: String,
    /// What went well or wrong.
    pub lessons_learned: String,
    /// What to do next, one action per item.
    pub action_items: Vec<String>,
}

/// Writes narratives with a model through the LLM gateway.
pub struct LlmDrafter {
    gateway: LlmGateway,
    redactor: Redactor,
}

impl std::fmt::Debug for LlmDrafter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmDrafter").finish_non_exhaustive()
    }
}

impl LlmDrafter {
    /// A drafter calling `gateway`; timeline text is redacted with the default redactor first.
    pub fn new(gateway: LlmGateway) -> Self {
        Self {
            gateway,
            redactor: Redactor::new(RedactorConfig::default()),
        }
    }

    /// The prompt variables for `input`: `title`, `service`, `severity` and `timeline` (the
    /// entries of [`model_entries`], numbered as in the timeline).
    pub fn vars(&self, input: &DraftInput<'_>) -> BTreeMap<String, String> {
        let (entries, hidden) = model_entries(input.timeline);
        let mut timeline: Vec<String> = entries
            .iter()
            .map(|e| format!("[E{n}] {} {} [E{n}].", e.at, model_text(e), n = e.number))
            .collect();
        if hidden > 0 {
            timeline.push(format!(
                "({hidden} more alerts repeating the templates above are not shown.)"
            ));
        }
        BTreeMap::from([
            ("title".to_owned(), self.redactor.redact(&input.incident.title)),
            ("service".to_owned(), self.redactor.redact(&input.incident.service)),
            ("severity".to_owned(), input.incident.severity.as_str().to_owned()),
            ("timeline".to_owned(), self.redactor.redact(&timeline.join("\n"))),
        ])
    }
}

impl Drafter for LlmDrafter {
    fn model(&self) -> &str {
        "llm"
    }

    fn prompt(&self) -> &str {
        NARRATIVE_PROMPT
    }

    fn draft<'a>(&'a self, input: DraftInput<'a>) -> DraftFuture<'a> {
        self.draft_admitted(input, None)
    }

    fn gateway(&self) -> Option<&LlmGateway> {
        Some(&self.gateway)
    }

    fn draft_admitted<'a>(&'a self, input: DraftInput<'a>, admission: Option<&'a Admission>) -> DraftFuture<'a> {
        Box::pin(async move {
            let vars = self.vars(&input);
            let request = StructuredRequest {
                task: NARRATIVE_TASK,
                prompt_id: NARRATIVE_PROMPT,
                vars: &vars,
                admission,
            };
            let output = self
                .gateway
                .structured::<NarrativeAnswer>(request)
                .await
                .map_err(|e| DrafterError(e.to_string()))?;
            let mut narrative = narrative_from_answer(&output.value);
            narrative.model = Some(output.model);
            narrative.prompt = Some(output.prompt);
            Ok(narrative)
        })
    }
}

/// Timeline entries shown to the model at most.
pub const MAX_MODEL_ENTRIES: usize = 16;

/// The entries a narrative may need to cite, in time order: every entry that is not an alert,
/// and of the alerts only the first of each kind and template (a repeat says nothing new), at
/// most [`MAX_MODEL_ENTRIES`] in all (the earliest); and how many alerts were left out. A long
/// incident's prompt stays short and every number shown is still the timeline's own.
pub fn model_entries(timeline: &Timeline) -> (Vec<&TimelineEntry>, usize) {
    let mut seen = std::collections::BTreeSet::new();
    let mut shown = Vec::new();
    let mut hidden = 0;
    for entry in &timeline.entries {
        let first = match &entry.kind {
            EntryKind::Alert(alert) => seen.insert((alert.kind.as_str(), alert.template.clone())),
            _ => true,
        };
        // Keep room for the entries that are not alerts (resolution comes last).
        let room = shown.len() < MAX_MODEL_ENTRIES.saturating_sub(1) || !matches!(entry.kind, EntryKind::Alert(_));
        if first && room && shown.len() < MAX_MODEL_ENTRIES {
            shown.push(entry);
        } else if matches!(entry.kind, EntryKind::Alert(_)) {
            hidden += 1;
        }
    }
    (shown, hidden)
}

/// The text of `entry` for the model: an alert in a few words (kind, count, template,
/// baseline; the window, sample line and offsets stay in the document), short enough for a
/// small model to copy with its citation; other entries as in the timeline.
fn model_text(entry: &TimelineEntry) -> String {
    let EntryKind::Alert(alert) = &entry.kind else {
        return entry.text.clone();
    };
    let mut text = format!(
        "{} alert on {} ({}): {} lines of \"{}\"",
        alert.kind.as_str(),
        quote(&alert.service, 80),
        alert.severity.as_str(),
        alert.count,
        quote(&alert.template, MAX_QUOTE_CHARS)
    );
    if let Some(baseline) = alert.baseline.filter(|b| b.is_finite()) {
        text.push_str(&format!(", baseline {baseline:.1}"));
    }
    text
}

/// The narrative of a model's answer, its `[E<n>]` citations rewritten as `[T<n>]` (a list
/// like `[E3, E4]` becomes `[T3][T4]`; anything else in `[E…]` stays malformed and fails the
/// citation check).
pub fn narrative_from_answer(answer: &NarrativeAnswer) -> Narrative {
    let items: Vec<String> = answer
        .action_items
        .iter()
        .map(|item| format!("- {}", item.trim().trim_start_matches("- ")))
        .collect();
    let sections = [
        (SectionKind::Summary, answer.summary.clone()),
        (SectionKind::Impact, answer.impact.clone()),
        (SectionKind::RootCauses, answer.root_causes.clone()),
        (SectionKind::Trigger, answer.trigger.clone()),
        (SectionKind::Detection, answer.detection.clone()),
        (SectionKind::Resolution, answer.resolution.clone()),
        (SectionKind::ActionItems, items.join("\n")),
        (SectionKind::LessonsLearned, answer.lessons_learned.clone()),
    ];
    Narrative {
        sections: sections
            .into_iter()
            .map(|(kind, text)| NarrativeSection {
                kind,
                text: rewrite_citations(text.trim()),
            })
            .collect(),
        ..Narrative::default()
    }
}

/// Rewrites `[E<n>]` (and `[E<n>, E<m>]`) citations as `[T<n>]`.
fn rewrite_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[E") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find(']') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let numbers: Option<Vec<&str>> = inner
            .split(',')
            .map(|part| {
                let n = part.trim().strip_prefix('E')?;
                (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
            })
            .collect();
        match numbers {
            Some(numbers) => numbers.iter().for_each(|n| out.push_str(&format!("[T{n}]"))),
            None => out.push_str(&format!("[T{}]", inner.strip_prefix('E').unwrap_or(inner))),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::draft::{deterministic_narrative, draft_postmortem};
    use crate::timeline::tests::fixture;

    /// A drafter returning a canned model answer (JSON), converted like the real one.
    struct Canned(&'static str);

    impl Drafter for Canned {
        fn model(&self) -> &str {
            "llm"
        }
        fn prompt(&self) -> &str {
            NARRATIVE_PROMPT
        }
        fn draft<'a>(&'a self, _input: DraftInput<'a>) -> DraftFuture<'a> {
            Box::pin(async move {
                let answer: NarrativeAnswer = serde_json::from_str(self.0).map_err(|e| DrafterError(e.to_string()))?;
                let mut narrative = narrative_from_answer(&answer);
                narrative.model = Some("qwen2.5-coder-1.5b-instruct".into());
                narrative.prompt = Some("postmortem-narrative@1".into());
                Ok(narrative)
            })
        }
    }

    const GOOD: &str = r#"{
        "summary": "Exceptions in receiveBlock surged on hdfs [E1]. PacketResponder lines for the block were terminating [E2, E3].",
        "impact": "Writes to hdfs failed with exceptions in receiveBlock [E2].",
        "root_causes": "A hypothesis: receiveBlock exceptions stopped the block writes [E2][E3].",
        "trigger": "The error surge started the incident [E1].",
        "detection": "An error_surge alert fired on hdfs [E2].",
        "resolution": "The incident was resolved after a quiet period [E4].",
        "lessons_learned": "Alerting on the error surge worked well [E1].",
        "action_items": ["Add capacity to the hdfs datanodes [E1]", "Alert on receiveBlock exceptions"]
    }"#;

    fn with(field: &str, value: &str) -> &'static str {
        let mut answer: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        answer[field] = serde_json::Value::String(value.into());
        Box::leak(answer.to_string().into_boxed_str())
    }

    #[test]
    fn citations_are_renumbered_for_the_timeline() {
        assert_eq!(rewrite_citations("a [E1]. b [E2, E13]."), "a [T1]. b [T2][T13].");
        assert_eq!(
            rewrite_citations("odd [Ex] and [E] and [E3"),
            "odd [Tx] and [T] and [E3"
        );
        assert_eq!(rewrite_citations("no citation"), "no citation");
    }

    #[tokio::test]
    async fn a_grounded_answer_is_used_with_its_model_and_prompt() {
        let (incident, alerts) = fixture();
        let outcome = draft_postmortem(&incident, &alerts, &Canned(GOOD)).await;
        assert_eq!(outcome.fallback_reason, None);
        let pm = outcome.postmortem;
        assert_eq!(pm.model, "qwen2.5-coder-1.5b-instruct");
        assert_eq!(pm.prompt, "postmortem-narrative@1");
        assert!(
            pm.markdown.contains("Exceptions in receiveBlock surged on hdfs [T1]."),
            "{}",
            pm.markdown
        );
        assert!(pm.markdown.contains("terminating [T2][T3]."), "{}", pm.markdown);
        assert!(
            pm.markdown.contains("- Add capacity to the hdfs datanodes [T1]"),
            "{}",
            pm.markdown
        );
        assert!(pm.markdown.contains("_Draft, needs review._"));
    }

    #[tokio::test]
    async fn an_uncited_fact_is_left_out_and_its_section_keeps_the_template() {
        let (incident, alerts) = fixture();
        let answer = with("impact", "Every customer lost money.");
        let outcome = draft_postmortem(&incident, &alerts, &Canned(answer)).await;
        assert_eq!(outcome.fallback_reason, None);
        let pm = outcome.postmortem;
        assert_eq!(pm.model, "qwen2.5-coder-1.5b-instruct");
        assert!(!pm.markdown.contains("lost money"), "{}", pm.markdown);
        assert!(pm.markdown.contains("Template text"), "{}", pm.markdown);
        assert!(pm.markdown.contains("Exceptions in receiveBlock surged on hdfs [T1]."));
    }

    #[tokio::test]
    async fn a_citation_of_a_missing_entry_is_left_out() {
        let (incident, alerts) = fixture();
        let answer = with("trigger", "A deploy started it [E99]. The surge began [E1].");
        let outcome = draft_postmortem(&incident, &alerts, &Canned(answer)).await;
        assert_eq!(outcome.fallback_reason, None);
        let markdown = outcome.postmortem.markdown;
        assert!(
            !markdown.contains("[T99]") && !markdown.contains("A deploy"),
            "{markdown}"
        );
        assert!(markdown.contains("The surge began [T1]."), "{markdown}");
        assert!(markdown.contains("1 sentence(s) of the model"), "{markdown}");
    }

    #[tokio::test]
    async fn an_answer_citing_nothing_or_malformed_falls_back() {
        let (incident, alerts) = fixture();
        let mut uncited: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        for field in ["summary", "impact", "root_causes", "trigger", "detection", "resolution"] {
            uncited[field] = serde_json::Value::String("Something happened [Efoo].".into());
        }
        let uncited: &'static str = Box::leak(uncited.to_string().into_boxed_str());
        for answer in [uncited, "{\"summary\": \"not the schema\"}"] {
            let outcome = draft_postmortem(&incident, &alerts, &Canned(answer)).await;
            assert!(outcome.fallback_reason.is_some(), "{answer}");
            assert_eq!(outcome.postmortem.model, "none");
        }
        let expected = deterministic_narrative(&DraftInput {
            incident: &incident,
            timeline: &crate::timeline::Timeline::build(&incident, &alerts),
        });
        let outcome = draft_postmortem(&incident, &alerts, &Canned(uncited)).await;
        let summary = expected.section(SectionKind::Summary).unwrap();
        assert!(outcome.postmortem.markdown.contains(summary.lines().next().unwrap()));
    }

    #[test]
    fn repeated_alerts_are_left_out_of_the_prompt_and_numbers_kept() {
        let (incident, alerts) = fixture();
        let mut timeline = crate::timeline::Timeline::build(&incident, &alerts);
        let alert = timeline
            .entries
            .iter()
            .find(|e| matches!(e.kind, EntryKind::Alert(_)))
            .cloned()
            .unwrap();
        let last = timeline.entries.pop().unwrap();
        for _ in 0..40 {
            let mut repeat = alert.clone();
            repeat.number = timeline.entries.len() + 1;
            timeline.entries.push(repeat);
        }
        let mut last = last;
        last.number = timeline.entries.len() + 1;
        timeline.entries.push(last.clone());
        let (shown, hidden) = model_entries(&timeline);
        assert!(shown.len() <= MAX_MODEL_ENTRIES);
        assert_eq!(hidden, 40, "every repeat of a template is left out");
        assert_eq!(
            shown.last().map(|e| e.number),
            Some(last.number),
            "the last entry is kept"
        );
        assert!(shown.windows(2).all(|w| w[0].number < w[1].number));
    }

    #[test]
    fn vars_number_the_timeline_as_events_and_redact() {
        let (mut incident, alerts) = fixture();
        incident.title = "Ledger timeouts, contact ops@example.com".into();
        let timeline = crate::timeline::Timeline::build(&incident, &alerts);
        let gateway = LlmGateway::new(
            opsline_llm::LlmConfig::default(),
            std::sync::Arc::new(opsline_llm::NoLedger),
        )
        .expect("a disabled gateway");
        let drafter = LlmDrafter::new(gateway);
        let vars = drafter.vars(&DraftInput {
            incident: &incident,
            timeline: &timeline,
        });
        assert!(vars["timeline"].starts_with("[E1] "), "{}", vars["timeline"]);
        assert!(
            vars["timeline"].lines().all(|l| l.ends_with("].")),
            "{}",
            vars["timeline"]
        );
        assert_eq!(vars["timeline"].lines().count(), timeline.entries.len());
        assert!(!vars["title"].contains("ops@example.com"), "{}", vars["title"]);
        assert_eq!(vars["service"], incident.service);
    }
}
