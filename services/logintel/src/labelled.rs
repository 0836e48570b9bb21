//! The labelled check: replays a labelled log file (first column `-` for a
//! normal line, anything else for an alert line, as in Loghub's BGL) through
//! the same engine the service runs, in process, with event time from the log
//! headers, and reports how many labelled alert lines fall inside emitted
//! alerts (recall) and how many alerts were emitted per line.
//!
//! "Inside an alert" means: the line's raw-log offset is cited in the evidence
//! of an emitted alert (the triggering lines of an alert, and the repeats a
//! suppression summary counts). The label column is replaced by `-` before the
//! line is mined, so the detector never sees the ground truth.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use opsline_events::logs::{Alert, LogOffset};

use crate::config::LogintelConfig;
use crate::engine::{Engine, LineInput};
use crate::error::LogintelError;

/// The lines of a labelled file with the label column masked, and the labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelledLines {
    /// Each line with its first column replaced by `-`.
    pub lines: Vec<String>,
    /// Whether each line is labelled as an alert.
    pub is_alert: Vec<bool>,
}

/// Reads a labelled file (blank lines are skipped).
pub fn read_labelled(path: &Path) -> Result<LabelledLines, LogintelError> {
    let bytes = std::fs::read(path).map_err(|e| LogintelError::InvalidInput(format!("{}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut out = LabelledLines::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let (label, rest) = line.split_once(' ').unwrap_or((line, ""));
        out.is_alert.push(label != "-");
        out.lines.push(format!("- {rest}"));
    }
    Ok(out)
}

/// The numbers of a labelled check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledReport {
    /// Lines replayed.
    pub lines: usize,
    /// Lines labelled as alerts.
    pub labelled_alert_lines: usize,
    /// Labelled alert lines cited by an emitted alert.
    pub covered_alert_lines: usize,
    /// Normal lines cited by an emitted alert.
    pub covered_normal_lines: usize,
    /// Alerts emitted (summaries included).
    pub alerts: usize,
    /// Alerts per kind (`new_template`, `rate_burst`, `error_surge`, `silence`).
    pub alerts_by_kind: BTreeMap<String, usize>,
    /// Suppression summaries among the alerts.
    pub summaries: usize,
    /// Repeats suppressed (sum over summaries).
    pub suppressed: u64,
    /// Incidents opened.
    pub incidents: usize,
}

impl LabelledReport {
    /// Scores `alerts` against `is_alert`; `line_of` maps an evidence offset to a line index.
    pub fn score(is_alert: &[bool], alerts: &[Alert], line_of: impl Fn(&LogOffset) -> Option<usize>) -> Self {
        let covered: BTreeSet<usize> = alerts
            .iter()
            .flat_map(|a| a.evidence.iter())
            .filter_map(&line_of)
            .collect();
        let mut by_kind = BTreeMap::new();
        for alert in alerts {
            *by_kind.entry(alert.kind.as_str().to_owned()).or_insert(0) += 1;
        }
        let covered_alert_lines = covered
            .iter()
            .filter(|&&i| is_alert.get(i).copied().unwrap_or(false))
            .count();
        Self {
            lines: is_alert.len(),
            labelled_alert_lines: is_alert.iter().filter(|&&a| a).count(),
            covered_alert_lines,
            covered_normal_lines: covered.iter().filter(|&&i| i < is_alert.len()).count() - covered_alert_lines,
            alerts: alerts.len(),
            alerts_by_kind: by_kind,
            summaries: alerts.iter().filter(|a| a.suppressed > 0).count(),
            suppressed: alerts.iter().map(|a| a.suppressed).sum(),
            incidents: 0,
        }
    }

    /// Labelled alert lines inside emitted alerts, over all labelled alert lines.
    pub fn recall(&self) -> f64 {
        ratio(self.covered_alert_lines, self.labelled_alert_lines)
    }

    /// Alerts emitted per line replayed.
    pub fn alerts_per_line(&self) -> f64 {
        ratio(self.alerts, self.lines)
    }

    /// Share of the lines cited by alerts that are labelled alert lines.
    pub fn cited_precision(&self) -> f64 {
        ratio(
            self.covered_alert_lines,
            self.covered_alert_lines + self.covered_normal_lines,
        )
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for LabelledReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "lines                 {}", self.lines)?;
        writeln!(f, "labelled alert lines  {}", self.labelled_alert_lines)?;
        writeln!(
            f,
            "inside emitted alerts {} (recall {:.3})",
            self.covered_alert_lines,
            self.recall()
        )?;
        writeln!(
            f,
            "normal lines cited    {} (cited precision {:.3})",
            self.covered_normal_lines,
            self.cited_precision()
        )?;
        let kinds: Vec<String> = self.alerts_by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(
            f,
            "alerts                {} ({}), {} summaries of {} suppressed repeats",
            self.alerts,
            kinds.join(", "),
            self.summaries,
            self.suppressed
        )?;
        writeln!(
            f,
            "alerts per line       {:.4} (noise reduction {:.1} lines per alert)",
            self.alerts_per_line(),
            ratio(self.lines, self.alerts)
        )?;
        write!(f, "incidents             {}", self.incidents)
    }
}

/// Replays the labelled file at `path` through the default engine and scores it.
pub fn labelled_check(path: &Path) -> Result<LabelledReport, LogintelError> {
    labelled_check_with(path, &LogintelConfig::default())
}

/// [`labelled_check`] with the engine settings of `config`.
pub fn labelled_check_with(path: &Path, config: &LogintelConfig) -> Result<LabelledReport, LogintelError> {
    let labelled = read_labelled(path)?;
    let service = service_name(path);
    let topic = format!(
        "file:{}",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    let mut engine = Engine::new(config.engine_config())?;
    let mut alerts = Vec::new();
    let mut incidents = BTreeSet::new();
    for (index, line) in labelled.lines.iter().enumerate() {
        let evidence = LogOffset {
            topic: topic.clone(),
            partition: 0,
            offset: i64::try_from(index).unwrap_or(i64::MAX),
        };
        let input = LineInput {
            service: &service,
            line: line.as_bytes(),
            fallback_time: None,
            ingested_at: None,
            evidence,
            host: None,
        };
        let outputs = engine.ingest(&input)?;
        incidents.extend(outputs.incidents.iter().map(|i| i.incident_id));
        alerts.extend(outputs.alerts);
    }
    let outputs = engine.finish();
    incidents.extend(outputs.incidents.iter().map(|i| i.incident_id));
    alerts.extend(outputs.alerts);
    let mut report = LabelledReport::score(&labelled.is_alert, &alerts, |offset| {
        usize::try_from(offset.offset).ok()
    });
    report.incidents = incidents.len();
    Ok(report)
}

/// The system name of a file: its stem up to the first `_` (`BGL_2k.log` is `BGL`; `replay`
/// when that is empty).
pub fn system_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    stem.split('_')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("replay")
        .to_owned()
}

/// The service name used for a replayed file: its system name, lower case (`bgl`).
pub fn service_name(path: &Path) -> String {
    system_name(path).to_lowercase()
}
