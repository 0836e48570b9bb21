//! Review of a postmortem by people: section edits, answers to and waivers of the reviewer
//! prompts, comments and tracked action items. Each is an [`Edit`] that [`apply`] turns into
//! the next revision of the document, with a line in its revision history (who, when, what).
//!
//! Everything is kept in the Markdown document ([`document`] splits it into sections,
//! [`record`] reads and writes the review sections), which is published as a new revision on
//! the compacted postmortems topic like every other revision: the topic stays the one store.
//!
//! Rules: sections and prompts change only while the postmortem is a draft (a reviewed one is
//! frozen until published); comments and action items may be added at any status. Who may do
//! what is [`Edit::allowed`].

pub mod document;
pub mod record;

use jiff::Timestamp;
use opsline_auth::Principal;
use opsline_events::ops::{Postmortem, PostmortemStatus};

use crate::draft::SectionKind;
use crate::error::PostmortemError;
use document::{Outline, clean_block, clean_line};
use record::{ActionItem, ActionPriority, Change, Comment, ReviewRecord, due_date, name};

/// Most characters of a section.
pub const MAX_SECTION_CHARS: usize = 20_000;
/// Most characters of a comment, an answer's line or a reason.
pub const MAX_LINE_CHARS: usize = 2_000;
/// Most characters of an action item's title.
pub const MAX_TITLE_CHARS: usize = 300;

/// Changes to an action item (absent fields stay as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionUpdate {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// New priority (`P1`..`P4`).
    #[serde(default)]
    pub priority: Option<String>,
    /// New due date (`YYYY-MM-DD`; empty clears it).
    #[serde(default)]
    pub due: Option<String>,
    /// `open` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
}

/// One change a person makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace the text of a narrative section.
    Section {
        /// Which section.
        kind: SectionKind,
        /// Its new Markdown.
        text: String,
    },
    /// Replace a reviewer prompt with its answer.
    Answer {
        /// The prompt's id.
        prompt: String,
        /// The answer (Markdown).
        answer: String,
    },
    /// Waive a reviewer prompt, with the reason.
    Waive {
        /// The prompt's id.
        prompt: String,
        /// Why it needs no answer.
        reason: String,
    },
    /// Add a comment.
    Comment {
        /// The comment.
        text: String,
    },
    /// Add a tracked action item.
    AddAction {
        /// What to do.
        title: String,
        /// Who does it.
        owner: String,
        /// `P1`..`P4`.
        priority: String,
        /// `YYYY-MM-DD` or empty.
        due: String,
    },
    /// Change or close an action item.
    UpdateAction {
        /// Its number (`1` for `A1`).
        number: u32,
        /// What changes.
        update: ActionUpdate,
    },
}

impl Edit {
    /// Whether `who` may make this change: comments need an SRE or helpdesk token, every
    /// other change an SRE's (viewers change nothing).
    pub fn allowed(&self, who: &Principal) -> Result<(), PostmortemError> {
        let ok = match self {
            Self::Comment { .. } => who.may_comment(),
            _ => who.may_review(),
        };
        if ok {
            Ok(())
        } else {
            Err(PostmortemError::Forbidden(format!(
                "role {} may not {}",
                who.role_name(),
                self.verb()
            )))
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Self::Section { .. } => "edit sections",
            Self::Answer { .. } | Self::Waive { .. } => "answer or waive reviewer prompts",
            Self::Comment { .. } => "comment",
            Self::AddAction { .. } | Self::UpdateAction { .. } => "change action items",
        }
    }

    fn needs_draft(&self) -> bool {
        matches!(self, Self::Section { .. } | Self::Answer { .. } | Self::Waive { .. })
    }
}

/// `at` as written in the record: RFC 3339 in UTC, whole seconds.
pub fn stamp(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn bad(message: impl Into<String>) -> PostmortemError {
    PostmortemError::BadRequest(message.into())
}

fn required(text: String, what: &str) -> Result<String, PostmortemError> {
    if text.is_empty() {
        Err(bad(format!("{what} is empty")))
    } else {
        Ok(text)
    }
}

fn priority(text: &str) -> Result<ActionPriority, PostmortemError> {
    ActionPriority::parse(text).ok_or_else(|| bad(format!("priority {text:?} is not one of P1, P2, P3, P4")))
}

fn due(text: &str) -> Result<Option<String>, PostmortemError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    due_date(text)
        .map(Some)
        .ok_or_else(|| bad(format!("due date {text:?} is not a date like 2026-12-31")))
}

