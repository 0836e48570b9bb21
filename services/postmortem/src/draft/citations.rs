//! The citation check: every fact sentence of a narrative must cite at least one timeline
//! entry (`[T3]`), and every citation must name an entry that exists.
//!
//! A narrative that fails the check (an LLM that invented a fact, or cited `[T99]`) is
//! rejected and the deterministic draft is published instead.
//!
//! What counts as a fact sentence: every sentence of a section that states facts (summary,
//! impact, root causes, trigger, detection, resolution), except lines that start with `>`
//! (notes asking the reviewer for what the logs cannot tell). Action items and lessons learned
//! are advice: their sentences need no citation, but any citation they make must exist.

use crate::draft::{Narrative, SectionKind};
use crate::timeline::Timeline;

/// Why a narrative was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitationError {
    /// A section every postmortem needs is missing or empty.
    #[error("section {0} is missing or empty")]
    MissingSection(&'static str),
    /// A fact sentence cites no timeline entry.
    #[error("uncited fact in {section}: \"{sentence}\"")]
    Uncited {
        /// The section.
        section: &'static str,
        /// The sentence.
        sentence: String,
    },
    /// A citation names an entry that does not exist.
    #[error("{section} cites [T{number}], but the timeline has {entries} entries")]
    UnknownEntry {
        /// The section.
        section: &'static str,
        /// The cited number.
        number: usize,
        /// Entries in the timeline.
        entries: usize,
    },
    /// A citation is malformed (`[T]`, `[T0]`, `[Tx]`).
    #[error("malformed citation in {section}: \"{text}\"")]
    Malformed {
        /// The section.
        section: &'static str,
        /// The citation text.
        text: String,
    },
}

/// The citations in `text`: `Ok(number)` for `[T<n>]`, `Err(text)` for a malformed `[T...]`.
pub fn citations(text: &str) -> Vec<Result<usize, String>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[T") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(']') else { break };
        let inner = &after[..end];
        if inner.len() <= 12 {
            match inner.parse::<usize>() {
                Ok(n) if n > 0 && inner.bytes().all(|b| b.is_ascii_digit()) => found.push(Ok(n)),
                _ => found.push(Err(format!("[T{inner}]"))),
            }
        }
        rest = &after[end + 1..];
    }
    found
}

/// The sentences of `text` that state facts: lines starting with `>` are skipped, list
/// markers are dropped, and a sentence ends at `.`, `!` or `?` followed by white space or
/// the end of the line, outside double quotes (quoted log templates keep their full stops).
/// Fragments without a letter or digit are ignored.
pub fn fact_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('>') {
            continue;
        }
        let line = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("* "))
            .unwrap_or(line);
        let mut current = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            current.push(c);
            if c == '"' {
                quoted = !quoted;
            }
            let ends = !quoted && matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace());
            if ends {
                push_sentence(&mut sentences, &mut current);
            }
        }
        push_sentence(&mut sentences, &mut current);
    }
    sentences
}

fn push_sentence(sentences: &mut Vec<String>, current: &mut String) {
    let sentence = current.trim();
    // A citation alone after a full stop ("... done. [T3]") belongs to the sentence before.
    let only_citations = !sentence.is_empty()
        && citations(sentence).iter().all(Result::is_ok)
        && !citations(sentence).is_empty()
        && strip_citations(sentence).trim().is_empty();
    if only_citations {
        if let Some(last) = sentences.last_mut() {
            last.push(' ');
            last.push_str(sentence);
        }
    } else if sentence.chars().any(char::is_alphanumeric) {
        sentences.push(sentence.to_owned());
    }
    current.clear();
}

