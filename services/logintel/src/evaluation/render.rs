//! The text form of an [`IncidentEval`].

use std::fmt::Write as _;

use opsline_events::logs::Incident;

use super::{IncidentEval, SystemReport};

/// Incidents listed per system in the text report.
const LISTED: usize = 8;

impl IncidentEval {
    /// A table per system and the total, then each system's incidents (the first few).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<11} {:>6} {:>6} {:>9} {:>11} {:>9} {:>10}",
            "system", "lines", "alerts", "incidents", "postmortems", "median_s", "severity"
        );
        for (name, report) in &self.systems {
            row(&mut out, name, report);
        }
        row(&mut out, "TOTAL", &self.total);
        let reduction = if self.total.incidents == 0 {
            "no incidents".to_owned()
        } else {
            format!(
                "{:.1} alerts per incident",
                self.total.alerts as f64 / self.total.incidents as f64
            )
        };
        let _ = writeln!(
            out,
            "reduction: {} lines -> {} alerts -> {} incidents ({reduction}) -> {} postmortems",
            self.total.lines, self.total.alerts, self.total.incidents, self.total.postmortems
        );
        for (name, report) in &self.systems {
            if let Some(score) = &report.labelled {
                let _ = writeln!(
                    out,
                    "{name} labelled: {} flagged lines, {} episodes, {} detected ({:.3}), incident precision {:.3}",
                    score.flagged_lines,
                    score.episodes,
                    score.episodes_detected,
                    if score.episodes == 0 {
                        0.0
                    } else {
                        score.episodes_detected as f64 / score.episodes as f64
                    },
                    score.incident_precision
                );
            }
        }
        for (name, report) in &self.systems {
            for incident in report.incident_list.iter().take(LISTED) {
                let _ = writeln!(out, "{name}: {}", describe(incident));
            }
            if report.incident_list.len() > LISTED {
                let _ = writeln!(
                    out,
                    "{name}: ... {} more incidents",
                    report.incident_list.len() - LISTED
                );
            }
        }
        out
    }
}

fn row(out: &mut String, name: &str, report: &SystemReport) {
    let median = report
        .median_detection_s
        .map_or_else(|| "-".to_owned(), |m| format!("{m:.0}"));
    let severity: Vec<String> = report
        .incidents_by_severity
        .iter()
        .map(|(level, n)| format!("{level}:{n}"))
        .collect();
    let _ = writeln!(
        out,
        "{name:<11} {:>6} {:>6} {:>9} {:>11} {median:>9} {}",
        report.lines,
        report.alerts,
        report.incidents,
        report.postmortems,
        severity.join(" ")
    );
}

fn describe(incident: &Incident) -> String {
    match &incident.attention {
        Some(a) => {
            let postmortem = incident.postmortem.as_ref().map_or("", |p| match p.decision {
                opsline_events::logs::PostmortemChoice::Draft => " [postmortem]",
                opsline_events::logs::PostmortemChoice::Skip => "",
            });
            format!(
                "[{} score {}/{}]{postmortem} {} -- {}",
                a.sev.as_str(),
                a.score,
                a.threshold,
                incident.title,
                a.why
            )
        }
        None => format!("[{}] {}", incident.severity.as_str(), incident.title),
    }
}