/// The next revision of `current` after `who` made `edit` at `at`, or why not.
pub fn apply(current: &Postmortem, who: &Principal, edit: Edit, at: Timestamp) -> Result<Postmortem, PostmortemError> {
    edit.allowed(who)?;
    if edit.needs_draft() && current.status != PostmortemStatus::Draft {
        return Err(PostmortemError::Conflict(format!(
            "the postmortem is {}: its sections and prompts change only while it is a draft",
            crate::draft::markdown::status_name(current.status)
        )));
    }
    let mut outline = Outline::parse(&current.markdown);
    let mut record = ReviewRecord::read(&outline);
    let by = name(&who.name);
    let when = stamp(at);
    let what = match edit {
        Edit::Section { kind, text } => {
            let text = clean_block(&text, MAX_SECTION_CHARS);
            let text = if text.is_empty() {
                format!("{} to be written.", document::PROMPT_PREFIX)
            } else {
                text
            };
            if outline.text(kind.heading()) == Some(text.as_str()) {
                return Err(bad(format!("{} is unchanged", kind.heading())));
            }
            outline.set_text(kind.heading(), &text, Some("Timeline"));
            format!("edited {}", kind.heading())
        }
        Edit::Answer { prompt, answer } => {
            let answer = required(clean_block(&answer, MAX_LINE_CHARS), "the answer")?;
            let answered = outline
                .replace_prompt(&prompt, &answer)
                .ok_or_else(|| PostmortemError::NotFound(format!("open reviewer prompt {prompt}")))?;
            format!("answered a prompt in {}: {}", answered.heading, answered.text)
        }
        Edit::Waive { prompt, reason } => {
            let reason = required(clean_line(&reason, MAX_LINE_CHARS), "the reason for the waiver")?;
            let text = outline
                .open_prompts()
                .into_iter()
                .find(|p| p.id == prompt)
                .map(|p| p.text)
                .unwrap_or_default();
            let note = format!("> Waived by {by} ({when}): {reason} (prompt: {text})");
            let waived = outline
                .replace_prompt(&prompt, &note)
                .ok_or_else(|| PostmortemError::NotFound(format!("open reviewer prompt {prompt}")))?;
            format!("waived a prompt in {}: {reason}", waived.heading)
        }
        Edit::Comment { text } => {
            let text = required(clean_line(&text, MAX_LINE_CHARS), "the comment")?;
            let number = record.next_comment();
            record.comments.push(Comment {
                number,
                at: when.clone(),
                author: by.clone(),
                text,
            });
            format!("added comment C{number}")
        }
        Edit::AddAction {
            title,
            owner,
            priority: level,
            due: date,
        } => {
            let number = record.next_action();
            record.action_items.push(ActionItem {
                number,
                title: required(clean_line(&title, MAX_TITLE_CHARS), "the action item")?,
                owner: required(name(&owner), "the owner")?,
                priority: priority(&level)?,
                due: due(&date)?,
                closed: false,
            });
            format!("added action item A{number}")
        }
        Edit::UpdateAction { number, update } => {
            let item = record
                .action_items
                .iter_mut()
                .find(|a| a.number == number)
                .ok_or_else(|| PostmortemError::NotFound(format!("action item A{number}")))?;
            let before = item.clone();
            if let Some(title) = update.title {
                item.title = required(clean_line(&title, MAX_TITLE_CHARS), "the action item")?;
            }
            if let Some(owner) = update.owner {
                item.owner = required(name(&owner), "the owner")?;
            }
            if let Some(level) = update.priority {
                item.priority = priority(&level)?;
            }
            if let Some(date) = update.due {
                item.due = due(&date)?;
            }
            if let Some(status) = update.status {
                item.closed = match status.trim() {
                    "open" => false,
                    "closed" => true,
                    other => return Err(bad(format!("status {other:?} is not open or closed"))),
                };
            }
            if *item == before {
                return Err(bad(format!("action item A{number} is unchanged")));
            }
            match (before.closed, item.closed) {
                (false, true) => format!("closed action item A{number}"),
                (true, false) => format!("reopened action item A{number}"),
                _ => format!("edited action item A{number}"),
            }
        }
    };
    let mut next = current.clone();
    next.revision = current.revision.saturating_add(1);
    record.history.push(Change {
        revision: next.revision,
        at: when,
        by,
        what: clean_line(&what, MAX_LINE_CHARS),
    });
    record.write(&mut outline);
    next.markdown = outline.render();
    Ok(next)
}

