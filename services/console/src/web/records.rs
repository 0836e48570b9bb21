//! The record view page, `/records/{partition}/{offset}`: one cited raw-log record read back
//! from Kafka and redacted (see [`crate::records`]), with the incidents and alerts that cite it.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use jiff::Timestamp;

use super::html::{escape, layout, time};
use super::{error_page, frame};
use crate::records::citers;
use crate::state::AppState;

/// `GET /records/{partition}/{offset}`.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((partition, offset)): Path<(i32, i64)>,
) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return super::sign_in_page(
            axum::http::StatusCode::UNAUTHORIZED,
            Some("Sign in with your API token."),
        );
    };
    let cited = citers(&state.views.read(), &who, &state.records.raw_topic, partition, offset);
    let record = match state.records.cited(cited, partition, offset).await {
        Ok(record) => record,
        Err(error) => return error_page(&state, &who, &error),
    };
    let mut body = format!(
        "<p class=\"muted\">Read back from <code>{}</code>, partition {}, offset {}; sensitive values are redacted.</p>\
<pre class=\"record\">{}</pre><dl><dt>Service</dt><dd>{}</dd><dt>Source</dt><dd>{}</dd>",
        escape(&record.topic),
        record.partition,
        record.offset,
        escape(&record.line),
        escape(&record.service),
        escape(&record.source),
    );
    if let Some(at) = record.timestamp {
        body.push_str(&format!("<dt>Client time</dt><dd>{}</dd>", time(at)));
    }
    if let Some(at) = record.stored_ms.and_then(|ms| Timestamp::from_millisecond(ms).ok()) {
        body.push_str(&format!("<dt>Stored</dt><dd>{}</dd>", time(at)));
    }
    for (key, value) in &record.attributes {
        body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(key), escape(value)));
    }
    body.push_str("<dt>Cited by</dt><dd>");
    let mut links: Vec<String> = record
        .incidents
        .iter()
        .map(|id| format!("<a href=\"/incidents/{id}\">incident {id}</a>"))
        .collect();
    let views = state.views.read();
    for alert in &record.alerts {
        let incident = views
            .incidents()
            .find(|i| i.alert_ids.contains(alert))
            .map(|i| i.incident_id);
        links.push(match incident {
            Some(incident) => format!("<a href=\"/incidents/{incident}#alert-{alert}\">alert {alert}</a>"),
            None => format!("alert {alert}"),
        });
    }
    drop(views);
    body.push_str(&links.join("<br>"));
    body.push_str("</dd></dl>");
    let title = format!("Raw-log record {partition}@{offset}");
    Html(layout(&title, frame(&state, &who, "incidents"), &body)).into_response()
}
