//! The deterministic narrative: fixed sentences filled in from the timeline only, each fact
//! citing its entries. What logs cannot tell (user impact, what people did) is asked of the
//! reviewer in `>` notes instead of being guessed.

use std::collections::BTreeMap;

use crate::draft::{DraftFuture, DraftInput, Drafter, Narrative, NarrativeSection, SectionKind};
use crate::timeline::{MAX_QUOTE_CHARS, TimelineEntry, quote};
use opsline_events::logs::{Alert, AlertKind};

/// Model name recorded for the deterministic draft.
pub const DETERMINISTIC_MODEL: &str = "none";
/// Prompt (template) id and version recorded for the deterministic draft.
pub const DETERMINISTIC_PROMPT: &str = "postmortem-template@1";
/// Most alerts cited in one sentence.
const MAX_CITED: usize = 6;
/// Most root-cause hypotheses listed.
const MAX_HYPOTHESES: usize = 3;

/// The drafter that needs no model: [`deterministic_narrative`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DeterministicDrafter;

impl Drafter for DeterministicDrafter {
    fn model(&self) -> &str {
        DETERMINISTIC_MODEL
    }
    fn prompt(&self) -> &str {
        DETERMINISTIC_PROMPT
    }
    fn draft<'a>(&'a self, input: DraftInput<'a>) -> DraftFuture<'a> {
        Box::pin(async move { Ok(deterministic_narrative(&input)) })
    }
}

fn cite(entries: &[&TimelineEntry]) -> String {
    let mut out: String = entries.iter().take(MAX_CITED).map(|e| e.citation()).collect();
    if entries.len() > MAX_CITED {
        if let Some(last) = entries.last() {
            out.push_str(&last.citation());
        }
    }
    out
}

fn what(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::NewTemplate => "a log template never seen before appeared",
        AlertKind::RateBurst => "a template's rate burst above its learned baseline",
        AlertKind::ErrorSurge => "error-level lines surged above their baseline",
        AlertKind::Silence => "a normally steady template went silent",
        AlertKind::External => "another monitoring system raised an alert",
    }
}

fn duration_words(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 120 => format!("{s} seconds"),
        s if s < 7_200 => format!("{} minutes", s / 60),
        s => format!("{} hours {} minutes", s / 3_600, (s % 3_600) / 60),
    }
}

