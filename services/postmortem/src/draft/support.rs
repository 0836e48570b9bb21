//! Whether a cited sentence says what its citations say: a model sentence that cites a
//! timeline entry is kept only if the entries it cites support it.
//!
//! A citation that exists is not enough: a small model forced to end every sentence with
//! `[E<n>]` can cite any number, and can add a cause or a fix to an entry that only says the
//! incident was resolved. A sentence is *supported* when
//! - at least half of its content words (four letters or more, not a function word) share
//!   their first five letters with a word of a cited entry (its time and text), and
//! - every number of two digits or more in it appears in a cited entry (no invented counts,
//!   times or baselines).
//!
//! Pure: no model, no I/O. Used by [`super::grounding`] for the fact sections.

use std::collections::BTreeSet;

use super::citations::{citations, strip_citations};
use crate::timeline::Timeline;

/// Words that say nothing about the incident; never enough to support a sentence.
const FUNCTION_WORDS: &[&str] = &[
    "about", "after", "also", "before", "because", "been", "being", "between", "both", "could", "did", "does",
    "during", "each", "from", "have", "into", "more", "most", "other", "over", "same", "should", "some", "such",
    "than", "that", "their", "them", "then", "there", "these", "they", "this", "those", "through", "under", "until",
    "when", "were", "what", "which", "while", "will", "with", "would",
];

/// Letters compared between a sentence word and an entry word.
const STEM_CHARS: usize = 5;

/// Whether the entries `sentence` cites (`[T<n>]`) support it (see the module docs). A
/// sentence citing nothing, or an entry that does not exist, is not supported.
pub fn supported(sentence: &str, timeline: &Timeline) -> bool {
    let mut cited = Vec::new();
    for citation in citations(sentence) {
        match citation.ok().and_then(|n| timeline.entry(n)) {
            Some(entry) => cited.push(format!("{} {}", entry.at, entry.text)),
            None => return false,
        }
    }
    if cited.is_empty() {
        return false;
    }
    let evidence = cited.join(" ");
    let evidence_stems: BTreeSet<String> = words(&evidence).map(|w| stem(&w)).collect();
    let evidence_numbers: BTreeSet<String> = numbers(&evidence, 1).collect();
    let claim = strip_citations(sentence);
    let content: Vec<String> = words(&claim)
        .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
        .filter(|w| !FUNCTION_WORDS.contains(&w.as_str()))
        .collect();
    let shared = content.iter().filter(|w| evidence_stems.contains(&stem(w))).count();
    let mostly_shared = !content.is_empty() && shared * 2 >= content.len();
    let numbers_known = numbers(&claim, 2).all(|n| evidence_numbers.contains(&n));
    mostly_shared && numbers_known
}

/// Lower-case alphanumeric words.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn stem(word: &str) -> String {
    word.chars().take(STEM_CHARS).collect()
}

/// Runs of `min_digits` digits or more (leading zeros dropped, so `07` and `7` compare equal).
fn numbers(text: &str, min_digits: usize) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(move |run| run.len() >= min_digits)
        .map(|run| {
            let trimmed = run.trim_start_matches('0');
            if trimmed.is_empty() {
                "0".to_owned()
            } else {
                trimmed.to_owned()
            }
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::timeline::tests::fixture;

    fn timeline() -> Timeline {
        let (incident, alerts) = fixture();
        Timeline::build(&incident, &alerts)
    }

    /// A content word of `text` six letters or longer.
    fn content_word(text: &str) -> String {
        words(text)
            .find(|w| w.len() >= 6 && w.chars().all(char::is_alphabetic) && !FUNCTION_WORDS.contains(&w.as_str()))
            .unwrap()
    }

    #[test]
    fn a_sentence_using_the_words_of_its_entry_is_supported() {
        let timeline = timeline();
        let entry = timeline.entry(2).unwrap();
        let word = content_word(&entry.text);
        assert!(
            supported(&format!("The {word} alert fired on hdfs [T2]."), &timeline),
            "{}",
            entry.text
        );
    }

    #[test]
    fn unrelated_words_invented_numbers_and_missing_entries_are_not() {
        let timeline = timeline();
        let entry = timeline.entry(2).unwrap();
        let word = content_word(&entry.text);
        assert!(!supported("A giraffe escaped the zoo [T2].", &timeline));
        assert!(!supported(
            &format!("The {word} part failed 98765 times [T2]."),
            &timeline
        ));
        assert!(!supported(&format!("The {word} part went wrong [T99]."), &timeline));
        assert!(!supported(&format!("The {word} part went wrong."), &timeline));
        assert!(!supported("This happened while they were there [T2].", &timeline));
        // One shared word among added causes and fixes is not enough.
        assert!(!supported(
            &format!("The {word} part was fixed by rewriting the monitoring system and updating drivers [T2]."),
            &timeline
        ));
    }

    #[test]
    fn numbers_compare_without_leading_zeros() {
        assert_eq!(
            numbers("at 09:05, 100 lines, 7", 2).collect::<Vec<_>>(),
            ["9", "5", "100"]
        );
    }
}
