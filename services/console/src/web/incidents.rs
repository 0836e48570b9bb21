//! The incidents home (`/`: open and recent incidents with severity, service, age, duration,
//! why they were opened, linked tickets, and the action buttons) and the incident page
//! (`/incidents/{id}`: the timeline of its alerts with sample lines, cited raw-log offsets and
//! the runbook of each alert kind,
//! linked tickets, the postmortem link), and the action forms they post.

use std::collections::BTreeSet;

use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;
use opsline_auth::Principal;
use opsline_events::logs::{Alert, PostmortemChoice};
use serde::Deserialize;
use uuid::Uuid;

use super::html::{age, duration, error_box, escape, layout, options, sev_badge, time};
use super::{back_to, error_page, frame, list_link, match_count, pager, redirect, visitor};
use crate::actions::IncidentAction;
use crate::api::params;
use crate::lists::{self, IncidentDetail, IncidentSummary};
use crate::query::ListParams;
use crate::state::AppState;

const SEVERITIES: [&str; 7] = ["sev1", "sev2", "sev3", "sev4", "critical", "warning", "info"];
const STATUSES: [&str; 4] = ["open", "unacknowledged", "acknowledged", "resolved"];

/// The action buttons of an incident for `who` (none for those who may not act).
fn action_forms(who: &Principal, incident: &IncidentSummary, back: &str) -> String {
    if !who.may_act_on_incidents() {
        return String::new();
    }
    let id = incident.id;
    let back = escape(back);
    let button = |action: &str, label: &str, class: &str| {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/incidents/{id}/{action}\">\
<input type=\"hidden\" name=\"back\" value=\"{back}\"><button type=\"submit\" name=\"do\" value=\"{action}\"{class}>{label}</button></form>"
        )
    };
    let mut out = String::new();
    let open = incident.status == "open";
    if open && incident.acknowledged_by.is_none() {
        out.push_str(&button("acknowledge", "Acknowledge", " class=\"primary\""));
    }
    if open {
        out.push_str(&format!(
            "<form class=\"inline\" method=\"post\" action=\"/incidents/{id}/assign\">\
<input type=\"hidden\" name=\"back\" value=\"{back}\"><input type=\"text\" name=\"assignee\" size=\"8\" \
placeholder=\"person\" aria-label=\"assignee\" required><button type=\"submit\" name=\"do\" value=\"assign\">Assign</button></form>"
        ));
        out.push_str(&button("resolve", "Resolve", ""));
    }
    let declared = incident
        .postmortem
        .as_ref()
        .is_some_and(|p| p.decision == PostmortemChoice::Draft && p.decided_by != "policy");
    if !declared {
        out.push_str(&button("postmortem", "Declare postmortem", ""));
    }
    out
}

fn status_cell(incident: &IncidentSummary) -> String {
    let mut out = format!("<span class=\"status-{s}\">{s}</span>", s = escape(&incident.status));
    if let Some(by) = &incident.acknowledged_by {
        out.push_str(&format!("<br><span class=\"muted\">acked by {}</span>", escape(by)));
    }
    if let Some(who) = &incident.assignee {
        out.push_str(&format!("<br><span class=\"muted\">assigned to {}</span>", escape(who)));
    }
    out
}

fn why_cell(incident: &IncidentSummary) -> String {
    let mut out = format!("<div class=\"why\">{}</div>", escape(&incident.why));
    if let (Some(score), Some(p)) = (incident.score, &incident.parts) {
        out.push_str(&format!(
            "<div class=\"parts\">score {score:.1}: level {:.1} · wording {:.1} · rarity {:.1} · burst {:.1} · \
breadth {:.1} · persistence {:.1} · tickets {:.1}</div>",
            p.level, p.wording, p.rarity, p.burst, p.breadth, p.persistence, p.tickets
        ));
    }
    out
}

fn tickets_cell(incident: &IncidentSummary) -> String {
    if incident.ticket_count == 0 && incident.tickets.is_empty() {
        return "<span class=\"muted\">none</span>".to_owned();
    }
    let links: Vec<String> = incident
        .tickets
        .iter()
        .map(|t| format!("<a href=\"/queue?incident={}\">{}</a>", incident.id, escape(t)))
        .collect();
    format!(
        "{} <span class=\"muted\">({} in all)</span>",
        links.join(", "),
        incident.ticket_count
    )
}

