//! `opsline eval incidents`: replays LogHub-style files through the engine the service runs
//! (default configuration, one service per file, lines in file order, which is their
//! event-time order) and counts what a person would be asked to look at: alerts, incidents,
//! incidents by severity, the postmortems the policy would draft, and the median delay from
//! the first line of an episode to its incident.
//!
//! For labelled files (BGL format: first column `-` for a normal line, else the operators'
//! flag) it also scores the incidents: an **episode** is a run of flagged lines whose gaps are
//! at most [`EPISODE_GAP_SECS`] of event time; an episode is **detected** when an incident's
//! evidence cites at least one of its lines; **incident precision** is the share of incidents
//! whose evidence cites at least one flagged line. The label column is replaced by `-` before a
//! line is mined, so the engine never sees it.
//!
//! Detection delay: for a labelled file, per detected episode, the event time from its first
//! line to the first incident record citing one of its lines (an incident opened, updated or
//! reopened with it); for an unlabelled file, per incident, from its earliest cited line to
//! the first incident record citing that line.
//!
//! After the last line the pending suppression summaries are emitted and the clock is moved
//! past the quiet period, so every incident is resolved and its postmortem decision is final.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use opsline_events::logs::{Alert, Incident, LogOffset};
use serde::Serialize;
use uuid::Uuid;

use crate::config::LogintelConfig;
use crate::detector::suppress::{ms_to_ts, secs_to_ms};
use crate::engine::{Engine, LineInput, Outputs};
use crate::error::LogintelError;
use crate::labelled::{service_name, system_name};

/// Flagged lines further apart than this (event time) belong to different episodes.
pub const EPISODE_GAP_SECS: i64 = 1800;

/// The labelled part of a system's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LabelledScore {
    /// Lines the operators flagged.
    pub flagged_lines: usize,
    /// Runs of flagged lines with gaps of at most [`EPISODE_GAP_SECS`].
    pub episodes: usize,
    /// Episodes cited by at least one incident.
    pub episodes_detected: usize,
    /// Share of incidents citing at least one flagged line (0 when there are no incidents).
    pub incident_precision: f64,
    /// Incidents citing at least one flagged line (for the total's precision).
    #[serde(skip)]
    pub incidents_on_flagged: usize,
}

/// The numbers of one system (or the total).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SystemReport {
    /// Lines replayed.
    pub lines: usize,
    /// Alerts emitted (summaries included).
    pub alerts: usize,
    /// Incidents opened.
    pub incidents: usize,
    /// Incidents per severity level.
    pub incidents_by_severity: BTreeMap<String, usize>,
    /// Postmortems the policy would draft.
    pub postmortems: usize,
    /// Median detection delay in seconds of event time (`null` without any).
    pub median_detection_s: Option<f64>,
    /// Scores against the labels, for labelled files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labelled: Option<LabelledScore>,
    /// Detection delays (for the total's median).
    #[serde(skip)]
    pub delays_s: Vec<f64>,
    /// The final state of every incident, in opening order (for the text report).
    #[serde(skip)]
    pub incident_list: Vec<Incident>,
    /// Every alert emitted, in order (for tools that draft postmortems of the incidents).
    #[serde(skip)]
    pub alert_list: Vec<Alert>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IncidentEval {
    /// Per system, by name (the file name up to the first `_`).
    pub systems: BTreeMap<String, SystemReport>,
    /// Sums over the systems (median over all delays; precision over all labelled incidents).
    pub total: SystemReport,
}

/// The `*_2k.log`-style files under `paths`: a file is taken as is; a folder contributes its
/// `*.log` files, or, when it has none, those of its sub-folders.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LogintelError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        let mut own = log_files(path)?;
        if own.is_empty() {
            let mut dirs: Vec<PathBuf> = read_dir(path)?.into_iter().filter(|p| p.is_dir()).collect();
            dirs.sort();
            for dir in dirs {
                own.extend(log_files(&dir)?);
            }
        }
        files.extend(own);
    }
    Ok(files)
}

fn read_dir(path: &Path) -> Result<Vec<PathBuf>, LogintelError> {
    let entries =
        std::fs::read_dir(path).map_err(|e| LogintelError::InvalidInput(format!("{}: {e}", path.display())))?;
    Ok(entries.filter_map(Result::ok).map(|e| e.path()).collect())
}

