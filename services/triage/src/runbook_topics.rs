//! Whether a runbook is about what a ticket says: its topics are its front-matter tags
//! (`printer`, `vpn`, `remote-access`, …), and a ticket is offered a runbook only when it names
//! at least one of them. Search ranking alone always returns the best runbooks, however weak
//! (a printer runbook for a failed scheduler job, because both mention a "job"); the model then
//! cites them and builds its reply on them. Pure.
//!
//! A tag matches when each of its parts (split at `-` and `_`) is a word of the ticket, or, for
//! parts of four letters or more, the start of a word at most five letters longer (`printers`,
//! `installing`, `installation`, `emails`). The catalogue's own tags (`runbook`, the audience tag) are not topics.

use std::collections::BTreeSet;

/// Suffix letters a ticket word may add to a tag part (`printer` → `printers`, `install` →
/// `installation`).
const MAX_SUFFIX: usize = 5;
/// Shorter tag parts must match a whole word (`vpn`, `mfa`).
const MIN_PREFIX_PART: usize = 4;

/// A runbook's topics: each tag as its lower-cased parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    tags: Vec<Vec<String>>,
}

impl Topics {
    /// The topics of a runbook tagged `tags`, leaving out `ignored` tags (case-insensitive).
    pub fn new(tags: &[String], ignored: &[&str]) -> Self {
        let tags = tags
            .iter()
            .map(|tag| tag.trim().to_lowercase())
            .filter(|tag| !tag.is_empty() && !ignored.iter().any(|i| i.eq_ignore_ascii_case(tag)))
            .map(|tag| {
                tag.split(['-', '_'])
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|parts| !parts.is_empty())
            .collect();
        Self { tags }
    }

    /// How many of the topics the ticket's `words` name (0: the runbook is not about it).
    pub fn matches(&self, words: &TicketWords) -> usize {
        self.tags
            .iter()
            .filter(|parts| parts.iter().all(|part| words.names(part)))
            .count()
    }
}

/// The lower-cased words of a ticket's text.
#[derive(Debug, Clone, Default)]
pub struct TicketWords {
    words: BTreeSet<String>,
}

impl TicketWords {
    /// The words of `text` (split at anything not alphanumeric).
    pub fn new(text: &str) -> Self {
        let words = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        Self { words }
    }

    /// Whether the ticket names `part`: as a word, or (long parts) as the start of a word.
    fn names(&self, part: &str) -> bool {
        if self.words.contains(part) {
            return true;
        }
        let len = part.chars().count();
        len >= MIN_PREFIX_PART
            && self
                .words
                .range(part.to_owned()..)
                .take_while(|w| w.starts_with(part))
                .any(|w| w.chars().count() <= len + MAX_SUFFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(tags: &[&str]) -> Topics {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        Topics::new(&tags, &["runbook", "helpdesk"])
    }

    #[test]
    fn a_ticket_naming_a_tag_matches_and_one_sharing_a_generic_word_does_not() {
        let printer = topics(&["runbook", "helpdesk", "printer", "printing", "hardware", "drivers"]);
        assert_eq!(printer.matches(&TicketWords::new("The printers on floor 3 jam")), 1);
        assert_eq!(
            printer.matches(&TicketWords::new("job sid failed in job scheduler at 10:00")),
            0
        );
        // The catalogue's own tags are not topics.
        assert_eq!(printer.matches(&TicketWords::new("helpdesk runbook please")), 0);
    }

    #[test]
    fn short_parts_match_whole_words_and_compound_tags_need_every_part() {
        let vpn = topics(&["vpn", "remote-access", "mfa"]);
        assert_eq!(vpn.matches(&TicketWords::new("VPN drops")), 1);
        assert_eq!(vpn.matches(&TicketWords::new("vpnclient.exe crashed")), 0);
        assert_eq!(vpn.matches(&TicketWords::new("access to database")), 0);
        assert_eq!(vpn.matches(&TicketWords::new("no remote access since Monday")), 1);
    }

    #[test]
    fn inflected_words_match_but_longer_words_do_not() {
        let install = topics(&["software", "install"]);
        assert_eq!(install.matches(&TicketWords::new("help installing the tool")), 1);
        assert_eq!(install.matches(&TicketWords::new("installation guide")), 1);
        assert_eq!(install.matches(&TicketWords::new("installationsprogramm")), 0);
        assert_eq!(install.matches(&TicketWords::new("software install")), 2);
    }
}