fn filter_form(params: &ListParams, services: &[String]) -> String {
    let services: Vec<&str> = services.iter().map(String::as_str).collect();
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/\">\
<label>Service <select name=\"service\">{}</select></label>\
<label>Severity <select name=\"severity\">{}</select></label>\
<label>Status <select name=\"status\">{}</select></label>\
<label>Since <input type=\"text\" name=\"since\" size=\"12\" placeholder=\"24h or RFC 3339\" value=\"{}\"></label>\
<label>Until <input type=\"text\" name=\"until\" size=\"12\" value=\"{}\"></label>\
<button type=\"submit\">Filter</button></form>",
        options(&services, params.service.as_deref()),
        options(&SEVERITIES, params.severity.as_deref()),
        options(&STATUSES, params.status.as_deref()),
        escape(params.since.as_deref().unwrap_or("")),
        escape(params.until.as_deref().unwrap_or("")),
    )
}

/// When Opsline opened an incident and how long ago, or that the record does not say.
fn detected(now: Timestamp, at: Option<Timestamp>) -> String {
    match at {
        Some(at) => format!("{} ({} ago)", time(at), age(now, Some(at))),
        None => "not recorded".to_owned(),
    }
}

/// `GET /`: the incidents home.
pub(super) async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let params = match params(query) {
        Ok(params) => params,
        Err(error) => return (error.status(), Html(error_box(&error.to_string()))).into_response(),
    };
    let who = match visitor(&state, &headers) {
        Ok(who) => who,
        Err(response) => return *response,
    };
    let now = Timestamp::now();
    let (listed, services) = {
        let views = state.views.read();
        let services: BTreeSet<String> = views
            .incidents()
            .filter(|i| lists::may_see(&who, i))
            .map(|i| i.service.clone())
            .collect();
        (lists::incidents(&views, &who, &params, now), services)
    };
    let services: Vec<String> = services.into_iter().collect();
    let mut body = filter_form(&params, &services);
    let page = match listed {
        Ok(page) => page,
        Err(error) => {
            body.push_str(&error_box(&error.to_string()));
            return (
                error.status(),
                Html(layout("Incidents", frame(&state, &who, "incidents"), &body)),
            )
                .into_response();
        }
    };
    let back = list_link("/", &params);
    body.push_str(&match_count(page.total, "incident"));
    body.push_str(
        "<table class=\"incidents\"><thead><tr><th>Severity</th><th>Service</th><th>Incident</th><th>Status</th>\
<th title=\"since Opsline opened it\">Age</th><th title=\"in log time\">Duration</th><th>Why it was opened</th><th>Tickets</th><th>Actions</th></tr></thead><tbody>\n",
    );
    for incident in &page.items {
        body.push_str(&format!(
            "<tr class=\"incident\" data-id=\"{id}\"><td>{sev}</td><td>{service}</td><td><a href=\"/incidents/{id}\">{title}</a>\
<br><span class=\"muted\">log time {opened}</span></td><td>{status}</td><td>{age}</td><td>{duration}</td><td>{why}</td>\
<td>{tickets}</td><td>{actions}</td></tr>\n",
            id = incident.id,
            sev = sev_badge(incident.sev.as_deref(), &incident.severity),
            service = escape(&incident.service),
            title = escape(&incident.title),
            opened = time(incident.opened_at),
            status = status_cell(incident),
            age = age(now, incident.detected_at),
            duration = duration(incident.duration_secs),
            why = why_cell(incident),
            tickets = tickets_cell(incident),
            actions = action_forms(&who, incident, &back),
        ));
    }
    body.push_str("</tbody></table>");
    body.push_str(&pager("/", &params, page.offset, page.limit, page.next_offset));
    Html(layout("Incidents", frame(&state, &who, "incidents"), &body)).into_response()
}

/// The cited raw-log offsets of `evidence`, each a link to the record view when it is a
/// record of this installation's raw-log topic.
fn offset_links(evidence: &[opsline_events::logs::LogOffset], raw_topic: &str) -> Vec<String> {
    evidence
        .iter()
        .map(|e| {
            let text = format!("{}/{}@{}", escape(&e.topic), e.partition, e.offset);
            if e.topic == raw_topic {
                format!(
                    "<a class=\"offset\" href=\"/records/{}/{}\">{text}</a>",
                    e.partition, e.offset
                )
            } else {
                text
            }
        })
        .collect()
}

