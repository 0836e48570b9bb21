//! Insights: the console's views as numbers over time, for the insights page and
//! `GET /v1/insights`: log lines received (counted by the log service, see [`crate::volume`]),
//! incidents opened and alerts raised per time bucket and service, mean
//! time to acknowledge and to resolve per service (MTTA, MTTR, event time), and routed tickets
//! per queue and priority, and the automation's figures of [`crate::usage`] (LLM calls, latency
//! p50/p95, cache hit rate and cost per use case, self-service deflection) over the LLM usage and
//! audit events the views keep. Buckets are hours when the data spans two days or less, else days
//! (the newest [`MAX_BUCKETS`] kept). Restricted incidents and their services' alerts count
//! only for members of their team, as in the lists.

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsline_auth::Principal;
use serde::{Deserialize, Serialize};

use crate::lists::{may_see, priority_name};
use crate::state::AppState;
use crate::usage::{Report, aggregate};
use crate::views::Views;
use crate::volume::ServiceLines;

/// Buckets kept per series.
pub const MAX_BUCKETS: usize = 60;

/// Counts per bucket start (RFC 3339) and service.
pub type Series = BTreeMap<String, BTreeMap<String, u64>>;

/// Mean response times of one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseTimes {
    /// Incidents counted.
    pub incidents: u64,
    /// Mean seconds from opened to acknowledged, over the acknowledged ones.
    pub mtta_secs: Option<f64>,
    /// Acknowledged incidents.
    pub acknowledged: u64,
    /// Mean seconds from opened to resolved, over the resolved ones.
    pub mttr_secs: Option<f64>,
    /// Resolved incidents.
    pub resolved: u64,
}

/// Everything the insights page draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    /// `hour` or `day`.
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

fn bucket_of(at: Timestamp, hourly: bool) -> String {
    let size = if hourly { 3_600 } else { 86_400 };
    let start = at.as_second().div_euclid(size) * size;
    Timestamp::from_second(start).map(|t| t.to_string()).unwrap_or_default()
}

/// Adds the empty buckets between the first and the last one, so bars keep time's proportions.
fn fill_gaps(series: &mut Series, hourly: bool) {
    let size = if hourly { 3_600 } else { 86_400 };
    let parse = |k: &String| k.parse::<Timestamp>().ok().map(|t| t.as_second());
    let (Some(first), Some(last)) = (
        series.keys().next().and_then(parse),
        series.keys().last().and_then(parse),
    ) else {
        return;
    };
    let start = first.max(last - size * (MAX_BUCKETS as i64 - 1));
    let mut at = start;
    while at <= last {
        if let Ok(t) = Timestamp::from_second(at) {
            series.entry(t.to_string()).or_default();
        }
        at += size;
    }
}

fn keep_newest(series: &mut Series) {
    while series.len() > MAX_BUCKETS {
        let Some(first) = series.keys().next().cloned() else {
            break;
        };
        series.remove(&first);
    }
}

fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

/// The insights of what `who` may see, with the log lines received asked from the log service.
pub async fn gather(state: &AppState, who: &Principal) -> Insights {
    let mut out = insights(&state.views.read(), who, state.cost_per_ticket);
    let received = state.lines.fetch(out.bucket == "hour", MAX_BUCKETS).await;
    add_lines(&mut out, &state.views.read(), who, received);
    out
}

/// Adds the log lines received (per service and bucket of `out.bucket`) of the services `who`
/// may see, or why there are none.
pub fn add_lines(out: &mut Insights, views: &Views, who: &Principal, received: Result<ServiceLines, String>) {
    let received = match received {
        Ok(received) => received,
        Err(why) => {
            out.lines_unavailable = Some(why);
            return;
        }
    };
    for (service, buckets) in received {
        if !who.may_see_team(views.restricted_team(&service)) {
            continue;
        }
        for (bucket, lines) in buckets {
            *out.lines.entry(bucket).or_default().entry(service.clone()).or_default() += lines;
        }
    }
    fill_gaps(&mut out.lines, out.bucket == "hour");
    keep_newest(&mut out.lines);
}

/// The insights of what `who` may see; savings count `cost_per_ticket` per deflected ticket.
pub fn insights(views: &Views, who: &Principal, cost_per_ticket: f64) -> Insights {
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
    let hourly = match (min, max) {
        (Some(lo), Some(hi)) => hi.as_second().saturating_sub(lo.as_second()) <= 2 * 86_400,
        _ => true,
    };
    let mut out = Insights {
        bucket: if hourly { "hour" } else { "day" }.to_owned(),
        ..Insights::default()
    };
    let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for incident in &incidents {
        *out.incidents
            .entry(bucket_of(incident.opened_at, hourly))
            .or_default()
            .entry(incident.service.clone())
            .or_default() += 1;
        let times = out.response.entry(incident.service.clone()).or_default();
        let sum = sums.entry(incident.service.clone()).or_default();
        times.incidents += 1;
        let opened = incident.opened_at.as_second();
        if let Some(at) = incident.response.as_ref().and_then(|r| r.acknowledged_at) {
            times.acknowledged += 1;
            sum.0 += at.as_second().saturating_sub(opened).max(0) as f64;
        }
        if let Some(at) = incident.resolved_at {
            times.resolved += 1;
            sum.1 += at.as_second().saturating_sub(opened).max(0) as f64;
        }
    }
    for (service, times) in &mut out.response {
        let (ack, res) = sums.get(service).copied().unwrap_or_default();
        times.mtta_secs = mean(ack, times.acknowledged);
        times.mttr_secs = mean(res, times.resolved);
    }
    for alert in &alerts {
        let bucket = bucket_of(alert.window_end, hourly);
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
    for series in [&mut out.incidents, &mut out.alerts, &mut out.alert_lines] {
        fill_gaps(series, hourly);
        keep_newest(series);
    }
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
    out
}

#[cfg(test)]
mod tests {
    use opsline_auth::{Role, Viewer};
    use opsline_events::Event;
    use opsline_events::logs::{Alert, Incident, IncidentResponse, IncidentStatus};
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
        add_lines(&mut out, &views, &who(&[]), Ok(received.clone()));
        assert_eq!(out.lines.len(), 3, "02:00 drawn empty: {:?}", out.lines);
        assert_eq!(out.lines["1970-01-01T01:00:00Z"].get("hdfs"), Some(&40));
        assert_eq!(out.lines["1970-01-01T03:00:00Z"].get("hdfs"), Some(&2));
        assert!(
            out.lines.values().all(|s| !s.contains_key("payroll")),
            "restricted to finance"
        );
        let mut finance = Insights::default();
        add_lines(&mut finance, &views, &who(&["finance"]), Ok(received));
        assert_eq!(finance.lines["1970-01-01T01:00:00Z"].get("payroll"), Some(&9));
        let mut down = Insights::default();
        add_lines(&mut down, &views, &who(&[]), Err("no answer".into()));
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
