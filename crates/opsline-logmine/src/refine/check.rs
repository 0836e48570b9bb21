//! The acceptance check for a proposed template: it must match every sample line and must not
//! say less than the mined template (no all-wildcard templates, every constant word kept).

use crate::WILDCARD;

/// Why a proposal was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Rejection {
    /// The answer held no template.
    Unparsable,
    /// The proposal is the mined template (nothing to update).
    Same,
    /// The proposal has no letter or digit outside its wildcards.
    AllWildcards,
    /// A constant word of the mined template is missing from the proposal.
    DropsConstant,
    /// A sample line does not match the proposal.
    MissesSample,
    /// The proposal keeps as a constant a number that the mined template does not have.
    KeepsNumber,
    /// The proposal joins variables the mined template keeps apart (`<*>:<*>` into `<*>`).
    MergesVariables,
}

impl Rejection {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unparsable => "unparsable",
            Self::Same => "same",
            Self::AllWildcards => "all-wildcards",
            Self::DropsConstant => "drops-constant",
            Self::MissesSample => "misses-sample",
            Self::KeepsNumber => "keeps-number",
            Self::MergesVariables => "merges-variables",
        }
    }
}

/// `text` with runs of whitespace made one space, trimmed (how templates are compared).
pub fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `line` matches `template`: the template's text between wildcards appears in order,
/// the first piece starts the line, the last ends it, and every wildcard stands for at least
/// one character (spaces included: a wildcard may cover a list). Both sides are compared with
/// whitespace runs made one space.
pub fn matches(template: &str, line: &str) -> bool {
    let template = normalize_space(template);
    let line = normalize_space(line);
    let parts: Vec<&str> = template.split(WILDCARD).collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() == 1 {
        return template == line;
    }
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    // Middle parts: the earliest occurrence after at least one character is always safe (a
    // later match leaves less text for the remaining parts).
    for part in &parts[1..parts.len() - 1] {
        let Some(skip) = rest.char_indices().nth(1).map(|(i, _)| i) else {
            return false;
        };
        let Some(found) = rest[skip..].find(part) else {
            return false;
        };
        rest = &rest[skip + found + part.len()..];
    }
    // The last wildcard needs at least one character before the final part.
    rest.len() > last.len() && rest.ends_with(last) && rest.is_char_boundary(rest.len() - last.len())
}

/// The constant words of `template`: its whitespace-separated words with their wildcards
/// taken out (`(uid=<*>)` gives `(uid=` and `)`), keeping those with a letter and no digit
/// (numbers the miner kept may well be variables).
fn constant_words(template: &str) -> impl Iterator<Item = &str> {
    template
        .split_whitespace()
        .flat_map(|w| w.split(WILDCARD))
        .filter(|w| w.bytes().any(|b| b.is_ascii_alphabetic()) && !w.bytes().any(|b| b.is_ascii_digit()))
}

/// The pairs of variables joined by punctuation or a space only (`<*>:<*>`, `<*> <*>`), as
/// texts, with repeats.
fn joined_variables(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find(WILDCARD) {
        let after = &rest[at + WILDCARD.len()..];
        if let Some(next) = after.find(WILDCARD) {
            let sep = &after[..next];
            if !sep.is_empty() && sep.len() <= 3 && !sep.bytes().any(|b| b.is_ascii_alphanumeric()) {
                out.push(&rest[at..at + 2 * WILDCARD.len() + sep.len()]);
            }
        }
        rest = after;
    }
    out
}

/// Whether an alphanumeric word looks like a number or an id: a run of three or more digits, or
/// digits making up half of it (`50010`, `blk_7128`, `10`, `a1b2`; not `jk2_init`, `HTTP`).
fn is_numeric_word(word: &str) -> bool {
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    let mut run = 0;
    let mut longest = 0;
    for b in word.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    digits > 0 && (longest >= 3 || digits * 2 >= word.len())
}

/// The numeric words (see [`is_numeric_word`]) of the constant text of a template, split on
/// everything but letters, digits and `_`.
fn numeric_words(fixed: &str) -> impl Iterator<Item = &str> {
    fixed
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| is_numeric_word(w))
}