fn alert_row(alert: &Alert, raw_topic: &str, postmortem_url: &str) -> String {
    let samples: String = alert
        .sample_lines
        .iter()
        .map(|line| format!("<pre>{}</pre>", escape(line)))
        .collect();
    let mut offsets = offset_links(&alert.evidence, raw_topic);
    if let Some(source) = &alert.external {
        let name = format!("{}: {}", escape(&source.source), escape(&source.name));
        // Only http(s) links back to the source (Prometheus, Grafana); anything else is text.
        offsets.push(match source.url.as_deref() {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                format!(
                    "<a class=\"source\" href=\"{}\" rel=\"noreferrer\">{name}</a>",
                    escape(url)
                )
            }
            _ => name,
        });
    }
    let baseline = alert
        .baseline
        .map(|b| format!(" (baseline {b:.1})"))
        .unwrap_or_default();
    format!(
        "<tr class=\"alert\" id=\"alert-{}\"><td>{}<br><span class=\"muted\">from {}</span></td><td>{}<br>{}</td><td>{}</td>\
<td><code>{}</code>{}</td><td>{}{}</td><td class=\"muted\">{}</td></tr>\n",
        alert.alert_id,
        time(alert.window_end),
        time(alert.window_start),
        escape(alert.kind.as_str()),
        super::runbooks::runbook_link(alert.kind, postmortem_url),
        escape(alert.severity.as_str()),
        escape(&alert.template),
        samples,
        alert.count,
        baseline,
        offsets.join("<br>"),
    )
}

/// The "similar postmortems and runbooks" part of the incident page.
fn similar_html(state: &AppState, similar: &Result<Vec<crate::similar::SimilarDoc>, String>) -> String {
    let mut out = String::from("<h2>Similar postmortems and runbooks</h2>");
    match similar {
        Ok(docs) if docs.is_empty() => out.push_str("<p class=\"muted\">Nothing similar found.</p>"),
        Ok(docs) => {
            out.push_str("<ul class=\"similar\">");
            for doc in docs {
                out.push_str(&format!(
                    "<li><a href=\"{}/postmortems/{}\">{}</a> <span class=\"muted\">{} · {}</span></li>",
                    escape(&state.postmortem_url),
                    escape(&crate::query::encode(&doc.id)),
                    escape(&doc.title),
                    escape(&doc.kind),
                    escape(&doc.status)
                ));
            }
            out.push_str("</ul>");
        }
        Err(why) => out.push_str(&format!("<p class=\"muted\">Not available: {}.</p>", escape(why))),
    }
    out
}

fn detail_body(state: &AppState, who: &Principal, detail: &IncidentDetail) -> String {
    let incident = &detail.incident;
    let back = format!("/incidents/{}", incident.id);
    let mut body = format!(
        "<p>{} {}</p><dl><dt>Service</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd><dt>Opened by Opsline</dt><dd>{}</dd>\
<dt>Opened (log time)</dt><dd>{}</dd><dt>Last alert (log time)</dt><dd>{}</dd><dt>Duration (log time)</dt><dd>{}</dd>\
<dt>Why it was opened</dt><dd>{}</dd>",
        sev_badge(incident.sev.as_deref(), &incident.severity),
        action_forms(who, incident, &back),
        escape(&incident.service),
        status_cell(incident),
        detected(Timestamp::now(), incident.detected_at),
        time(incident.opened_at),
        time(incident.updated_at),
        duration(incident.duration_secs),
        why_cell(incident),
    );
    if let (Some(at), Some(by)) = (incident.resolved_at, &incident.resolved_by) {
        body.push_str(&format!("<dt>Resolved</dt><dd>{} by {}</dd>", time(at), escape(by)));
    }
    if let Some(team) = &incident.restricted_team {
        body.push_str(&format!("<dt>Restricted to</dt><dd>{}</dd>", escape(team)));
    }
    let postmortem = match &incident.postmortem {
        Some(decision) if decision.decision == PostmortemChoice::Draft => {
            let link = if state.postmortem_url.is_empty() {
                String::new()
            } else {
                format!(
                    " · <a class=\"postmortem\" href=\"{}/postmortems/{}\">the postmortem</a>{}",
                    escape(state.postmortem_url.trim_end_matches('/')),
                    incident.postmortem_id,
                    if incident.status == "open" {
                        " (drafted when it resolves)"
                    } else {
                        ""
                    }
                )
            };
            format!(
                "wanted: {} (by {}){link}",
                escape(&decision.reason),
                escape(&decision.decided_by)
            )
        }
        Some(decision) => format!("not needed: {}", escape(&decision.reason)),
        None => "no decision yet".to_owned(),
    };
    body.push_str(&format!("<dt>Postmortem</dt><dd>{postmortem}</dd></dl>"));
    body.push_str(&format!(
        "<h2>Timeline</h2><p class=\"muted\">{} alert{} kept of {}; sample lines are redacted by the log service.</p>",
        detail.alerts.len(),
        if detail.alerts.len() == 1 { "" } else { "s" },
        incident.alert_count
    ));
    body.push_str(
        "<table class=\"timeline\"><thead><tr><th>When</th><th>Kind</th><th>Severity</th><th>Template and sample lines</th>\
<th>Lines</th><th>Raw-log offsets</th></tr></thead><tbody>",
    );
    for alert in &detail.alerts {
        body.push_str(&alert_row(alert, &state.records.raw_topic, &state.postmortem_url));
    }
    body.push_str("</tbody></table><h2>Linked tickets</h2>");
    if detail.tickets.is_empty() {
        body.push_str("<p class=\"muted\">No routed ticket is linked.</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th>Ticket</th><th>Queue</th><th>Priority</th><th>Summary</th></tr></thead><tbody>",
        );
        for t in &detail.tickets {
            body.push_str(&format!(
                "<tr><td><a href=\"/queue?incident={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                incident.id,
                escape(&t.ticket.ticket_id),
                escape(&t.ticket.queue),
                lists::priority_name(t.ticket.priority).to_uppercase(),
                escape(t.ticket.summary.as_deref().unwrap_or("")),
            ));
        }
        body.push_str("</tbody></table>");
    }
    body
}

