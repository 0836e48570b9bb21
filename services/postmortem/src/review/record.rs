//! The review record kept in the document itself, as three trailing sections the service
//! writes and reads back (so it travels with every revision on the compacted postmortems
//! topic, the one place postmortems are stored):
//!
//! ```text
//! ## Tracked action items
//!
//! - [A1] open · P2 · due 2026-12-20 · owner alice · Add a rate alert for receiveBlock
//!
//! ## Comments
//!
//! - [C1] 2026-12-06T09:00:00Z · alice · The impact needs the request numbers.
//!
//! ## Revision history
//!
//! - r3 · 2026-12-06T09:00:00Z · alice · edited Impact
//! ```
//!
//! Free text comes last on a line, so it may contain ` · `; names, dates and priorities never
//! do ([`name`] replaces `·`). A line that does not parse is skipped, never an error.

use serde::{Deserialize, Serialize};

use crate::review::document::{Outline, clean_line};

/// Heading of the tracked action items.
pub const ACTIONS: &str = "Tracked action items";
/// Heading of the comments.
pub const COMMENTS: &str = "Comments";
/// Heading of the revision history.
pub const HISTORY: &str = "Revision history";
const SEP: &str = " · ";

/// Priority of an action item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ActionPriority {
    /// Urgent.
    P1,
    /// High.
    P2,
    /// Normal.
    P3,
    /// Low.
    P4,
}

impl ActionPriority {
    /// Every priority, most urgent first.
    pub const ALL: [ActionPriority; 4] = [Self::P1, Self::P2, Self::P3, Self::P4];

    /// `P1`..`P4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
            Self::P4 => "P4",
        }
    }

    /// Parses `P1`..`P4` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// One tracked action item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionItem {
    /// `1` for `A1`.
    pub number: u32,
    /// What to do.
    pub title: String,
    /// Who does it.
    pub owner: String,
    /// How urgent.
    pub priority: ActionPriority,
    /// When it is due (`YYYY-MM-DD`), if set.
    pub due: Option<String>,
    /// Whether it is done.
    pub closed: bool,
}

/// One comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// `1` for `C1`.
    pub number: u32,
    /// When (RFC 3339, seconds).
    pub at: String,
    /// Who.
    pub author: String,
    /// What.
    pub text: String,
}

/// One entry of the revision history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The revision this change made.
    pub revision: u32,
    /// When (RFC 3339, seconds).
    pub at: String,
    /// Who.
    pub by: String,
    /// What, e.g. `edited Impact`.
    pub what: String,
}

/// The review record of a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReviewRecord {
    /// Tracked action items, by number.
    pub action_items: Vec<ActionItem>,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Changes made by people, oldest first.
    pub history: Vec<Change>,
}

/// A person's name or a short field, safe between separators.
pub fn name(text: &str) -> String {
    clean_line(text, 80).replace('·', "-")
}

/// A due date: `YYYY-MM-DD` that is a real date.
pub fn due_date(text: &str) -> Option<String> {
    let text = text.trim();
    text.parse::<jiff::civil::Date>()
        .ok()
        .map(|d| d.to_string())
        .filter(|d| d == text)
}

fn items<'a>(outline: &'a Outline, heading: &str) -> impl Iterator<Item = &'a str> {
    outline
        .text(heading)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
}

fn numbered(line: &str, letter: char) -> Option<(u32, &str)> {
    let rest = line.strip_prefix('[')?.strip_prefix(letter)?;
    let (number, rest) = rest.split_once("] ")?;
    Some((number.parse().ok()?, rest))
}

fn parse_action(line: &str) -> Option<ActionItem> {
    let (number, rest) = numbered(line, 'A')?;
    let mut parts = rest.splitn(5, SEP);
    let state = parts.next()?;
    let priority = ActionPriority::parse(parts.next()?)?;
    let due = parts.next()?.strip_prefix("due ")?;
    let owner = parts.next()?.strip_prefix("owner ")?;
    let title = parts.next()?;
    Some(ActionItem {
        number,
        title: title.to_owned(),
        owner: owner.to_owned(),
        priority,
        due: (due != "-").then(|| due.to_owned()),
        closed: match state {
            "open" => false,
            "closed" => true,
            _ => return None,
        },
    })
}

fn parse_comment(line: &str) -> Option<Comment> {
    let (number, rest) = numbered(line, 'C')?;
    let mut parts = rest.splitn(3, SEP);
    Some(Comment {
        number,
        at: parts.next()?.to_owned(),
        author: parts.next()?.to_owned(),
        text: parts.next()?.to_owned(),
    })
}

