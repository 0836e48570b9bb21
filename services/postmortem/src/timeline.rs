//! The deterministic timeline of an incident: numbered entries `[T1]`, `[T2]`, ... built only
//! from the incident and its alerts, in time order, each citing the raw-log offsets it rests on.
//!
//! The same incident and alerts always give the same timeline (alerts are ordered by time,
//! then kind, then id), so a replayed incident yields the same postmortem.

use std::collections::BTreeSet;

use jiff::Timestamp;
use opsline_events::logs::{Alert, Incident, LogOffset};
use uuid::Uuid;

/// Most evidence offsets printed per entry (the rest are counted).
pub const MAX_EVIDENCE_PER_ENTRY: usize = 5;
/// Longest template or sample line quoted in an entry, in characters.
pub const MAX_QUOTE_CHARS: usize = 240;

/// What a timeline entry records.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// The incident opened.
    Opened,
    /// One alert of the incident.
    Alert(Box<Alert>),
    /// The incident was resolved.
    Resolved,
}

/// One numbered fact of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// 1-based number: the entry is cited as `[T<number>]`.
    pub number: usize,
    /// When it happened.
    pub at: Timestamp,
    /// What it records.
    pub kind: EntryKind,
    /// The sentence printed after the number and time.
    pub text: String,
    /// The raw-log records cited.
    pub evidence: Vec<LogOffset>,
}

impl TimelineEntry {
    /// `[T<number>]`.
    pub fn citation(&self) -> String {
        format!("[T{}]", self.number)
    }

    /// The entry as one Markdown list item.
    pub fn to_markdown(&self) -> String {
        let mut line = format!("- {} {}  {}", self.citation(), self.at, self.text);
        if !self.evidence.is_empty() {
            let shown: Vec<String> = self
                .evidence
                .iter()
                .take(MAX_EVIDENCE_PER_ENTRY)
                .map(format_offset)
                .collect();
            line.push_str(" (evidence ");
            line.push_str(&shown.join(", "));
            if self.evidence.len() > MAX_EVIDENCE_PER_ENTRY {
                line.push_str(&format!(", +{} more", self.evidence.len() - MAX_EVIDENCE_PER_ENTRY));
            }
            line.push(')');
        }
        line
    }
}

/// The whole timeline of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Entries in time order, numbered from 1.
    pub entries: Vec<TimelineEntry>,
    /// Alert ids of the incident that could not be found (their entries are missing).
    pub missing_alerts: Vec<Uuid>,
}

/// `topic/partition@offset`.
pub fn format_offset(offset: &LogOffset) -> String {
    format!("{}/{}@{}", offset.topic, offset.partition, offset.offset)
}

