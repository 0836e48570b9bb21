//! The postmortem Markdown as parts: the header (before the first `## ` heading) and the
//! `## ` sections in order, losslessly ([`Outline::render`] gives back the same text), so one
//! section can be replaced without touching the others.
//!
//! The editable sections are the narrative ones ([`SectionKind::ALL`]); the timeline and the
//! supporting information are facts the drafter wrote and stay as they are. Reviewer prompts
//! are the `> Reviewer:` lines of the editable sections.

use sha2::{Digest, Sha256};

use crate::draft::SectionKind;

/// What starts a reviewer prompt line.
pub const PROMPT_PREFIX: &str = "> Reviewer:";

/// One `## ` section: its heading (without `## `) and everything after the heading line up to
/// the next heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading text.
    pub heading: String,
    /// The lines after the heading line, as written.
    pub body: String,
}

/// A postmortem document split at its `## ` headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// Everything before the first `## ` heading (title, marker, facts).
    pub header: String,
    /// The sections in document order.
    pub sections: Vec<Section>,
}

/// An unanswered reviewer prompt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenPrompt {
    /// Stable id: the first 12 hex digits of the SHA-256 of the section and the prompt text.
    pub id: String,
    /// The section's slug (`impact`).
    pub section: String,
    /// The section's heading (`Impact`).
    pub heading: String,
    /// The prompt, without `> Reviewer:`.
    pub text: String,
}

/// The URL slug of a section (`Root causes` -> `root-causes`).
pub fn slug(kind: SectionKind) -> String {
    kind.heading().to_ascii_lowercase().replace(' ', "-")
}

/// The editable section whose slug or heading is `name` (case-insensitive).
pub fn section_kind(name: &str) -> Option<SectionKind> {
    SectionKind::ALL
        .into_iter()
        .find(|k| slug(*k).eq_ignore_ascii_case(name) || k.heading().eq_ignore_ascii_case(name))
}

impl Outline {
    /// Splits `markdown` at its `## ` heading lines.
    pub fn parse(markdown: &str) -> Self {
        let mut header = String::new();
        let mut sections: Vec<Section> = Vec::new();
        for line in markdown.split_inclusive('\n') {
            if let Some(heading) = line.strip_prefix("## ") {
                sections.push(Section {
                    heading: heading.trim_end().to_owned(),
                    body: String::new(),
                });
            } else if let Some(last) = sections.last_mut() {
                last.body.push_str(line);
            } else {
                header.push_str(line);
            }
        }
        Self { header, sections }
    }

    /// The document as Markdown again.
    pub fn render(&self) -> String {
        let mut out = self.header.clone();
        for section in &self.sections {
            out.push_str("## ");
            out.push_str(&section.heading);
            out.push('\n');
            out.push_str(&section.body);
        }
        out
    }

    /// The section headed `heading`.
    pub fn section(&self, heading: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.heading == heading)
    }

    /// The text of section `heading` (trimmed), if there is one.
    pub fn text(&self, heading: &str) -> Option<&str> {
        self.section(heading).map(|s| s.body.trim())
    }

    /// Sets the text of section `heading` (added before `before`, or at the end, when missing).
    pub fn set_text(&mut self, heading: &str, text: &str, before: Option<&str>) {
        let body = format!("\n{}\n\n", text.trim());
        if let Some(section) = self.sections.iter_mut().find(|s| s.heading == heading) {
            section.body = body;
            return;
        }
        let at = before
            .and_then(|b| self.sections.iter().position(|s| s.heading == b))
            .unwrap_or(self.sections.len());
        if at == self.sections.len() {
            if let Some(last) = self.sections.last_mut() {
                if !last.body.ends_with("\n\n") {
                    last.body.push('\n');
                }
            }
        }
        self.sections.insert(
            at,
            Section {
                heading: heading.to_owned(),
                body,
            },
        );
    }

    /// The unanswered reviewer prompts of the editable sections, in document order.
    pub fn open_prompts(&self) -> Vec<OpenPrompt> {
        let mut out = Vec::new();
        for kind in SectionKind::ALL {
            let Some(section) = self.section(kind.heading()) else {
                continue;
            };
            for line in section.body.lines() {
                if let Some(text) = line.trim_start().strip_prefix(PROMPT_PREFIX) {
                    out.push(OpenPrompt {
                        id: prompt_id(kind.heading(), text.trim()),
                        section: slug(kind),
                        heading: kind.heading().to_owned(),
                        text: text.trim().to_owned(),
                    });
                }
            }
        }
        out
    }

    /// Replaces the line of prompt `id` with `replacement` (lines); false when no open prompt
    /// has that id.
    pub fn replace_prompt(&mut self, id: &str, replacement: &str) -> Option<OpenPrompt> {
        let prompt = self.open_prompts().into_iter().find(|p| p.id == id)?;
        let section = self.sections.iter_mut().find(|s| s.heading == prompt.heading)?;
        let mut body = String::with_capacity(section.body.len() + replacement.len());
        let mut done = false;
        for line in section.body.split_inclusive('\n') {
            let is_it = line
                .trim_start()
                .strip_prefix(PROMPT_PREFIX)
                .is_some_and(|t| t.trim() == prompt.text);
            if is_it && !done {
                body.push_str(replacement.trim_end());
                body.push('\n');
                done = true;
            } else {
                body.push_str(line);
            }
        }
        section.body = body;
        Some(prompt)
    }
}

