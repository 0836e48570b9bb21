//! Grounding a model's narrative before the citation check: what the model wrote that does not
//! cite the timeline is left out, never published.
//!
//! In the fact sections (summary, impact, root causes, trigger, detection, resolution) a
//! sentence is kept only if it cites at least one timeline entry, every entry it cites
//! exists, and those entries support it ([`super::support`]: shared words, no invented numbers); in the advice sections (action items, lessons learned) a line or sentence is kept
//! if every citation it makes exists. A section left empty gets the deterministic drafter's
//! text, with a `>` note saying so; a section that lost sentences says how many. A narrative
//! in which no fact sentence of the model survives is rejected as a whole
//! ([`Grounded::model_sentences`] is 0), and the result still goes through
//! [`check_citations`](super::check_citations).

use super::citations::{citations, fact_sentences};
use super::support::supported;
use super::{Narrative, NarrativeSection, SectionKind};
use crate::timeline::Timeline;

/// A narrative reduced to what cites the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grounded {
    /// The narrative: the model's grounded text, the deterministic text where none was left.
    pub narrative: Narrative,
    /// Fact sentences of the model that were kept.
    pub model_sentences: usize,
    /// Sentences or list items of the model that were left out.
    pub dropped: usize,
}

/// Whether every citation of `text` names an existing entry (and, when `required`, there is one).
fn cites_timeline(text: &str, timeline: &Timeline, required: bool) -> bool {
    let found = citations(text);
    (!required || !found.is_empty()) && found.iter().all(|c| matches!(c, Ok(n) if timeline.entry(*n).is_some()))
}

/// Keeps the grounded part of `model`; `template` (the deterministic narrative of the same
/// timeline) fills the sections left empty. Keeps `model`'s model and prompt.
pub fn ground(model: &Narrative, template: &Narrative, timeline: &Timeline) -> Grounded {
    let mut sections = Vec::with_capacity(SectionKind::ALL.len());
    let mut model_sentences = 0;
    let mut dropped = 0;
    for kind in SectionKind::ALL {
        let text = model.section(kind).unwrap_or_default();
        let (kept, left_out): (Vec<String>, Vec<String>) = if kind == SectionKind::ActionItems {
            text.lines()
                .map(str::trim)
                .filter(|line| line.chars().any(char::is_alphanumeric))
                .map(str::to_owned)
                .partition(|line| cites_timeline(line, timeline, false))
        } else {
            fact_sentences(text).into_iter().partition(|sentence| {
                if kind.states_facts() {
                    supported(sentence, timeline)
                } else {
                    cites_timeline(sentence, timeline, false)
                }
            })
        };
        dropped += left_out.len();
        if kind.states_facts() {
            model_sentences += kept.len();
        }
        let separator = if kind == SectionKind::ActionItems { "\n" } else { " " };
        let mut text = if kept.is_empty() {
            let fallback = template.section(kind).unwrap_or_default();
            format!("{fallback}\n> Template text: the model wrote nothing here that cites the timeline.")
        } else {
            kept.join(separator)
        };
        if !kept.is_empty() && !left_out.is_empty() {
            text.push_str(&format!(
                "\n> {} sentence(s) of the model without a valid timeline citation were left out.",
                left_out.len()
            ));
        }
        sections.push(NarrativeSection { kind, text });
    }
    Grounded {
        narrative: Narrative {
            sections,
            model: model.model.clone(),
            prompt: model.prompt.clone(),
        },
        model_sentences,
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::{DraftInput, check_citations, deterministic_narrative};
    use crate::timeline::tests::fixture;

    fn narrative(texts: &[(SectionKind, &str)]) -> Narrative {
        Narrative {
            sections: texts
                .iter()
                .map(|(kind, text)| NarrativeSection {
                    kind: *kind,
                    text: (*text).to_owned(),
                })
                .collect(),
            model: Some("m".into()),
            prompt: Some("p@1".into()),
        }
    }

    #[test]
    fn only_cited_sentences_survive_and_empty_sections_get_the_template() {
        let (incident, alerts) = fixture();
        let timeline = Timeline::build(&incident, &alerts);
        let template = deterministic_narrative(&DraftInput {
            incident: &incident,
            timeline: &timeline,
        });
        let model = narrative(&[
            (
                SectionKind::Summary,
                "Exceptions in receiveBlock surged [T1]. A bad deploy caused it. Someone cited [T99]. A giraffe escaped [T2].",
            ),
            (SectionKind::Impact, "Every customer lost money."),
            (
                SectionKind::ActionItems,
                "- Add capacity [T2]\n- Fire the on-call [T42]\n- Alert sooner",
            ),
        ]);
        let grounded = ground(&model, &template, &timeline);
        let out = &grounded.narrative;
        assert_eq!(grounded.model_sentences, 1);
        assert_eq!(grounded.dropped, 5);
        let summary = out.section(SectionKind::Summary).unwrap();
        assert!(
            summary.starts_with("Exceptions in receiveBlock surged [T1]."),
            "{summary}"
        );
        assert!(
            !summary.contains("bad deploy") && !summary.contains("[T99]") && !summary.contains("giraffe"),
            "{summary}"
        );
        let impact = out.section(SectionKind::Impact).unwrap();
        assert!(!impact.contains("lost money"));
        assert!(impact.contains("Template text"), "{impact}");
        let actions = out.section(SectionKind::ActionItems).unwrap();
        assert!(actions.contains("- Add capacity [T2]") && actions.contains("- Alert sooner"));
        assert!(!actions.contains("[T42]"));
        assert_eq!(out.model.as_deref(), Some("m"));
        check_citations(out, &timeline).unwrap();
    }

    #[test]
    fn nothing_grounded_means_no_model_sentence() {
        let (incident, alerts) = fixture();
        let timeline = Timeline::build(&incident, &alerts);
        let template = deterministic_narrative(&DraftInput {
            incident: &incident,
            timeline: &timeline,
        });
        let model = narrative(&[(SectionKind::Summary, "Saved to file: {file}. [Tx] [E<n>]")]);
        assert_eq!(ground(&model, &template, &timeline).model_sentences, 0);
    }
}
