//! The postmortem document as Markdown: title, review marker, facts table, the narrative
//! sections in template order, the timeline and the supporting information (alert ids and
//! every raw-log offset cited).
//!
//! The review marker and the status line are rewritten by [`restatus`] when the document is
//! reviewed or published, so the Markdown always says where it is in the workflow.

use opsline_events::logs::Incident;
use opsline_events::ops::PostmortemStatus;
use uuid::Uuid;

use crate::draft::{Narrative, SectionKind};
use crate::timeline::{MAX_QUOTE_CHARS, Timeline, format_offset, quote};

/// Marker line of a draft.
pub const DRAFT_MARKER: &str = "_Draft, needs review._";
const STATUS_PREFIX: &str = "- **Status:** ";

/// Everything [`render`] needs.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    /// The postmortem id.
    pub postmortem_id: Uuid,
    /// The incident.
    pub incident: &'a Incident,
    /// Its timeline.
    pub timeline: &'a Timeline,
    /// The checked narrative.
    pub narrative: &'a Narrative,
    /// Model that wrote the narrative.
    pub model: &'a str,
    /// Prompt id and version.
    pub prompt: &'a str,
}

/// The status word used in the Markdown.
pub fn status_name(status: PostmortemStatus) -> &'static str {
    match status {
        PostmortemStatus::Draft => "draft",
        PostmortemStatus::Reviewed => "reviewed",
        PostmortemStatus::Published => "published",
    }
}

fn marker(status: PostmortemStatus, reviewer: Option<&str>) -> String {
    let reviewer = quote(reviewer.unwrap_or("unknown"), 80);
    match status {
        PostmortemStatus::Draft => DRAFT_MARKER.to_owned(),
        PostmortemStatus::Reviewed => format!("_Reviewed by {reviewer}, not yet published._"),
        PostmortemStatus::Published => format!("_Published, reviewed by {reviewer}._"),
    }
}

/// The whole document (status draft).
pub fn render(doc: &Document<'_>) -> String {
    let incident = doc.incident;
    let mut out = String::new();
    out.push_str(&format!(
        "# Postmortem: {}\n\n",
        quote(&incident.title, MAX_QUOTE_CHARS)
    ));
    out.push_str(DRAFT_MARKER);
    out.push_str("\n\n");
    out.push_str(&format!("- **Postmortem:** {}\n", doc.postmortem_id));
    out.push_str(&format!("- **Incident:** {}\n", incident.incident_id));
    out.push_str(&format!("- **Service:** {}\n", quote(&incident.service, 80)));
    out.push_str(&format!("- **Severity:** {}\n", incident.severity.as_str()));
    match incident.resolved_at {
        Some(end) => out.push_str(&format!("- **Date:** {} to {}\n", incident.opened_at, end)),
        None => out.push_str(&format!("- **Date:** from {}\n", incident.opened_at)),
    }
    out.push_str(&format!("{STATUS_PREFIX}{}\n", status_name(PostmortemStatus::Draft)));
    out.push_str(&format!(
        "- **Drafted by:** model `{}`, prompt `{}`\n",
        quote(doc.model, 80),
        quote(doc.prompt, 80)
    ));
    if let Some(team) = &incident.restricted_team {
        out.push_str(&format!("- **Restricted to team:** {}\n", quote(team, 80)));
    }
    for kind in SectionKind::ALL {
        out.push_str(&format!("\n## {}\n\n", kind.heading()));
        match doc.narrative.section(kind) {
            Some(text) if !text.trim().is_empty() => {
                out.push_str(text.trim_end());
                out.push('\n');
            }
            _ => out.push_str("> Reviewer: to be written.\n"),
        }
    }
    out.push_str("\n## Timeline\n\n");
    out.push_str(&doc.timeline.to_markdown());
    out.push_str("\n## Supporting information\n\n");
    let alert_ids: Vec<String> = incident.alert_ids.iter().map(Uuid::to_string).collect();
    out.push_str(&format!("- **Alerts:** {}\n", alert_ids.join(", ")));
    if !doc.timeline.missing_alerts.is_empty() {
        let missing: Vec<String> = doc.timeline.missing_alerts.iter().map(Uuid::to_string).collect();
        out.push_str(&format!(
            "- **Alerts not found (not in the timeline):** {}\n",
            missing.join(", ")
        ));
    }
    let mut evidence: Vec<String> = doc
        .timeline
        .entries
        .iter()
        .flat_map(|e| e.evidence.iter())
        .chain(incident.evidence.iter())
        .map(format_offset)
        .collect();
    evidence.sort();
    evidence.dedup();
    if !evidence.is_empty() {
        out.push_str(&format!("- **Raw-log evidence:** {}\n", evidence.join(", ")));
    }
    out
}

/// `markdown` with its review marker and status line set to `status` (and `reviewer`).
/// Only the header (before the first `## ` heading) is touched.
pub fn restatus(markdown: &str, status: PostmortemStatus, reviewer: Option<&str>) -> String {
    let mut out = String::with_capacity(markdown.len() + 64);
    let mut in_header = true;
    for line in markdown.split_inclusive('\n') {
        if line.starts_with("## ") {
            in_header = false;
        }
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_marker = bare == DRAFT_MARKER || bare.starts_with("_Reviewed by ") || bare.starts_with("_Published, ");
        if in_header && is_marker {
            out.push_str(&marker(status, reviewer));
            out.push('\n');
        } else if in_header && bare.starts_with(STATUS_PREFIX) {
            out.push_str(STATUS_PREFIX);
            out.push_str(status_name(status));
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restatus_rewrites_only_the_header() {
        let md = "# T\n\n_Draft, needs review._\n\n- **Status:** draft\n\n## Summary\n\n_Draft, needs review._\n";
        let reviewed = restatus(md, PostmortemStatus::Reviewed, Some("alice"));
        assert!(reviewed.contains("_Reviewed by alice, not yet published._\n\n- **Status:** reviewed\n"));
        assert!(reviewed.ends_with("## Summary\n\n_Draft, needs review._\n"));
        let published = restatus(&reviewed, PostmortemStatus::Published, Some("bob"));
        assert!(published.contains("_Published, reviewed by bob._"));
        assert!(published.contains("- **Status:** published"));
    }
}