/// Records a status change (`marked reviewed`, `published`) made by `who` in the history of
/// `next` (already at its new revision).
pub fn record_transition(next: &mut Postmortem, who: &Principal, what: &str, at: Timestamp) {
    let mut outline = Outline::parse(&next.markdown);
    let mut record = ReviewRecord::read(&outline);
    record.history.push(Change {
        revision: next.revision,
        at: stamp(at),
        by: name(&who.name),
        what: what.to_owned(),
    });
    record.write(&mut outline);
    next.markdown = outline.render();
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsline_search::{Role, Viewer};

    fn who(role: Role) -> Principal {
        Principal {
            name: "alice".into(),
            viewer: Viewer::new(role, Vec::<String>::new()),
        }
    }

    fn draft() -> Postmortem {
        let mut pm = <Postmortem as opsline_events::Event>::sample();
        pm.markdown = "# Postmortem: x\n\n_Draft, needs review._\n\n## Summary\n\nIt broke [T1].\n\n## Impact\n\n\
> Reviewer: state the impact.\n\n## Lessons learned\n\n> Reviewer: what went well.\n\n## Timeline\n\n- [T1] a\n"
            .into();
        pm
    }

    fn at() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    #[test]
    fn edits_make_revisions_with_history() {
        let sre = who(Role::Sre);
        let one = draft();
        let two = apply(
            &one,
            &sre,
            Edit::Section {
                kind: SectionKind::Summary,
                text: "It broke badly [T1].\n## sneaky".into(),
            },
            at(),
        )
        .unwrap();
        assert_eq!(two.revision, one.revision + 1);
        assert!(
            two.markdown.contains("It broke badly [T1].\n### sneaky"),
            "{}",
            two.markdown
        );
        let prompts = Outline::parse(&two.markdown).open_prompts();
        let three = apply(
            &two,
            &sre,
            Edit::Waive {
                prompt: prompts[1].id.clone(),
                reason: "nothing to learn".into(),
            },
            at(),
        )
        .unwrap();
        let four = apply(
            &three,
            &sre,
            Edit::Answer {
                prompt: prompts[0].id.clone(),
                answer: "No user noticed.".into(),
            },
            at(),
        )
        .unwrap();
        assert!(Outline::parse(&four.markdown).open_prompts().is_empty());
        assert!(
            four.markdown
                .contains("> Waived by alice (2027-01-15T08:00:00Z): nothing to learn (prompt: what went well.)")
        );
        let five = apply(
            &four,
            &sre,
            Edit::AddAction {
                title: "Alert on receiveBlock".into(),
                owner: "bob".into(),
                priority: "P2".into(),
                due: "2027-02-01".into(),
            },
            at(),
        )
        .unwrap();
        let six = apply(
            &five,
            &sre,
            Edit::UpdateAction {
                number: 1,
                update: ActionUpdate {
                    status: Some("closed".into()),
                    ..ActionUpdate::default()
                },
            },
            at(),
        )
        .unwrap();
        let record = ReviewRecord::read(&Outline::parse(&six.markdown));
        assert!(record.action_items[0].closed);
        let whats: Vec<&str> = record.history.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "edited Summary",
                "waived a prompt in Lessons learned: nothing to learn",
                "answered a prompt in Impact: state the impact.",
                "added action item A1",
                "closed action item A1"
            ]
        );
        assert_eq!(record.history.last().unwrap().revision, six.revision);
        assert!(record::edited_by_people(&six.markdown));
    }

    #[test]
    fn roles_status_and_input_are_checked() {
        let one = draft();
        let comment = || Edit::Comment { text: "hm".into() };
        assert!(matches!(
            apply(&one, &who(Role::Viewer), comment(), at()),
            Err(PostmortemError::Forbidden(_))
        ));
        assert!(apply(&one, &who(Role::Helpdesk), comment(), at()).is_ok());
        let edit = Edit::Section {
            kind: SectionKind::Impact,
            text: "x".into(),
        };
        assert!(matches!(
            apply(&one, &who(Role::Helpdesk), edit.clone(), at()),
            Err(PostmortemError::Forbidden(_))
        ));
        let mut reviewed = one.clone();
        reviewed.status = PostmortemStatus::Reviewed;
        assert!(matches!(
            apply(&reviewed, &who(Role::Sre), edit, at()),
            Err(PostmortemError::Conflict(_))
        ));
        assert!(
            apply(&reviewed, &who(Role::Sre), comment(), at()).is_ok(),
            "comments at any status"
        );
        let bad_action = |priority: &str, due: &str| Edit::AddAction {
            title: "t".into(),
            owner: "o".into(),
            priority: priority.into(),
            due: due.into(),
        };
        assert!(matches!(
            apply(&one, &who(Role::Sre), bad_action("P7", ""), at()),
            Err(PostmortemError::BadRequest(_))
        ));
        assert!(matches!(
            apply(&one, &who(Role::Sre), bad_action("P1", "2027-13-01"), at()),
            Err(PostmortemError::BadRequest(_))
        ));
        assert!(matches!(
            apply(
                &one,
                &who(Role::Sre),
                Edit::Answer {
                    prompt: "nope".into(),
                    answer: "a".into()
                },
                at()
            ),
            Err(PostmortemError::NotFound(_))
        ));
        assert!(matches!(
            apply(&one, &who(Role::Sre), Edit::Comment { text: "  \n ".into() }, at()),
            Err(PostmortemError::BadRequest(_))
        ));
    }
}
