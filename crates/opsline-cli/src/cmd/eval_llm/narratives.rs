//! The narrative pass: incidents of a LogHub file replayed through the log engine (as
//! `opsline eval incidents` does), each drafted through the postmortem service's narrative path
//! (timeline, prompt, schema-checked answer, grounding and citation check: a revision 2 kept
//! or not).

use std::path::Path;
use std::time::Instant;

use opsline_events::logs::{Alert, Incident, IncidentStatus};
use opsline_postmortem::draft::llm::LlmDrafter;
use opsline_postmortem::draft::{DraftInput, NarrativeError, checked_narrative_with};
use opsline_postmortem::timeline::Timeline;

use super::stats::JobResult;

/// An incident and the alerts it cites.
pub type Case = (Incident, Vec<Alert>);

/// Up to `n` resolved incidents of the files under `path`: the ones the postmortem policy
/// drafts first, then the others; and how many of them the policy drafts.
pub fn read(path: &Path, n: usize) -> anyhow::Result<(Vec<Case>, usize)> {
    let config = opsline_logintel::LogintelConfig::default();
    let mut approved = Vec::new();
    let mut others = Vec::new();
    for file in opsline_logintel::evaluation::collect_files(&[path.to_path_buf()])? {
        let report = opsline_logintel::evaluation::evaluate_file(&file, &config)?;
        for incident in report.incident_list {
            if incident.status != IncidentStatus::Resolved {
                continue;
            }
            let alerts: Vec<Alert> = report
                .alert_list
                .iter()
                .filter(|a| incident.alert_ids.contains(&a.alert_id))
                .cloned()
                .collect();
            if incident.wants_postmortem() {
                approved.push((incident, alerts));
            } else {
                others.push((incident, alerts));
            }
        }
    }
    let drafted = approved.len().min(n);
    let cases = approved.into_iter().chain(others).take(n).collect();
    Ok((cases, drafted))
}

/// Drafts every case's narrative in order.
pub async fn run(drafter: &LlmDrafter, cases: &[Case]) -> Vec<JobResult> {
    let mut results = Vec::with_capacity(cases.len());
    for (incident, alerts) in cases {
        let timeline = Timeline::build(incident, alerts);
        let input = DraftInput {
            incident,
            timeline: &timeline,
        };
        let started = Instant::now();
        let (answer, count) = checked_narrative_with(drafter, input, None).await;
        let seconds = started.elapsed().as_secs_f64();
        if let Err(error) = &answer {
            tracing::info!(incident = %incident.incident_id, %error, "no revision 2");
        }
        results.push(JobResult {
            valid: !matches!(answer, Err(NarrativeError::Drafter(_))),
            grounded: answer.is_ok(),
            kept: count.kept,
            dropped: count.dropped,
            seconds,
        });
    }
    results
}