/// Checks a proposal against the mined template and the lines it must match.
pub fn check(mined: &str, proposed: &str, samples: &[&str]) -> Result<(), Rejection> {
    let proposed = normalize_space(proposed);
    if proposed.is_empty() {
        return Err(Rejection::Unparsable);
    }
    if proposed == normalize_space(mined) {
        return Err(Rejection::Same);
    }
    if !proposed
        .replace(WILDCARD, "")
        .bytes()
        .any(|b| b.is_ascii_alphanumeric())
    {
        return Err(Rejection::AllWildcards);
    }
    let fixed: Vec<&str> = proposed.split(WILDCARD).collect();
    let fixed_text = fixed.join(" ");
    if constant_words(mined).any(|w| !fixed_text.contains(w)) {
        return Err(Rejection::DropsConstant);
    }
    let mined = normalize_space(mined);
    let mined_fixed = mined.split(WILDCARD).collect::<Vec<_>>().join(" ");
    let mined_numbers: Vec<&str> = numeric_words(&mined_fixed).collect();
    if numeric_words(&fixed_text).any(|w| !mined_numbers.contains(&w)) {
        return Err(Rejection::KeepsNumber);
    }
    let (joined, kept) = (joined_variables(&mined), joined_variables(&proposed));
    let count = |list: &[&str], pair: &str| list.iter().filter(|p| **p == pair).count();
    if joined.iter().any(|pair| count(&kept, pair) < count(&joined, pair)) {
        return Err(Rejection::MergesVariables);
    }
    if !samples.iter().all(|line| matches(&proposed, line)) {
        return Err(Rejection::MissesSample);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        assert!(matches("job <*> done in <*>", "job 17 done in 3s"));
        assert!(matches("job <*> done", "job  a b   done"));
        assert!(matches("uid=<*> ok", "uid=0 ok"));
        assert!(matches("<*>", "anything at all"));
        assert!(matches("a <*>", "a b"));
        assert!(!matches("job <*> done", "job done"));
        assert!(!matches("job <*> done", "task 1 done"));
        assert!(!matches("job <*> done", "job 1 done!"));
        assert!(!matches("a<*>", "a"));
        assert!(matches("<*>:<*>", "a:b:c"));
        assert!(!matches("<*>:<*>", ":b"));
        assert!(matches("x <*> y <*> y", "x 1 y 2 y"));
        assert!(matches("café <*>", "café ☕"));
    }

    #[test]
    fn accepts_a_proposal_that_matches_every_sample() {
        let samples = [
            "session opened for user alice by (uid=0)",
            "session opened for user bob by (uid=0)",
        ];
        let mined = "session opened for user <*> by (uid=<*>)";
        assert_eq!(
            check(mined, "session opened for user <*> by (uid=<*>) ", &samples),
            Err(Rejection::Same)
        );
        let samples = ["cache warm in 12 ms for shard-a", "cache warm in 9 ms for shard-b"];
        assert_eq!(
            check("cache warm in <*> ms for <*>", "cache warm in <*> ms for <*>", &samples),
            Err(Rejection::Same)
        );
        let mined = "fetch from host-1 failed";
        let samples = ["fetch from host-1 failed"];
        assert_eq!(check(mined, "fetch from <*> failed", &samples), Ok(()));
    }

    #[test]
    fn rejects_a_proposal_missing_a_sample_or_all_wildcards_or_dropping_words() {
        let samples = ["disk sda1 at 91% full", "disk sdb2 at 95% full"];
        let mined = "disk <*> at <*> full";
        assert_eq!(check(mined, "disk <*> at <*>% full", &samples), Ok(()));
        assert_eq!(
            check(mined, "disk <*> at <*> full now", &samples),
            Err(Rejection::MissesSample)
        );
        assert_eq!(check(mined, "<*>", &samples), Err(Rejection::AllWildcards));
        assert_eq!(check(mined, "<*> <*>", &samples), Err(Rejection::AllWildcards));
        assert_eq!(
            check(mined, "disk <*> <*> full", &samples),
            Err(Rejection::DropsConstant)
        );
        assert_eq!(check(mined, "  ", &samples), Err(Rejection::Unparsable));
    }

    #[test]
    fn rejects_a_proposal_that_turns_a_masked_number_into_a_constant() {
        let samples = ["stored blk_7128370 size 67108864 on 10.0.0.7:50010"];
        let mined = "stored <*> size <*> on <*>:<*>";
        assert_eq!(check(mined, "stored blk_<*> size <*> on <*>:<*>", &samples), Ok(()));
        assert_eq!(
            check(mined, "stored blk_7128370 size <*> on <*>:<*>", &samples),
            Err(Rejection::KeepsNumber)
        );
        assert_eq!(
            check(mined, "stored <*> size <*> on <*>:50010", &samples),
            Err(Rejection::KeepsNumber)
        );
        // Names with a digit stay allowed, and numbers the miner kept too.
        let samples = ["jk2_init() found child 7 in slot 1"];
        assert_eq!(
            check(
                "<*>() found child <*> in slot 1",
                "jk2_init() found child <*> in slot 1",
                &samples
            ),
            Ok(())
        );
        assert!(is_numeric_word("50010") && is_numeric_word("a1") && !is_numeric_word("jk2_init"));
    }

    #[test]
    fn rejects_a_proposal_that_merges_variables_or_drops_text_next_to_one() {
        let samples = ["peer 10.0.0.7:50010 sent 3 4 blocks (uid=0)"];
        let mined = "peer <*>:<*> sent <*> <*> blocks (uid=<*>)";
        assert_eq!(
            check(mined, "peer <*> sent <*> <*> blocks (uid=<*>)", &samples),
            Err(Rejection::MergesVariables)
        );
        assert_eq!(
            check(mined, "peer <*>:<*> sent <*> blocks (uid=<*>)", &samples),
            Err(Rejection::MergesVariables)
        );
        assert_eq!(
            check(mined, "peer <*>:<*> sent <*> <*> blocks (<*>)", &samples),
            Err(Rejection::DropsConstant)
        );
        assert_eq!(
            check(mined, "peer <*>:<*> sent <*> <*> blocks (uid=<*>) ", &samples),
            Err(Rejection::Same)
        );
        assert_eq!(joined_variables("a <*>:<*>:<*> b <*>"), vec!["<*>:<*>", "<*>:<*>"]);
        let samples = ["at 10:01:02 job 7 ok"];
        assert_eq!(
            check("at <*>:<*>:<*> job 7 ok", "at <*>:<*>:<*> job <*> ok", &samples),
            Ok(())
        );
    }
}