/// The id of a prompt: 12 hex digits of SHA-256 over the heading and the text.
pub fn prompt_id(heading: &str, text: &str) -> String {
    let digest = Sha256::digest(format!("{heading}\n{text}").as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Section text a person wrote, made safe for the document: control characters dropped,
/// `#` and `##` headings turned into `###` (they would split the document), `> Reviewer:`
/// lines kept (a person may leave or add a prompt), at most `max` characters.
pub fn clean_block(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for line in text.lines() {
        let line: String = line.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=2).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            out.push_str("### ");
            out.push_str(trimmed[hashes..].trim_start());
        } else {
            out.push_str(line.trim_end());
        }
        out.push('\n');
    }
    let out: String = out.chars().take(max).collect();
    out.trim().to_owned()
}

/// One line of text a person wrote (comments, action items, reasons): whitespace runs and
/// line breaks become one space, control characters are dropped, at most `max` characters.
pub fn clean_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Postmortem: x\n\n_Draft, needs review._\n\n- **Status:** draft\n\n## Summary\n\nIt broke [T1].\n\n\
## Impact\n\n12 lines [T2].\n> Reviewer: state the impact on users.\n\n## Lessons learned\n\n> Reviewer: what went well.\n\n\
## Timeline\n\n- [T1] a\n- [T2] b\n";

    #[test]
    fn parse_and_render_are_lossless() {
        let outline = Outline::parse(DOC);
        assert_eq!(outline.render(), DOC);
        assert_eq!(outline.sections.len(), 4);
        assert_eq!(
            outline.text("Impact"),
            Some("12 lines [T2].\n> Reviewer: state the impact on users.")
        );
    }

    #[test]
    fn prompts_are_found_answered_and_stable() {
        let mut outline = Outline::parse(DOC);
        let prompts = outline.open_prompts();
        assert_eq!(prompts.len(), 2);
        assert_eq!(prompts[0].section, "impact");
        assert_eq!(prompts[0].text, "state the impact on users.");
        assert_eq!(Outline::parse(DOC).open_prompts()[0].id, prompts[0].id, "stable ids");
        assert_ne!(prompts[0].id, prompts[1].id);
        assert!(outline.replace_prompt(&prompts[0].id, "No user saw it.").is_some());
        assert!(
            outline.replace_prompt(&prompts[0].id, "again").is_none(),
            "answered once"
        );
        assert_eq!(outline.open_prompts().len(), 1);
        assert!(
            outline
                .render()
                .contains("12 lines [T2].\nNo user saw it.\n\n## Lessons learned")
        );
        // A prompt in the timeline is not a reviewer prompt.
        let other = Outline::parse("## Timeline\n\n> Reviewer: not here\n");
        assert!(other.open_prompts().is_empty());
    }

    #[test]
    fn set_text_replaces_or_inserts() {
        let mut outline = Outline::parse(DOC);
        outline.set_text("Summary", "  New summary [T1].  ", None);
        assert_eq!(outline.text("Summary"), Some("New summary [T1]."));
        assert_eq!(
            outline.text("Impact"),
            Some("12 lines [T2].\n> Reviewer: state the impact on users.")
        );
        outline.set_text("Comments", "- [C1] x", None);
        assert!(outline.render().ends_with("- [T2] b\n\n## Comments\n\n- [C1] x\n\n"));
        outline.set_text("Trigger", "t", Some("Lessons learned"));
        let order: Vec<&str> = outline.sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(
            order,
            [
                "Summary",
                "Impact",
                "Trigger",
                "Lessons learned",
                "Timeline",
                "Comments"
            ]
        );
    }

    #[test]
    fn people_cannot_split_the_document() {
        assert_eq!(
            clean_block("## Timeline\n# x\n### ok\nplain\u{7}", 100),
            "### Timeline\n### x\n### ok\nplain"
        );
        assert_eq!(clean_block("abcdef", 3), "abc");
        assert_eq!(clean_line("  a\n b\tc \u{1b} ", 100), "a b c");
        assert_eq!(section_kind("root-causes"), Some(SectionKind::RootCauses));
        assert_eq!(section_kind("Lessons learned"), Some(SectionKind::LessonsLearned));
        assert_eq!(section_kind("timeline"), None);
    }
}
