//! The helpdesk queue (`/queue`): routed tickets per queue with confidence, priority, the
//! LLM summary and suggested reply when present, the linked incident, and a re-route form
//! for helpdesk agents and SREs (`POST /tickets/{id}/reroute`).

use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;
use opsline_auth::Principal;
use serde::Deserialize;

use super::html::{error_box, escape, layout, options, time};
use super::{back_to, error_page, frame, list_link, match_count, pager, redirect, visitor};
use crate::actions::RerouteRequest;
use crate::api::params;
use crate::lists::{self, TicketSummary};
use crate::query::{ListParams, encode};
use crate::state::AppState;

const PRIORITIES: [&str; 4] = ["p1", "p2", "p3", "p4"];

fn reroute_form(who: &Principal, ticket: &TicketSummary, queues: &[String], back: &str) -> String {
    if !who.may_reroute() {
        return String::new();
    }
    let choices: String = queues
        .iter()
        .filter(|q| **q != ticket.ticket.queue)
        .map(|q| format!("<option value=\"{q}\">{q}</option>", q = escape(q)))
        .collect();
    format!(
        "<form class=\"inline\" method=\"post\" action=\"/tickets/{}/reroute\"><input type=\"hidden\" name=\"back\" \
value=\"{}\"><select name=\"queue\" aria-label=\"new queue\">{choices}</select> <input type=\"text\" name=\"note\" \
size=\"10\" placeholder=\"why (optional)\" aria-label=\"note\"> <button type=\"submit\">Re-route</button></form>",
        encode(&ticket.ticket.ticket_id),
        escape(back),
    )
}

fn row(who: &Principal, ticket: &TicketSummary, queues: &[String], back: &str) -> String {
    let t = &ticket.ticket;
    let incident = t
        .incident_id
        .map(|id| format!("<a href=\"/incidents/{id}\">incident</a>"))
        .unwrap_or_else(|| "<span class=\"muted\">none</span>".to_owned());
    let reply = t
        .suggested_reply
        .as_deref()
        .map(|r| {
            format!(
                "<details><summary>suggested reply</summary><pre>{}</pre></details>",
                escape(r)
            )
        })
        .unwrap_or_default();
    format!(
        "<tr class=\"ticket\" data-id=\"{id}\"><td>{id}<br><span class=\"muted\">rev {rev} · {routed}</span></td><td>{queue}</td>\
<td>{priority}</td><td>{confidence:.2}</td><td>{summary}{reply}<div class=\"muted\">{reason}</div></td><td>{incident}</td>\
<td>{form}</td></tr>\n",
        id = escape(&t.ticket_id),
        rev = t.revision,
        routed = time(ticket.routed_at),
        queue = escape(&t.queue),
        priority = lists::priority_name(t.priority).to_uppercase(),
        confidence = t.confidence,
        summary = escape(t.summary.as_deref().unwrap_or("")),
        reason = escape(&t.reason),
        form = reroute_form(who, ticket, queues, back),
    )
}

/// `GET /queue`.
pub(super) async fn page(
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
    let queues = state.actions.known_queues();
    let (listed, counts) = {
        let views = state.views.read();
        let counts: Vec<(String, usize)> = queues
            .iter()
            .map(|q| (q.clone(), views.tickets().filter(|t| t.ticket.queue == *q).count()))
            .collect();
        (lists::tickets(&views, &params, Timestamp::now()), counts)
    };
    let mut body = String::from("<p class=\"tabs\">");
    let all_class = if params.queue.is_none() {
        " class=\"current\""
    } else {
        ""
    };
    body.push_str(&format!("<a href=\"/queue\"{all_class}>all queues</a>"));
    for (queue, count) in &counts {
        let class = if params.queue.as_deref() == Some(queue.as_str()) {
            " class=\"current\""
        } else {
            ""
        };
        body.push_str(&format!(
            "<a href=\"/queue?queue={}\"{class}>{} ({count})</a>",
            encode(queue),
            escape(queue)
        ));
    }
    body.push_str("</p>");
    body.push_str(&format!(
        "<form class=\"filters\" method=\"get\" action=\"/queue\"><input type=\"hidden\" name=\"queue\" value=\"{}\">\
<label>Priority <select name=\"priority\">{}</select></label><label>Since <input type=\"text\" name=\"since\" size=\"12\" \
value=\"{}\"></label><button type=\"submit\">Filter</button></form>",
        escape(params.queue.as_deref().unwrap_or("")),
        options(&PRIORITIES, params.priority.as_deref()),
        escape(params.since.as_deref().unwrap_or("")),
    ));
    let page = match listed {
        Ok(page) => page,
        Err(error) => {
            body.push_str(&error_box(&error.to_string()));
            return (
                error.status(),
                Html(layout("Helpdesk queue", frame(&state, &who, "queue"), &body)),
            )
                .into_response();
        }
    };
    let back = list_link("/queue", &params);
    body.push_str(&match_count(page.total, "ticket"));
    body.push_str(
        "<table class=\"tickets\"><thead><tr><th>Ticket</th><th>Queue</th><th>Priority</th><th>Confidence</th>\
<th>Summary</th><th>Incident</th><th>Re-route</th></tr></thead><tbody>\n",
    );
    for ticket in &page.items {
        body.push_str(&row(&who, ticket, &queues, &back));
    }
    body.push_str("</tbody></table>");
    body.push_str(&pager("/queue", &params, page.offset, page.limit, page.next_offset));
    Html(layout("Helpdesk queue", frame(&state, &who, "queue"), &body)).into_response()
}

/// Body of the re-route form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RerouteForm {
    queue: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /tickets/{id}/reroute`.
pub(super) async fn reroute(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RerouteForm>,
) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return super::sign_in_page(
            axum::http::StatusCode::UNAUTHORIZED,
            Some("Sign in with your API token."),
        );
    };
    let request = RerouteRequest {
        queue: form.queue,
        note: form.note,
    };
    match state.actions.reroute(&who, &id, request).await {
        Ok(_) => redirect(&back_to(form.back.as_deref(), "/queue"), None),
        Err(error) => error_page(&state, &who, &error),
    }
}
