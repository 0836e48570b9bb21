//! Insights: the console's views as numbers over time, for the insights page and
//! `GET /v1/insights`: log lines received (counted by the log service, see [`crate::volume`]),
//! incidents opened and alerts raised per time bucket and service, mean
//! time to acknowledge and to resolve per service (MTTA, MTTR, event time), and routed tickets
//! per queue and priority, and the automation's figures of [`crate::usage`] (LLM calls, latency
//! p50/p95, cache hit rate and cost per use case, self-service deflection) over the LLM usage and
//! audit events the views keep. Buckets are hours when the data spans two days or less, else days,
//! weeks, months or years, whatever fits the span in [`MAX_BUCKETS`] (see [`crate::buckets`]). Restricted incidents and their services' alerts count
//! only for members of their team, as in the lists.

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsline_auth::Principal;
use opsline_events::logs::Incident;
use serde::{Deserialize, Serialize};

use crate::lists::{may_see, priority_name};
use crate::state::AppState;
use crate::usage::{Report, aggregate};
use crate::views::Views;
use crate::volume::ServiceLines;

use crate::buckets::{Granularity, align, rebucket};
pub use crate::buckets::{MAX_BUCKETS, Series};

/// Daily counts asked from the log service when the buckets are days or longer (it keeps 400).
const DAYS_ASKED: usize = 400;

/// Mean response times of one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseTimes {
    /// Incidents counted.
    pub incidents: u64,
    /// Mean seconds from opened to acknowledged, over the acknowledged ones (see
    /// [`time_to_acknowledge`]).
    pub mtta_secs: Option<f64>,
    /// Acknowledged incidents.
    pub acknowledged: u64,
    /// Mean seconds from opened to resolved, over the resolved ones (see [`time_to_resolve`]).
    pub mttr_secs: Option<f64>,
    /// Resolved incidents.
    pub resolved: u64,
}

/// Everything the insights page draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    /// `hour`, `day`, `week`, `month` or `year`.
    pub bucket: String,
    /// Log lines received per bucket and service (the lines the log service consumed, by
    /// their event time).
    pub lines: Series,
    /// Why `lines` is empty when the log service could not tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines_unavailable: Option<String>,
    /// Incidents opened per bucket and service.
    pub incidents: Series,
    /// Alerts raised per bucket and service.
    pub alerts: Series,
    /// Alerted log lines (the alerts' counts) per bucket and service.
    pub alert_lines: Series,
    /// Response times per service.
    pub response: BTreeMap<String, ResponseTimes>,
    /// Routed tickets per queue.
    pub tickets_per_queue: BTreeMap<String, u64>,
    /// Routed tickets per priority.
    pub tickets_per_priority: BTreeMap<String, u64>,
    /// Routed tickets re-routed by a person.
    pub rerouted: u64,
    /// LLM calls, latency, cache hit rate and cost per use case, and self-service deflection,
    /// triage dispositions and auto-routed share, as `opsline report --json` prints them.
    pub automation: Report,
}

/// Seconds from `from` to `to`, never negative.
fn secs(from: Timestamp, to: Timestamp) -> i64 {
    to.as_second().saturating_sub(from.as_second()).max(0)
}

/// How long people took to acknowledge `incident`: from when Opsline opened it to the
/// acknowledgement on the wall clock (processing time), else on the log's clock (records from
/// before the wall-clock times were kept).
pub fn time_to_acknowledge(incident: &Incident) -> Option<i64> {
    let response = incident.response.as_ref()?;
    match (incident.detected_at, response.acknowledged_wall_at) {
        (Some(from), Some(to)) => Some(secs(from, to)),
        _ => response.acknowledged_at.map(|at| secs(incident.opened_at, at)),
    }
}

/// How long `incident` took to resolve: for a person's resolution, from when Opsline opened it
/// to the resolution on the wall clock; for the quiet period's, how long it lasted on the log's
/// clock (its duration).
pub fn time_to_resolve(incident: &Incident) -> Option<i64> {
    let resolved_at = incident.resolved_at?;
    let wall = incident.response.as_ref().and_then(|r| r.resolved_wall_at);
    match (incident.detected_at, wall) {
        (Some(from), Some(to)) => Some(secs(from, to)),
        _ => Some(secs(incident.opened_at, resolved_at)),
    }
}

fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

/// The insights of what `who` may see, with the log lines received asked from the log service.
pub async fn gather(state: &AppState, who: &Principal) -> Insights {
    let (mut out, size) = insights_sized(&state.views.read(), who, state.cost_per_ticket);
    let received = match size {
        Granularity::Hour => state.lines.fetch(true, MAX_BUCKETS).await,
        _ => state.lines.fetch(false, DAYS_ASKED).await,
    };
    add_lines(&mut out, &state.views.read(), who, size, received);
    out
}

/// Adds the log lines received (hourly or daily counts per service, charted in buckets of
/// `size`) of the services `who` may see, or why there are none.
pub fn add_lines(
    out: &mut Insights,
    views: &Views,
    who: &Principal,
    size: Granularity,
    received: Result<ServiceLines, String>,
) {
    let received = match received {
        Ok(received) => received,
        Err(why) => {
            out.lines_unavailable = Some(why);
            return;
        }
    };
    let mut lines = Series::new();
    for (service, buckets) in received {
        if !who.may_see_team(views.restricted_team(&service)) {
            continue;
        }
        for (bucket, n) in buckets {
            *lines.entry(bucket).or_default().entry(service.clone()).or_default() += n;
        }
    }
    out.lines = rebucket(lines, size);
    align(
        &mut [
            &mut out.lines,
            &mut out.incidents,
            &mut out.alerts,
            &mut out.alert_lines,
        ],
        size,
    );
}

/// The insights of what `who` may see; savings count `cost_per_ticket` per deflected ticket.
pub fn insights(views: &Views, who: &Principal, cost_per_ticket: f64) -> Insights {
    insights_sized(views, who, cost_per_ticket).0
}

/// [`insights`] and the size of its buckets.
fn insights_sized(views: &Views, who: &Principal, cost_per_ticket: f64) -> (Insights, Granularity) {
    let incidents: Vec<_> = views.incidents().filter(|i| may_see(who, i)).collect();
    let alerts: Vec<_> = views
        .alerts()
        .filter(|a| who.may_see_team(views.restricted_team(&a.service)))
        .collect();
    let times = incidents
        .iter()
        .map(|i| i.opened_at)
        .chain(alerts.iter().map(|a| a.window_end));
    let (min, max) = times.fold((None::<Timestamp>, None::<Timestamp>), |(lo, hi), t| {
        (Some(lo.map_or(t, |l| l.min(t))), Some(hi.map_or(t, |h| h.max(t))))
    });
    let size = Granularity::for_span(min, max);
    let mut out = Insights {
        bucket: size.name().to_owned(),
        ..Insights::default()
    };
    let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for incident in &incidents {
        *out.incidents
            .entry(size.key(incident.opened_at))
            .or_default()
            .entry(incident.service.clone())
            .or_default() += 1;
        let times = out.response.entry(incident.service.clone()).or_default();
        let sum = sums.entry(incident.service.clone()).or_default();
        times.incidents += 1;
        if let Some(secs) = time_to_acknowledge(incident) {
            times.acknowledged += 1;
            sum.0 += secs as f64;
        }
        if let Some(secs) = time_to_resolve(incident) {
            times.resolved += 1;
            sum.1 += secs as f64;
        }
    }
    for (service, times) in &mut out.response {
        let (ack, res) = sums.get(service).copied().unwrap_or_default();
        times.mtta_secs = mean(ack, times.acknowledged);
        times.mttr_secs = mean(res, times.resolved);
    }
    for alert in &alerts {
        let bucket = size.key(alert.window_end);
        *out.alerts
            .entry(bucket.clone())
            .or_default()
            .entry(alert.service.clone())
            .or_default() += 1;
        *out.alert_lines
            .entry(bucket)
            .or_default()
            .entry(alert.service.clone())
            .or_default() += alert.count;
    }
    align(&mut [&mut out.incidents, &mut out.alerts, &mut out.alert_lines], size);
    for entry in views.tickets() {
        *out.tickets_per_queue.entry(entry.ticket.queue.clone()).or_default() += 1;
        *out.tickets_per_priority
            .entry(priority_name(entry.ticket.priority).to_owned())
            .or_default() += 1;
        if entry.ticket.reason.starts_with("re-routed by ") {
            out.rerouted += 1;
        }
    }
    let usage: Vec<_> = views.llm_calls().cloned().collect();
    let routed: Vec<_> = views.tickets().map(|t| t.ticket.clone()).collect();
    let audit: Vec<_> = views.audit_events().cloned().collect();
    let triaged: Vec<_> = views.triaged().cloned().collect();
    out.automation = aggregate(&usage, &triaged, &routed, &audit, cost_per_ticket);
    (out, size)
}