fn log_files(dir: &Path) -> Result<Vec<PathBuf>, LogintelError> {
    let mut files: Vec<PathBuf> = read_dir(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    Ok(files)
}

/// Evaluates every file under `paths` with the default configuration.
pub fn evaluate_paths(paths: &[PathBuf]) -> Result<IncidentEval, LogintelError> {
    evaluate_paths_with(paths, &LogintelConfig::default())
}

/// [`evaluate_paths`] with the engine settings of `config`.
pub fn evaluate_paths_with(paths: &[PathBuf], config: &LogintelConfig) -> Result<IncidentEval, LogintelError> {
    let mut eval = IncidentEval::default();
    for file in collect_files(paths)? {
        let name = system_name(&file);
        let report = evaluate_file(&file, config)?;
        eval.systems.insert(name, report);
    }
    eval.total = total(eval.systems.values());
    Ok(eval)
}

/// The lines of a file and, when it is labelled, each line's flag.
struct FileLines {
    lines: Vec<String>,
    flags: Option<Vec<bool>>,
}

/// Reads a file; it is labelled when at least half of its lines start with `- `.
fn read_file(path: &Path) -> Result<FileLines, LogintelError> {
    let bytes = std::fs::read(path).map_err(|e| LogintelError::InvalidInput(format!("{}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let dashed = lines.iter().filter(|l| l.starts_with("- ")).count();
    if lines.is_empty() || dashed * 2 < lines.len() {
        return Ok(FileLines {
            lines: lines.into_iter().map(str::to_owned).collect(),
            flags: None,
        });
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut flags = Vec::with_capacity(lines.len());
    for line in lines {
        let (label, rest) = line.split_once(' ').unwrap_or((line, ""));
        flags.push(label != "-");
        out.push(format!("- {rest}"));
    }
    Ok(FileLines {
        lines: out,
        flags: Some(flags),
    })
}

/// Replays one file and scores it.
pub fn evaluate_file(path: &Path, config: &LogintelConfig) -> Result<SystemReport, LogintelError> {
    let file = read_file(path)?;
    let service = service_name(path);
    let topic = format!(
        "file:{}",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    let mut engine = Engine::new(config.engine_config())?;
    let mut alerts: Vec<Alert> = Vec::new();
    let mut incidents: BTreeMap<Uuid, Incident> = BTreeMap::new();
    let mut times = Vec::with_capacity(file.lines.len());
    // Event time at which an incident first cited each line (detection time).
    let mut cited: BTreeMap<i64, i64> = BTreeMap::new();
    let mut absorb = |outputs: Outputs, incidents: &mut BTreeMap<Uuid, Incident>, clock: i64| {
        alerts.extend(outputs.alerts);
        for incident in outputs.incidents {
            for offset in &incident.evidence {
                cited.entry(offset.offset).or_insert(clock);
            }
            incidents.insert(incident.incident_id, incident);
        }
    };
    for (index, line) in file.lines.iter().enumerate() {
        let input = LineInput {
            service: &service,
            line: line.as_bytes(),
            fallback_time: None,
            ingested_at: None,
            evidence: LogOffset {
                topic: topic.clone(),
                partition: 0,
                offset: i64::try_from(index).unwrap_or(i64::MAX),
            },
            host: None,
        };
        let outputs = engine.ingest(&input)?;
        let clock = engine
            .service(&service)
            .map(|s| s.detector.clock_ms)
            .unwrap_or_default();
        absorb(outputs, &mut incidents, clock);
        times.push(clock);
    }
    let end = times.last().copied().unwrap_or_default();
    absorb(engine.finish(), &mut incidents, end);
    let later = end
        .saturating_add(secs_to_ms(config.incidents.quiet_period_secs))
        .saturating_add(secs_to_ms(config.detector.window_secs.max(1) * 2));
    absorb(engine.advance(&service, ms_to_ts(later)), &mut incidents, later);

    let mut list: Vec<Incident> = incidents.into_values().collect();
    list.sort_by_key(|i| (i.opened_at, i.incident_id));
    let line_of = |o: &LogOffset| usize::try_from(o.offset).ok().filter(|&i| i < times.len());
    let mut report = SystemReport {
        lines: file.lines.len(),
        alerts: alerts.len(),
        incidents: list.len(),
        ..SystemReport::default()
    };
    for incident in &list {
        *report
            .incidents_by_severity
            .entry(level_name(incident).to_owned())
            .or_insert(0) += 1;
        report.postmortems += usize::from(would_draft(incident));
    }
    match &file.flags {
        Some(flags) => {
            let (score, delays) = score_labels(flags, &times, &list, &cited, line_of);
            report.labelled = Some(score);
            report.delays_s = delays;
        }
        None => {
            report.delays_s = list
                .iter()
                .filter_map(|i| {
                    let first = i.evidence.iter().filter_map(line_of).min()?;
                    let at = times.get(first)?;
                    let detected = cited.get(&i64::try_from(first).ok()?)?;
                    Some(delay_s(*at, *detected))
                })
                .collect();
        }
    }
    report.median_detection_s = median(&report.delays_s);
    report.incident_list = list;
    report.alert_list = alerts;
    Ok(report)
}

/// Whether the postmortem service drafts `incident` (resolved, and the policy says so).
fn would_draft(incident: &Incident) -> bool {
    incident.status == opsline_events::logs::IncidentStatus::Resolved && incident.wants_postmortem()
}

/// The severity level name of an incident (`sev1`..`sev4`, or the alert severity of a record
/// without an attention score).
fn level_name(incident: &Incident) -> &'static str {
    incident
        .attention
        .as_ref()
        .map_or_else(|| incident.severity.as_str(), |a| a.sev.as_str())
}

fn delay_s(from_ms: i64, to_ms: i64) -> f64 {
    (to_ms.saturating_sub(from_ms).max(0)) as f64 / 1000.0
}

/// Episodes, detection and precision against the labels; the detection delays of detected episodes.
fn score_labels(
    flags: &[bool],
    times: &[i64],
    incidents: &[Incident],
    cited: &BTreeMap<i64, i64>,
    line_of: impl Fn(&LogOffset) -> Option<usize>,
) -> (LabelledScore, Vec<f64>) {
    let gap = EPISODE_GAP_SECS.saturating_mul(1000);
    let mut episode_of = vec![None; flags.len()];
    let mut episode_start: Vec<i64> = Vec::new();
    let mut last: Option<i64> = None;
    for (index, flagged) in flags.iter().enumerate() {
        if !flagged {
            continue;
        }
        let at = times.get(index).copied().unwrap_or_default();
        if last.is_none_or(|l| at.saturating_sub(l) > gap) {
            episode_start.push(at);
        }
        last = Some(at);
        episode_of[index] = Some(episode_start.len() - 1);
    }
    let mut first_incident: Vec<Option<i64>> = vec![None; episode_start.len()];
    let mut on_flagged = 0;
    for incident in incidents {
        let mut any = false;
        for line in incident.evidence.iter().filter_map(&line_of) {
            if let Some(episode) = episode_of.get(line).copied().flatten() {
                any = true;
                let at = i64::try_from(line).ok().and_then(|l| cited.get(&l)).copied();
                let detected = at.unwrap_or_else(|| incident.opened_at.as_millisecond());
                let slot = &mut first_incident[episode];
                *slot = Some(slot.map_or(detected, |o| o.min(detected)));
            }
        }
        on_flagged += usize::from(any);
    }
    let delays = first_incident
        .iter()
        .zip(&episode_start)
        .filter_map(|(opened, start)| opened.map(|o| delay_s(*start, o)))
        .collect::<Vec<_>>();
    let score = LabelledScore {
        flagged_lines: flags.iter().filter(|f| **f).count(),
        episodes: episode_start.len(),
        episodes_detected: delays.len(),
        incident_precision: ratio(on_flagged, incidents.len()),
        incidents_on_flagged: on_flagged,
    };
    (score, delays)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 / b as f64) * 1000.0).round() / 1000.0
    }
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

fn total<'a>(systems: impl Iterator<Item = &'a SystemReport>) -> SystemReport {
    let mut sum = SystemReport::default();
    let mut labelled: Option<LabelledScore> = None;
    let mut labelled_incidents = 0;
    for report in systems {
        sum.lines += report.lines;
        sum.alerts += report.alerts;
        sum.incidents += report.incidents;
        sum.postmortems += report.postmortems;
        for (level, n) in &report.incidents_by_severity {
            *sum.incidents_by_severity.entry(level.clone()).or_insert(0) += n;
        }
        sum.delays_s.extend(&report.delays_s);
        if let Some(score) = &report.labelled {
            let acc = labelled.get_or_insert_with(LabelledScore::default);
            acc.flagged_lines += score.flagged_lines;
            acc.episodes += score.episodes;
            acc.episodes_detected += score.episodes_detected;
            acc.incidents_on_flagged += score.incidents_on_flagged;
            labelled_incidents += report.incidents;
        }
    }
    if let Some(acc) = &mut labelled {
        acc.incident_precision = ratio(acc.incidents_on_flagged, labelled_incidents);
    }
    sum.labelled = labelled;
    sum.median_detection_s = median(&sum.delays_s);
    sum
}

mod render;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use opsline_events::Event;

    fn offset(line: i64) -> LogOffset {
        LogOffset {
            topic: "f".into(),
            partition: 0,
            offset: line,
        }
    }

    #[test]
    fn episodes_detection_precision_and_delay() {
        // Lines 0-1 flagged a minute apart (one episode), line 3 flagged 2 h later (another).
        let flags = [true, true, false, true, false];
        let times = [0, 60_000, 120_000, 7_260_000, 7_300_000];
        let mut hit = Incident::sample();
        hit.evidence = vec![offset(1)];
        let mut miss = Incident::sample();
        miss.incident_id = Uuid::from_u128(7);
        miss.evidence = vec![offset(4)];
        let cited = BTreeMap::from([(1, 90_000), (4, 7_300_000)]);
        let line_of = |o: &LogOffset| usize::try_from(o.offset).ok();
        let (score, delays) = score_labels(&flags, &times, &[hit, miss], &cited, line_of);
        assert_eq!(
            (score.flagged_lines, score.episodes, score.episodes_detected),
            (3, 2, 1)
        );
        assert_eq!(score.incident_precision, 0.5);
        assert_eq!(delays, vec![90.0], "first citation 90 s after the episode's first line");
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn labelled_files_are_recognised_by_their_dash_column() {
        let dir = std::env::temp_dir().join(format!("opsline-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("X_2k.log");
        std::fs::write(&path, "- a\nFLAG b\n- c\n").unwrap();
        let file = read_file(&path).unwrap();
        assert_eq!(file.flags, Some(vec![false, true, false]));
        assert_eq!(file.lines[1], "- b");
        assert_eq!(system_name(&path), "X");
        std::fs::write(&path, "2015-07-29 INFO a\n").unwrap();
        assert_eq!(read_file(&path).unwrap().flags, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
