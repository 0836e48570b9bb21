//! The insights page (`/insights`): log lines received, incidents and alerts over time per service, MTTA and MTTR
//! per service, routed tickets per queue and priority, and the automation (LLM calls, latency,
//! cache hit rate and cost per use case, self-service outcomes and deflection), as server-drawn SVG.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};

use super::charts::{bars, stacked_bars};
use super::html::{duration, escape, layout};
use super::{frame, visitor};
use crate::insights::gather;
use crate::state::AppState;
use crate::usage::Report;

/// `GET /insights`.
pub(super) async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = match visitor(&state, &headers) {
        Ok(who) => who,
        Err(response) => return *response,
    };
    let data = gather(&state, &who).await;
    let per = format!("per {} (event time)", data.bucket);
    let mut body = String::new();
    match &data.lines_unavailable {
        Some(why) => body.push_str(&format!(
            "<figure class=\"chart\"><figcaption>Log lines received {per}, by service</figcaption>\
<p class=\"muted\">Not available: {}.</p></figure>",
            escape(why)
        )),
        None => body.push_str(&stacked_bars(
            &format!("Log lines received {per}, by service"),
            &data.lines,
        )),
    }
    body.push_str(&stacked_bars(
        &format!("Incidents opened {per}, by service"),
        &data.incidents,
    ));
    body.push_str(&stacked_bars(&format!("Alerts {per}, by service"), &data.alerts));
    body.push_str(&stacked_bars(
        &format!("Alerted log lines {per}, by service"),
        &data.alert_lines,
    ));
    let mtta: Vec<(String, f64)> = data
        .response
        .iter()
        .filter_map(|(s, t)| t.mtta_secs.map(|v| (format!("{s} ({})", t.acknowledged), v)))
        .collect();
    let mttr: Vec<(String, f64)> = data
        .response
        .iter()
        .filter_map(|(s, t)| t.mttr_secs.map(|v| (format!("{s} ({})", t.resolved), v)))
        .collect();
    let secs = |v: f64| duration(v.round() as i64);
    body.push_str(&bars(
        "Mean time to acknowledge (MTTA), by service (incidents counted; from when Opsline opened them)",
        &mtta,
        secs,
    ));
    body.push_str(&bars(
        "Mean time to resolve (MTTR), by service (incidents counted; a person's resolution from when Opsline opened them, the quiet period's in log time)",
        &mttr,
        secs,
    ));
    let queues: Vec<(String, f64)> = data
        .tickets_per_queue
        .iter()
        .map(|(q, n)| (q.clone(), *n as f64))
        .collect();
    let priorities: Vec<(String, f64)> = data
        .tickets_per_priority
        .iter()
        .map(|(p, n)| (p.to_uppercase(), *n as f64))
        .collect();
    let count = |v: f64| format!("{v:.0}");
    body.push_str(&bars("Routed tickets per queue", &queues, count));
    body.push_str(&bars(
        &format!("Routed tickets per priority ({} re-routed by a person)", data.rerouted),
        &priorities,
        count,
    ));
    body.push_str(&automation_charts(&data.automation));
    body.push_str("<p class=\"muted\">The same numbers as JSON: <code>GET /v1/insights</code>.</p>");
    Html(layout("Insights", frame(&state, &who, "insights"), &body)).into_response()
}

/// The `opsline report` figures as charts: triaged tickets by disposition, LLM calls, latency p50/p95, cache hit rate and cost
/// per use case, and the self-service outcomes with the deflection and estimated savings.
pub(super) fn automation_charts(report: &Report) -> String {
    let rows = |value: &dyn Fn(&crate::usage::UseCaseReport) -> Option<f64>| -> Vec<(String, f64)> {
        report
            .use_cases
            .iter()
            .filter_map(|r| value(r).map(|v| (r.use_case.clone(), v)))
            .collect()
    };
    let calls = rows(&|r| (r.llm_calls > 0).then_some(r.llm_calls as f64));
    let mut latency = Vec::new();
    for r in &report.use_cases {
        for (name, value) in [("p50", r.latency_p50_ms), ("p95", r.latency_p95_ms)] {
            if let Some(ms) = value {
                latency.push((format!("{} {name}", r.use_case), ms as f64));
            }
        }
    }
    let hit_rate = rows(&|r| (r.llm_calls > 0).then_some(r.cache_hit_rate * 100.0));
    let cost = rows(&|r| (r.llm_calls > 0).then_some(r.llm_cost));
    let dispositions: Vec<(String, f64)> = report
        .dispositions
        .iter()
        .map(|(d, n)| (d.clone(), *n as f64))
        .collect();
    let mut out = String::new();
    out.push_str(&bars(
        &format!("Triaged tickets by disposition ({} triaged)", report.tickets_triaged),
        &dispositions,
        |v| format!("{v:.0}"),
    ));
    out.push_str(&bars("LLM calls per use case (cached included)", &calls, |v| {
        format!("{v:.0}")
    }));
    out.push_str(&bars(
        "LLM latency per use case, p50 and p95 (calls the model answered; the wait in the scheduler included)",
        &latency,
        |ms| format!("{:.1} s", ms / 1000.0),
    ));
    out.push_str(&bars("LLM cache hit rate per use case", &hit_rate, |v| {
        format!("{v:.1} %")
    }));
    out.push_str(&bars(
        &format!("Estimated LLM cost per use case (total {:.4})", report.total_llm_cost),
        &cost,
        |v| format!("{v:.4}"),
    ));
    let o = report.self_service_outcomes.unwrap_or_default();
    let outcomes: Vec<(String, f64)> = [
        ("completed (deflected)", o.completed),
        ("challenged", o.challenged),
        ("refused", o.refused),
        ("refused at the gateway", o.refused_at_gateway),
        ("failed", o.failed),
        ("other", o.other),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| (name.to_owned(), n as f64))
    .collect();
    out.push_str(&bars(
        &format!(
            "Self-service outcomes ({} tickets deflected, estimated savings {:.2})",
            o.completed, report.total_savings
        ),
        &outcomes,
        |v| format!("{v:.0}"),
    ));
    out
}

#[cfg(test)]
mod tests {
    use opsline_events::Event;
    use opsline_events::ops::{LlmUsage, SelfServiceAction};

    use super::*;
    use crate::usage::aggregate;

    #[test]
    fn automation_charts_draw_each_figure() {
        let call = |latency_ms: u64, cache_hit: bool| LlmUsage {
            task: "ticket_enrichment".into(),
            latency_ms,
            cache_hit,
            cost: 0.25,
            outcome: "ok".into(),
            ..LlmUsage::sample()
        };
        let done = SelfServiceAction {
            action_id: uuid::Uuid::now_v7(),
            action: "password_reset".into(),
            outcome: "succeeded".into(),
            cost_saved: 0.0,
            ..SelfServiceAction::sample()
        };
        let report = aggregate(&[call(2_000, false), call(1, true)], &[], &[], &[done], 10.0);
        let html = automation_charts(&report);
        assert_eq!(html.matches("<figure").count(), 6);
        assert!(
            html.contains("ticket_enrichment p50") && html.contains("ticket_enrichment p95"),
            "{html}"
        );
        assert!(html.contains(">2.0 s<"), "{html}");
        assert!(html.contains(">50.0 %<"), "{html}");
        assert!(html.contains("1 tickets deflected, estimated savings 10.00"), "{html}");
        assert!(html.contains(">completed (deflected)<"), "{html}");
        assert!(automation_charts(&Report::default()).contains("nothing yet"));
    }
}