#[cfg(test)]
mod tests {
    use opsline_auth::{Role, Viewer};
    use opsline_events::Event;
    use opsline_events::logs::{Alert, IncidentResponse, IncidentStatus};
    use opsline_events::ops::{LlmUsage, SelfServiceAction};

    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn counts_and_response_times() {
        let mut views = Views::default();
        let mut a = Incident::sample();
        a.incident_id = uuid::Uuid::now_v7();
        a.service = "hdfs".into();
        a.opened_at = at(3_600);
        a.status = IncidentStatus::Resolved;
        a.resolved_at = Some(at(3_600 + 600));
        a.response = Some(IncidentResponse {
            acknowledged_at: Some(at(3_600 + 60)),
            acknowledged_by: Some("sam".into()),
            ..IncidentResponse::default()
        });
        let mut b = a.clone();
        b.incident_id = uuid::Uuid::now_v7();
        b.opened_at = at(7_300);
        b.status = IncidentStatus::Open;
        b.resolved_at = None;
        b.response = None;
        let mut secret = a.clone();
        secret.incident_id = uuid::Uuid::now_v7();
        secret.service = "payroll".into();
        secret.restricted_team = Some("finance".into());
        for i in [a, b, secret] {
            views.apply_incident(i, 10);
        }
        let mut alert = Alert::sample();
        alert.service = "hdfs".into();
        alert.window_end = at(3_700);
        alert.count = 7;
        views.apply_alert(alert, 10);
        let who = Principal {
            name: "v".into(),
            viewer: Viewer::new(Role::Viewer, Vec::<String>::new()),
        };
        let out = insights(&views, &who, 15.0);
        assert_eq!(out.bucket, "hour");
        // 01:00 and 02:00 (the hour between the two incidents is drawn too, empty).
        assert_eq!(out.incidents.len(), 2, "{:?}", out.incidents);
        assert!(out.incidents["1970-01-01T02:00:00Z"].contains_key("hdfs"));
        assert_eq!(out.incidents["1970-01-01T01:00:00Z"]["hdfs"], 1);
        assert_eq!(out.alert_lines["1970-01-01T01:00:00Z"]["hdfs"], 7);
        let hdfs = &out.response["hdfs"];
        assert_eq!((hdfs.incidents, hdfs.acknowledged, hdfs.resolved), (2, 1, 1));
        assert_eq!((hdfs.mtta_secs, hdfs.mttr_secs), (Some(60.0), Some(600.0)));
        assert!(!out.response.contains_key("payroll"), "restricted to finance");
        assert!(out.automation.use_cases.is_empty(), "no LLM call, no audit event");
    }

    #[test]
    fn response_times_of_a_replayed_log_count_on_the_wall_clock() {
        // A 2005 log replayed in 2026: opened in log time 2005, by Opsline at `detected`; acked
        // 40 s and resolved by a person 300 s later (wall clock), at the log's clock of 2005.
        let detected = at(1_796_515_200);
        let mut incident = Incident::sample();
        incident.opened_at = at(1_133_671_664);
        incident.detected_at = Some(detected);
        incident.resolved_at = Some(at(1_133_671_664 + 86_400));
        incident.response = Some(IncidentResponse {
            acknowledged_at: Some(at(1_133_671_664 + 86_400)),
            acknowledged_wall_at: Some(at(1_796_515_240)),
            resolved_wall_at: Some(at(1_796_515_500)),
            ..IncidentResponse::default()
        });
        assert_eq!(time_to_acknowledge(&incident), Some(40));
        assert_eq!(time_to_resolve(&incident), Some(300));
        // Resolved by the quiet period (no person): how long it lasted in log time.
        incident.response.as_mut().unwrap().resolved_wall_at = None;
        assert_eq!(time_to_resolve(&incident), Some(86_400));
        // A record without the wall-clock times: the log's clock, as before.
        incident.detected_at = None;
        assert_eq!(time_to_acknowledge(&incident), Some(86_400));
        incident.response = None;
        assert_eq!(time_to_acknowledge(&incident), None);
    }