/// `text` on one line, cut to `max` characters, safe to quote in a draft: backticks become
/// spaces, double quotes single quotes, and square brackets round ones (so a log line's
/// `[Thread-1]` is never read as a citation).
pub fn quote(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| match c {
            '`' => ' ',
            '"' => '\'',
            '[' => '(',
            ']' => ')',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= max {
        flat.to_owned()
    } else {
        let mut cut: String = flat.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

fn alert_text(alert: &Alert) -> String {
    let mut text = format!(
        "alert {} on {} ({}): template \"{}\" {} lines in window {} to {}",
        alert.kind.as_str(),
        quote(&alert.service, 80),
        alert.severity.as_str(),
        quote(&alert.template, MAX_QUOTE_CHARS),
        alert.count,
        alert.window_start,
        alert.window_end,
    );
    if let Some(baseline) = alert.baseline.filter(|b| b.is_finite()) {
        text.push_str(&format!(", baseline {baseline:.1}"));
    }
    if alert.suppressed > 0 {
        text.push_str(&format!(", {} repeats suppressed", alert.suppressed));
    }
    if let Some(sample) = alert.sample_lines.first() {
        text.push_str(&format!("; sample \"{}\"", quote(sample, MAX_QUOTE_CHARS)));
    }
    if let Some(source) = &alert.external {
        text.push_str(&format!(
            "; raised by {} as {}",
            quote(&source.source, 40),
            quote(&source.name, 80)
        ));
        if let Some(url) = source
            .url
            .as_deref()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        {
            text.push_str(&format!(" <{}>", quote(url, 300)));
        }
    }
    text
}

impl Timeline {
    /// Builds the timeline of `incident` from the `alerts` found for it (alerts not listed in
    /// the incident are ignored; duplicates count once).
    pub fn build(incident: &Incident, alerts: &[Alert]) -> Self {
        let wanted: BTreeSet<Uuid> = incident.alert_ids.iter().copied().collect();
        let mut seen = BTreeSet::new();
        let mut own: Vec<&Alert> = alerts
            .iter()
            .filter(|a| wanted.contains(&a.alert_id) && seen.insert(a.alert_id))
            .collect();
        own.sort_by(|a, b| {
            (a.window_end, a.window_start, a.kind.as_str(), a.alert_id).cmp(&(
                b.window_end,
                b.window_start,
                b.kind.as_str(),
                b.alert_id,
            ))
        });
        let missing_alerts = incident
            .alert_ids
            .iter()
            .copied()
            .filter(|id| !seen.contains(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();

        let cited: BTreeSet<(String, i32, i64)> = own
            .iter()
            .flat_map(|a| a.evidence.iter())
            .map(|o| (o.topic.clone(), o.partition, o.offset))
            .collect();
        let uncited_incident_evidence: Vec<LogOffset> = incident
            .evidence
            .iter()
            .filter(|o| !cited.contains(&(o.topic.clone(), o.partition, o.offset)))
            .cloned()
            .collect();

        // (time, rank) orders entries; rank keeps "opened" first and "resolved" last at equal times.
        let mut staged: Vec<(Timestamp, u8, TimelineEntry)> = Vec::with_capacity(own.len() + 2);
        staged.push((
            incident.opened_at,
            0,
            TimelineEntry {
                number: 0,
                at: incident.opened_at,
                kind: EntryKind::Opened,
                text: format!(
                    "incident opened on {} ({}): \"{}\"",
                    quote(&incident.service, 80),
                    incident.severity.as_str(),
                    quote(&incident.title, MAX_QUOTE_CHARS)
                ),
                evidence: uncited_incident_evidence,
            },
        ));
        for alert in own {
            staged.push((
                alert.window_end,
                1,
                TimelineEntry {
                    number: 0,
                    at: alert.window_end,
                    kind: EntryKind::Alert(Box::new(alert.clone())),
                    text: alert_text(alert),
                    evidence: alert.evidence.clone(),
                },
            ));
        }
        if let Some(resolved_at) = incident.resolved_at {
            let by = incident.resolved_by.as_deref().unwrap_or("unknown");
            staged.push((
                resolved_at,
                2,
                TimelineEntry {
                    number: 0,
                    at: resolved_at,
                    kind: EntryKind::Resolved,
                    text: format!("incident resolved by {}", quote(by, 80)),
                    evidence: Vec::new(),
                },
            ));
        }
        // A stable sort keeps the alert order chosen above among equal keys.
        staged.sort_by_key(|(at, rank, _)| (*at, *rank));
        let entries = staged
            .into_iter()
            .enumerate()
            .map(|(i, (_, _, mut entry))| {
                entry.number = i + 1;
                entry
            })
            .collect();
        Self {
            entries,
            missing_alerts,
        }
    }

    /// The entry cited as `[T<number>]`.
    pub fn entry(&self, number: usize) -> Option<&TimelineEntry> {
        number.checked_sub(1).and_then(|i| self.entries.get(i))
    }

    /// The alert entries, in time order.
    pub fn alert_entries(&self) -> impl Iterator<Item = (&TimelineEntry, &Alert)> {
        self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::Alert(alert) => Some((e, alert.as_ref())),
            _ => None,
        })
    }

    /// The "opened" entry.
    pub fn opened(&self) -> Option<&TimelineEntry> {
        self.entries.iter().find(|e| e.kind == EntryKind::Opened)
    }

    /// The "resolved" entry, if the incident is resolved.
    pub fn resolved(&self) -> Option<&TimelineEntry> {
        self.entries.iter().find(|e| e.kind == EntryKind::Resolved)
    }

    /// The timeline as Markdown list items, one per line.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            out.push_str(&entry.to_markdown());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opsline_events::Event;
    use opsline_events::logs::{AlertKind, IncidentStatus, Severity};

    pub(crate) fn ts(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    /// An incident with two alerts (second one listed first) and one missing alert id.
    pub(crate) fn fixture() -> (Incident, Vec<Alert>) {
        let mut first = Alert::sample();
        first.alert_id = Uuid::from_u128(1);
        first.window_start = ts(1_000);
        first.window_end = ts(1_060);
        let mut second = Alert::sample();
        second.alert_id = Uuid::from_u128(2);
        second.kind = AlertKind::RateBurst;
        second.severity = Severity::Warning;
        second.template = "PacketResponder <*> for block <*> terminating".into();
        second.count = 12;
        second.window_start = ts(1_060);
        second.window_end = ts(1_120);
        second.evidence = vec![LogOffset {
            topic: "opsline.logs.raw.v1".into(),
            partition: 1,
            offset: 7,
        }];
        let mut incident = Incident::sample();
        incident.opened_at = ts(1_060);
        incident.updated_at = ts(1_120);
        incident.resolved_at = Some(ts(1_500));
        incident.status = IncidentStatus::Resolved;
        incident.alert_ids = vec![Uuid::from_u128(2), Uuid::from_u128(1), Uuid::from_u128(3)];
        (incident, vec![second, first])
    }

    #[test]
    fn entries_are_ordered_numbered_and_cite_offsets() {
        let (incident, alerts) = fixture();
        let timeline = Timeline::build(&incident, &alerts);
        let numbers: Vec<usize> = timeline.entries.iter().map(|e| e.number).collect();
        assert_eq!(numbers, vec![1, 2, 3, 4]);
        assert_eq!(timeline.missing_alerts, vec![Uuid::from_u128(3)]);
        let markdown = timeline.to_markdown();
        let lines: Vec<&str> = markdown.lines().collect();
        assert!(
            lines[0].contains("[T1]") && lines[0].contains("incident opened"),
            "{markdown}"
        );
        assert!(
            lines[1].contains("[T2]") && lines[1].contains("alert error_surge"),
            "{markdown}"
        );
        assert!(lines[1].contains("evidence opsline.logs.raw.v1/2@88412"), "{markdown}");
        assert!(lines[2].contains("alert rate_burst") && lines[2].contains("opsline.logs.raw.v1/1@7"));
        assert!(lines[3].contains("resolved by quiet-period"));
    }

    #[test]
    fn same_input_in_any_order_gives_the_same_timeline() {
        let (incident, mut alerts) = fixture();
        let one = Timeline::build(&incident, &alerts).to_markdown();
        alerts.reverse();
        alerts.push(alerts[0].clone());
        assert_eq!(Timeline::build(&incident, &alerts).to_markdown(), one);
    }

    #[test]
    fn an_external_alert_names_its_source_with_a_link_back() {
        let (_, alerts) = fixture();
        let mut alert = alerts[0].clone();
        alert.kind = opsline_events::logs::AlertKind::External;
        alert.external = Some(opsline_events::logs::ExternalSource {
            source: "alertmanager".into(),
            name: "DiskFull".into(),
            fingerprint: "ab12".into(),
            url: Some("http://prometheus:9090/graph?g0.expr=disk".into()),
        });
        let text = alert_text(&alert);
        assert!(text.contains("alert external on"), "{text}");
        assert!(
            text.contains("raised by alertmanager as DiskFull <http://prometheus:9090/graph?g0.expr=disk>"),
            "{text}"
        );
        alert.external.as_mut().unwrap().url = Some("javascript:alert(1)".into());
        assert!(!alert_text(&alert).contains("javascript"), "only http(s) links");
    }

    #[test]
    fn quotes_are_single_line_and_bounded() {
        assert_eq!(quote("a\nb`c", 10), "a b c");
        assert_eq!(quote("[Thread-1] \"x\"", 20), "(Thread-1) 'x'");
        assert_eq!(quote(&"x".repeat(300), 5).chars().count(), 6);
    }
}
