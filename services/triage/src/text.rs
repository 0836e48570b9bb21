//! Tiny text helpers shared by incident linking and similar-ticket grounding:
//! content terms of a text and their overlap.

use std::collections::BTreeSet;

/// Words too common to say anything about a ticket.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "this", "that", "from", "have", "has", "was", "are", "not", "but", "you", "your",
    "our", "can", "could", "would", "please", "thanks", "thank", "hello", "dear", "regards", "since", "when", "there",
    "into", "will", "been", "they", "them", "what", "which", "also", "just", "any", "all", "out", "get", "got",
];

/// Lower-cased alphanumeric terms of at least 3 characters, stop words and placeholder-free.
pub fn terms(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// Share of `query`'s terms found in `candidate` (0..1); 0 for an empty query.
pub fn coverage(query: &BTreeSet<String>, candidate: &BTreeSet<String>) -> f64 {
    if query.is_empty() {
        return 0.0;
    }
    let shared = query.intersection(candidate).count();
    shared as f64 / query.len() as f64
}

/// Jaccard similarity of two term sets (0..1).
pub fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// Whether `word` occurs in `text` as a whole word (case-insensitive).
pub fn mentions(text: &str, word: &str) -> bool {
    let word = word.to_lowercase();
    !word.is_empty()
        && text
            .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .any(|w| w.to_lowercase() == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_skip_short_common_and_numeric_words() {
        let t = terms("The VPN drops every 5 minutes, 2024 please help");
        assert!(t.contains("vpn") && t.contains("drops") && t.contains("minutes"));
        assert!(!t.contains("the") && !t.contains("2024") && !t.contains("please"));
    }

    #[test]
    fn overlap_measures() {
        let a = terms("vpn drops every minute");
        let b = terms("vpn drops");
        assert!((coverage(&b, &a) - 1.0).abs() < 1e-9);
        assert!(jaccard(&a, &b) > 0.0 && jaccard(&a, &b) < 1.0);
        assert!(mentions("Is HDFS down?", "hdfs"));
        assert!(!mentions("hdfs2 is fine", "hdfs"));
    }
}