    #[test]
    fn lines_received_are_charted_per_bucket_and_visible_service() {
        let mut views = Views::default();
        let mut secret = Incident::sample();
        secret.service = "payroll".into();
        secret.restricted_team = Some("finance".into());
        views.apply_incident(secret, 10);
        let received: ServiceLines = [
            (
                "hdfs".to_owned(),
                [
                    ("1970-01-01T01:00:00Z".to_owned(), 40),
                    ("1970-01-01T03:00:00Z".to_owned(), 2),
                ]
                .into(),
            ),
            ("payroll".to_owned(), [("1970-01-01T01:00:00Z".to_owned(), 9)].into()),
        ]
        .into();
        let who = |teams: &[&str]| Principal {
            name: "v".into(),
            viewer: Viewer::new(Role::Viewer, teams.iter().map(|t| (*t).to_owned())),
        };
        let mut out = Insights {
            bucket: "hour".into(),
            ..Insights::default()
        };
        add_lines(&mut out, &views, &who(&[]), Granularity::Hour, Ok(received.clone()));
        assert_eq!(out.lines.len(), 3, "02:00 drawn empty: {:?}", out.lines);
        assert_eq!(out.lines["1970-01-01T01:00:00Z"].get("hdfs"), Some(&40));
        assert_eq!(out.lines["1970-01-01T03:00:00Z"].get("hdfs"), Some(&2));
        assert!(
            out.lines.values().all(|s| !s.contains_key("payroll")),
            "restricted to finance"
        );
        let mut finance = Insights::default();
        add_lines(
            &mut finance,
            &views,
            &who(&["finance"]),
            Granularity::Hour,
            Ok(received),
        );
        assert_eq!(finance.lines["1970-01-01T01:00:00Z"].get("payroll"), Some(&9));
        let mut down = Insights::default();
        add_lines(&mut down, &views, &who(&[]), Granularity::Hour, Err("no answer".into()));
        assert!(down.lines.is_empty());
        assert_eq!(down.lines_unavailable.as_deref(), Some("no answer"));
    }

    #[test]
    fn automation_figures_come_from_the_followed_usage_and_audit() {
        let mut views = Views::default();
        for (latency_ms, cache_hit) in [(1_000, false), (3_000, false), (5, true)] {
            let call = LlmUsage {
                call_id: uuid::Uuid::now_v7(),
                task: "postmortem_draft".into(),
                latency_ms,
                cache_hit,
                cost: 0.5,
                outcome: "ok".into(),
                ..LlmUsage::sample()
            };
            views.apply_llm_usage(call, 100);
        }
        let done = SelfServiceAction {
            action_id: uuid::Uuid::now_v7(),
            action: "account_unlock".into(),
            outcome: "succeeded".into(),
            cost_saved: 0.0,
            ..SelfServiceAction::sample()
        };
        views.apply_audit(done.clone(), 100);
        views.apply_audit(done, 100);
        let who = Principal {
            name: "v".into(),
            viewer: Viewer::new(Role::Viewer, Vec::<String>::new()),
        };
        let report = insights(&views, &who, 15.0).automation;
        let postmortem = report.use_cases.iter().find(|r| r.use_case == "postmortem").unwrap();
        assert_eq!((postmortem.llm_calls, postmortem.cache_hits), (3, 1));
        assert_eq!(
            (postmortem.latency_p50_ms, postmortem.latency_p95_ms),
            (Some(1_000), Some(3_000))
        );
        assert!((postmortem.llm_cost - 1.5).abs() < 1e-9);
        let selfservice = report.use_cases.iter().find(|r| r.use_case == "self_service").unwrap();
        assert_eq!(selfservice.deflected, 1, "the replayed event counts once");
        assert!((selfservice.estimated_savings - 15.0).abs() < 1e-9);
    }
}