fn parse_change(line: &str) -> Option<Change> {
    let rest = line.strip_prefix('r')?;
    let mut parts = rest.splitn(4, SEP);
    Some(Change {
        revision: parts.next()?.parse().ok()?,
        at: parts.next()?.to_owned(),
        by: parts.next()?.to_owned(),
        what: parts.next()?.to_owned(),
    })
}

impl ReviewRecord {
    /// The record written in `outline`.
    pub fn read(outline: &Outline) -> Self {
        Self {
            action_items: items(outline, ACTIONS).filter_map(parse_action).collect(),
            comments: items(outline, COMMENTS).filter_map(parse_comment).collect(),
            history: items(outline, HISTORY).filter_map(parse_change).collect(),
        }
    }

    /// Writes the record's sections into `outline` (a section with nothing in it is left out).
    pub fn write(&self, outline: &mut Outline) {
        let actions: Vec<String> = self
            .action_items
            .iter()
            .map(|a| {
                format!(
                    "- [A{}] {}{SEP}{}{SEP}due {}{SEP}owner {}{SEP}{}",
                    a.number,
                    if a.closed { "closed" } else { "open" },
                    a.priority.as_str(),
                    a.due.as_deref().unwrap_or("-"),
                    a.owner,
                    a.title
                )
            })
            .collect();
        let comments: Vec<String> = self
            .comments
            .iter()
            .map(|c| format!("- [C{}] {}{SEP}{}{SEP}{}", c.number, c.at, c.author, c.text))
            .collect();
        let history: Vec<String> = self
            .history
            .iter()
            .map(|c| format!("- r{}{SEP}{}{SEP}{}{SEP}{}", c.revision, c.at, c.by, c.what))
            .collect();
        for (heading, lines) in [(ACTIONS, actions), (COMMENTS, comments), (HISTORY, history)] {
            if !lines.is_empty() {
                outline.set_text(heading, &lines.join("\n"), None);
            }
        }
    }

    /// The next free action item number.
    pub fn next_action(&self) -> u32 {
        self.action_items
            .iter()
            .map(|a| a.number)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// The next free comment number.
    pub fn next_comment(&self) -> u32 {
        self.comments
            .iter()
            .map(|c| c.number)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }
}

/// Whether people changed the document (it has a revision history): such a draft is never
/// redrafted from the incident, which would drop their work.
pub fn edited_by_people(markdown: &str) -> bool {
    markdown.contains(&format!("\n## {HISTORY}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_through_markdown() {
        let record = ReviewRecord {
            action_items: vec![ActionItem {
                number: 1,
                title: "Add an alert · with a dot".into(),
                owner: "alice".into(),
                priority: ActionPriority::P2,
                due: Some("2026-12-20".into()),
                closed: false,
            }],
            comments: vec![Comment {
                number: 1,
                at: "2026-12-06T09:00:00Z".into(),
                author: "bob".into(),
                text: "Looks right · mostly".into(),
            }],
            history: vec![Change {
                revision: 3,
                at: "2026-12-06T09:01:00Z".into(),
                by: "bob".into(),
                what: "edited Impact".into(),
            }],
        };
        let mut outline = Outline::parse("# T\n\n## Summary\n\nx\n\n## Timeline\n\n- [T1] a\n");
        record.write(&mut outline);
        let markdown = outline.render();
        assert!(markdown.contains(
            "## Tracked action items\n\n- [A1] open · P2 · due 2026-12-20 · owner alice · Add an alert · with a dot\n"
        ));
        assert!(edited_by_people(&markdown));
        assert_eq!(ReviewRecord::read(&Outline::parse(&markdown)), record);
        assert_eq!(record.next_action(), 2);
        assert!(!edited_by_people("# T\n\n## Summary\n"));
    }

    #[test]
    fn fields_are_checked() {
        assert_eq!(due_date("2026-12-20"), Some("2026-12-20".into()));
        assert_eq!(due_date("2026-02-30"), None);
        assert_eq!(due_date("tomorrow"), None);
        assert_eq!(name("a · b\nc"), "a - b c");
        assert_eq!(ActionPriority::parse("p3"), Some(ActionPriority::P3));
        assert_eq!(ActionPriority::parse("P9"), None);
        let outline = Outline::parse("## Tracked action items\n\n- [A1] maybe · P2 · due - · owner a · t\n- junk\n");
        assert!(
            ReviewRecord::read(&outline).action_items.is_empty(),
            "bad lines are skipped"
        );
    }
}