/// `GET /incidents/{id}`.
pub(super) async fn page(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let who = match visitor(&state, &headers) {
        Ok(who) => who,
        Err(response) => return *response,
    };
    let detail = id
        .parse::<Uuid>()
        .ok()
        .and_then(|id| lists::incident(&state.views.read(), &who, id));
    match detail {
        Some(detail) => {
            let mut body = detail_body(&state, &who, &detail);
            let incident = state.views.read().incident(detail.incident.id).cloned();
            if let Some(incident) = incident {
                let found = crate::similar::similar(
                    &state.actions.client,
                    &state.postmortem_url,
                    state.presented_token(&headers).as_deref(),
                    &incident,
                )
                .await;
                body.push_str(&similar_html(&state, &found));
            }
            Html(layout(&detail.incident.title, frame(&state, &who, "incidents"), &body)).into_response()
        }
        None => error_page(
            &state,
            &who,
            &crate::error::ConsoleError::NotFound(format!("incident {id}, or you may not see it")),
        ),
    }
}

/// Body of an incident action form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ActionForm {
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /incidents/{id}/{action}`: does the action, then back to the page it came from.
pub(super) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return super::sign_in_page(
            axum::http::StatusCode::UNAUTHORIZED,
            Some("Sign in with your API token."),
        );
    };
    let outcome = match (
        id.parse::<Uuid>(),
        IncidentAction::parse(&action, form.assignee.as_deref()),
    ) {
        (Ok(uuid), Ok(action)) => state.actions.on_incident(&who, uuid, action).await.map(|_| uuid),
        (Err(_), _) => Err(crate::error::ConsoleError::BadRequest(format!(
            "{id:?} is not an incident id"
        ))),
        (_, Err(error)) => Err(error),
    };
    match outcome {
        Ok(uuid) => redirect(&back_to(form.back.as_deref(), &format!("/incidents/{uuid}")), None),
        Err(error) => error_page(&state, &who, &error),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opsline_events::Event;
    use opsline_events::logs::{AlertKind, ExternalSource};

    use super::*;

    #[test]
    fn an_external_alert_links_back_to_its_source_and_only_over_http() {
        let mut alert = Alert::sample();
        alert.kind = AlertKind::External;
        alert.external = Some(ExternalSource {
            source: "alertmanager".into(),
            name: "Disk<Full>".into(),
            fingerprint: "ab".into(),
            url: Some("http://prometheus:9090/graph?g0.expr=a&b=1".into()),
        });
        let row = alert_row(&alert, "raw", "http://pm");
        assert!(
            row.contains("<a class=\"source\" href=\"http://prometheus:9090/graph?g0.expr=a&amp;b=1\" rel=\"noreferrer\">alertmanager: Disk&lt;Full&gt;</a>"),
            "{row}"
        );
        alert.external.as_mut().unwrap().url = Some("javascript:alert(1)".into());
        let row = alert_row(&alert, "raw", "http://pm");
        assert!(
            !row.contains("javascript") && row.contains("alertmanager: Disk&lt;Full&gt;"),
            "{row}"
        );
        assert!(
            !row.contains("class=\"runbook\""),
            "an external alert has no runbook here"
        );
        alert.kind = AlertKind::RateBurst;
        alert.external = None;
        let row = alert_row(&alert, "raw", "http://pm");
        assert!(
            row.contains("<a class=\"runbook\" href=\"http://pm/runbooks/alert-rate-burst.md\">runbook</a>"),
            "{row}"
        );
    }
}