/// The deterministic narrative of `input` (see the module docs).
pub fn deterministic_narrative(input: &DraftInput<'_>) -> Narrative {
    let incident = input.incident;
    let timeline = input.timeline;
    let alerts: Vec<(&TimelineEntry, &Alert)> = timeline.alert_entries().collect();
    let alert_entries: Vec<&TimelineEntry> = alerts.iter().map(|(e, _)| *e).collect();
    let opened = timeline.opened();
    let resolved = timeline.resolved();
    let service = quote(&incident.service, 80);
    let mut sections = Vec::with_capacity(SectionKind::ALL.len());
    let mut push = |kind: SectionKind, text: String| sections.push(NarrativeSection { kind, text });

    // Summary.
    let mut summary = Vec::new();
    if let Some(open) = opened {
        summary.push(format!(
            "A {} incident on {service}, \"{}\", opened at {} {}.",
            incident.severity.as_str(),
            quote(&incident.title, MAX_QUOTE_CHARS),
            open.at,
            open.citation()
        ));
    }
    if let (Some(open), Some(end)) = (opened, resolved) {
        summary.push(format!(
            "It was resolved at {}, {} after it opened {}{}.",
            end.at,
            duration_words(end.at.as_second() - open.at.as_second()),
            open.citation(),
            end.citation()
        ));
    }
    if alerts.is_empty() {
        if let Some(open) = opened {
            summary.push(format!(
                "None of its alerts could be read, so the timeline holds only the incident's own events {}.",
                open.citation()
            ));
        }
    } else {
        let mut kinds: Vec<&str> = alerts.iter().map(|(_, a)| a.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        summary.push(format!(
            "Opsline raised {} alert{} ({}) during the incident {}.",
            alerts.len(),
            if alerts.len() == 1 { "" } else { "s" },
            kinds.join(", "),
            cite(&alert_entries)
        ));
    }
    push(SectionKind::Summary, summary.join(" "));

    // Impact.
    let mut impact = Vec::new();
    if !alerts.is_empty() {
        let lines: u64 = alerts.iter().map(|(_, a)| a.count).sum();
        impact.push(format!(
            "{lines} log lines of {service} matched the alerting templates in the alert windows {}.",
            cite(&alert_entries)
        ));
        if let Some((entry, worst)) = alerts.iter().max_by_key(|(_, a)| a.severity) {
            impact.push(format!(
                "The highest alert severity was {} {}.",
                worst.severity.as_str(),
                entry.citation()
            ));
        }
    } else if let Some(open) = opened {
        impact.push(format!(
            "The incident's severity was {} {}.",
            incident.severity.as_str(),
            open.citation()
        ));
    }
    impact.push(
        "> Reviewer: state the impact on users (requests failed, people affected, data lost); logs alone do not show it."
            .to_owned(),
    );
    push(SectionKind::Impact, impact.join("\n"));

    // Root causes, as hypotheses: the templates with the most lines, first seen first.
    let mut by_template: BTreeMap<(String, u64), (u64, Vec<&TimelineEntry>, AlertKind)> = BTreeMap::new();
    for (entry, alert) in &alerts {
        let slot = by_template
            .entry((alert.service.clone(), alert.template_id))
            .or_insert((0, Vec::new(), alert.kind));
        slot.0 += alert.count;
        slot.1.push(entry);
    }
    let mut ranked: Vec<_> = by_template.into_values().collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1[0].number.cmp(&b.1[0].number)));
    let mut causes = Vec::new();
    for (lines, entries, kind) in ranked.iter().take(MAX_HYPOTHESES) {
        if let Some((_, alert)) = alerts.iter().find(|(e, _)| e.number == entries[0].number) {
            causes.push(format!(
                "- Hypothesis: the failure shows in template \"{}\" ({lines} lines; {}) {}.",
                quote(&alert.template, MAX_QUOTE_CHARS),
                what(*kind),
                cite(entries)
            ));
        }
    }
    if causes.is_empty() {
        if let Some(open) = opened {
            causes.push(format!(
                "- Hypothesis: the cause is in the incident title, \"{}\" {}.",
                quote(&incident.title, MAX_QUOTE_CHARS),
                open.citation()
            ));
        }
    }
    causes.push("> Reviewer: confirm or reject each hypothesis; these are not established causes.".to_owned());
    push(SectionKind::RootCauses, causes.join("\n"));

    // Trigger and detection: the first alert.
    let first = alerts.first();
    let trigger = match (first, opened) {
        (Some((entry, alert)), _) => format!(
            "The first sign was {} on {service} in the window starting {}: template \"{}\" {}.",
            alert.kind.as_str(),
            alert.window_start,
            quote(&alert.template, MAX_QUOTE_CHARS),
            entry.citation()
        ),
        (None, Some(open)) => format!("The incident opened at {} {}.", open.at, open.citation()),
        (None, None) => String::new(),
    };
    push(
        SectionKind::Trigger,
        format!("{trigger}\n> Reviewer: name the change or event that set it off, if known."),
    );
    let detection = match (first, opened) {
        (Some((entry, alert)), _) => format!(
            "Opsline log intelligence detected it automatically with a {} {} alert at {} {}.",
            alert.severity.as_str(),
            alert.kind.as_str(),
            entry.at,
            entry.citation()
        ),
        (None, Some(open)) => format!("The incident was opened at {} {}.", open.at, open.citation()),
        (None, None) => String::new(),
    };
    // Why a person was asked to look, and why there is a postmortem (the record's own words).
    let why = match (&incident.attention, opened) {
        (Some(attention), Some(open)) => {
            let postmortem = incident
                .postmortem
                .as_ref()
                .map(|p| format!("; postmortem: {}", quote(&p.reason, MAX_QUOTE_CHARS)))
                .unwrap_or_default();
            format!(
                "\nIt was {} (attention score {} of threshold {}, {}{postmortem}) {}.",
                quote(&attention.why, MAX_QUOTE_CHARS),
                attention.score,
                attention.threshold,
                attention.sev.as_str(),
                open.citation()
            )
        }
        _ => String::new(),
    };
    push(SectionKind::Detection, format!("{detection}{why}"));

    // Resolution.
    let resolution = match resolved {
        Some(end) if incident.resolved_by.as_deref() == Some("quiet-period") => format!(
            "No new alert arrived for the quiet period, so the incident was resolved automatically at {} {}.",
            end.at,
            end.citation()
        ),
        Some(end) => format!(
            "The incident was marked resolved by {} at {} {}.",
            quote(incident.resolved_by.as_deref().unwrap_or("unknown"), 80),
            end.at,
            end.citation()
        ),
        None => opened
            .map(|open| format!("The incident is not resolved yet {}.", open.citation()))
            .unwrap_or_default(),
    };
    push(
        SectionKind::Resolution,
        format!("{resolution}\n> Reviewer: describe what was done to mitigate and fix it."),
    );

    // Action items (advice).
    let mut actions = Vec::new();
    let mut kinds_seen = Vec::new();
    for (entry, alert) in &alerts {
        if !kinds_seen.contains(&alert.kind) {
            kinds_seen.push(alert.kind);
            actions.push(format!(
                "- Check the runbook `runbooks/alert-{}.md` against what happened {}.",
                alert.kind.as_str().replace('_', "-"),
                entry.citation()
            ));
        }
    }
    actions.push("- Confirm or reject the root-cause hypotheses and record the real cause.".to_owned());
    actions.push("- Give every action item an owner, a priority and a tracking ticket.".to_owned());
    push(SectionKind::ActionItems, actions.join("\n"));

    push(
        SectionKind::LessonsLearned,
        "> Reviewer: what went well, what went wrong, where we got lucky.".to_owned(),
    );
    Narrative {
        sections,
        ..Narrative::default()
    }
}
