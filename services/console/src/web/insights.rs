//! The insights page (`/insights`): incidents and alerts over time per service, MTTA and MTTR
//! per service, routed tickets per queue and priority, as server-drawn SVG.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};

use super::charts::{bars, stacked_bars};
use super::html::{duration, layout};
use super::{frame, visitor};
use crate::insights::insights;
use crate::query::ListParams;
use crate::state::AppState;

/// `GET /insights`.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let who = match visitor(&state, &headers, &params, "/insights") {
        Ok(who) => who,
        Err(response) => return *response,
    };
    let data = insights(&state.views.read(), &who);
    let per = format!("per {} (event time)", data.bucket);
    let mut body = String::new();
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
        "Mean time to acknowledge (MTTA), by service (incidents counted)",
        &mtta,
        secs,
    ));
    body.push_str(&bars(
        "Mean time to resolve (MTTR), by service (incidents counted)",
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
    body.push_str("<p class=\"muted\">The same numbers as JSON: <code>GET /v1/insights</code>.</p>");
    Html(layout("Insights", frame(&state, &who, "insights"), &body)).into_response()
}