/// `text` without its `[T<n>]` citations (an unterminated `[T...` is kept).
pub(crate) fn strip_citations(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("[T") {
        out.push_str(&rest[..start]);
        match rest[start..].find(']') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks `narrative` against `timeline` (see the module docs).
pub fn check_citations(narrative: &Narrative, timeline: &Timeline) -> Result<(), CitationError> {
    let entries = timeline.entries.len();
    for required in SectionKind::ALL.iter().filter(|k| k.states_facts()) {
        let present = narrative
            .section(*required)
            .is_some_and(|text| !fact_sentences(text).is_empty());
        if !present {
            return Err(CitationError::MissingSection(required.heading()));
        }
    }
    for section in &narrative.sections {
        let name = section.kind.heading();
        for citation in citations(&section.text) {
            match citation {
                Ok(number) if number <= entries => {}
                Ok(number) => {
                    return Err(CitationError::UnknownEntry {
                        section: name,
                        number,
                        entries,
                    });
                }
                Err(text) => return Err(CitationError::Malformed { section: name, text }),
            }
        }
        if section.kind.states_facts() {
            for sentence in fact_sentences(&section.text) {
                if citations(&sentence).is_empty() {
                    return Err(CitationError::Uncited {
                        section: name,
                        sentence,
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::deterministic::deterministic_narrative;
    use crate::draft::{DraftInput, NarrativeSection};
    use crate::timeline::tests::fixture;

    fn good() -> (Narrative, Timeline) {
        let (incident, alerts) = fixture();
        let timeline = Timeline::build(&incident, &alerts);
        let narrative = deterministic_narrative(&DraftInput {
            incident: &incident,
            timeline: &timeline,
        });
        (narrative, timeline)
    }

    fn replace(narrative: &mut Narrative, kind: SectionKind, text: &str) {
        narrative.sections.retain(|s| s.kind != kind);
        narrative.sections.push(NarrativeSection {
            kind,
            text: text.to_owned(),
        });
    }

    #[test]
    fn the_deterministic_narrative_passes() {
        let (narrative, timeline) = good();
        assert_eq!(check_citations(&narrative, &timeline), Ok(()));
    }

    #[test]
    fn an_uncited_fact_is_rejected() {
        let (mut narrative, timeline) = good();
        replace(
            &mut narrative,
            SectionKind::RootCauses,
            "The disk filled up because of a cron job [T2]. The cron job was added on Monday.",
        );
        let error = check_citations(&narrative, &timeline).unwrap_err();
        assert!(
            matches!(error, CitationError::Uncited { section: "Root causes", ref sentence } if sentence.contains("Monday")),
            "{error}"
        );
    }

    #[test]
    fn a_citation_of_a_missing_entry_is_rejected() {
        let (mut narrative, timeline) = good();
        replace(&mut narrative, SectionKind::Trigger, "A deploy started it [T99].");
        assert!(matches!(
            check_citations(&narrative, &timeline),
            Err(CitationError::UnknownEntry { number: 99, .. })
        ));
        replace(&mut narrative, SectionKind::Trigger, "A deploy started it [T0].");
        assert!(matches!(
            check_citations(&narrative, &timeline),
            Err(CitationError::Malformed { .. })
        ));
        replace(&mut narrative, SectionKind::Trigger, "A deploy started it [T2].");
        replace(&mut narrative, SectionKind::ActionItems, "- Add an alert [T42].");
        assert!(matches!(
            check_citations(&narrative, &timeline),
            Err(CitationError::UnknownEntry { number: 42, .. })
        ));
    }

    #[test]
    fn a_missing_or_empty_fact_section_is_rejected() {
        let (mut narrative, timeline) = good();
        narrative.sections.retain(|s| s.kind != SectionKind::Impact);
        assert_eq!(
            check_citations(&narrative, &timeline),
            Err(CitationError::MissingSection("Impact"))
        );
        let (mut narrative, _) = good();
        replace(&mut narrative, SectionKind::Impact, "> Reviewer: fill in.");
        assert_eq!(
            check_citations(&narrative, &timeline),
            Err(CitationError::MissingSection("Impact"))
        );
    }

    #[test]
    fn reviewer_notes_advice_and_trailing_citations_are_accepted() {
        let (mut narrative, timeline) = good();
        replace(
            &mut narrative,
            SectionKind::Resolution,
            "It stopped at 10:00. [T4]\n> Reviewer: say what was done.",
        );
        replace(&mut narrative, SectionKind::LessonsLearned, "Keep the runbook short.");
        assert_eq!(check_citations(&narrative, &timeline), Ok(()));
    }

    #[test]
    fn sentences_split_on_terminal_punctuation_only() {
        assert_eq!(
            fact_sentences("dfs.DataNode had 1.5 errors [T1]. Then quiet! [T2]\n- item [T3]"),
            vec!["dfs.DataNode had 1.5 errors [T1].", "Then quiet! [T2]", "item [T3]"]
        );
        assert_eq!(
            citations("x [T1][T22] [Tz] [T"),
            vec![Ok(1), Ok(22), Err("[Tz]".into())]
        );
        assert_eq!(
            fact_sentences("template \"Closed. Retrying\" [T2]."),
            vec!["template \"Closed. Retrying\" [T2]."]
        );
    }
}
