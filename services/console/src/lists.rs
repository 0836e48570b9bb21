//! What the lists and detail views show, filtered for one caller: the JSON shapes of the
//! APIs (and of `opsline incidents --json`), built from the views.
//!
//! Access: an incident restricted to a team (and the alerts of its service) is shown only
//! to that team's members, whatever the role; tickets are shown to every role.

use jiff::Timestamp;
use opsline_auth::Principal;
use opsline_events::logs::{Alert, Incident, IncidentStatus, PostmortemDecision, ScoreParts};
use opsline_events::tickets::RoutedTicket;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ConsoleError;
use crate::query::{ListParams, Page, matches};
use crate::views::{TicketEntry, Views};

/// One incident in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    /// Incident id.
    pub id: Uuid,
    /// The affected service.
    pub service: String,
    /// Short title.
    pub title: String,
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// `sev1`..`sev4` (absent on records from before the attention score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sev: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    /// When it opened (event time: the log's own clock).
    pub opened_at: Timestamp,
    /// When Opsline opened it (processing time; its age counts from here). Absent on records
    /// from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<Timestamp>,
    /// When an alert last joined it.
    pub updated_at: Timestamp,
    /// When it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// Who or what resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// Open: until the last alert; resolved: until resolution (seconds of event time).
    pub duration_secs: i64,
    /// Why it was opened, in words (empty on old records).
    pub why: String,
    /// The attention score and its parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The parts of the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<ScoreParts>,
    /// Who acknowledged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// Who it is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Alerts in it.
    pub alert_count: u64,
    /// Linked ticket ids (the first ones) and how many in all.
    pub tickets: Vec<String>,
    /// Linked tickets in all.
    pub ticket_count: u64,
    /// The team it is restricted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_team: Option<String>,
    /// The postmortem policy's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmortem: Option<PostmortemDecision>,
    /// The postmortem's id (drafted when the policy or a person wants one and it resolves).
    pub postmortem_id: Uuid,
}

impl IncidentSummary {
    /// The summary of `incident`.
    pub fn of(incident: &Incident) -> Self {
        let attention = incident.attention.as_ref();
        let response = incident.response.as_ref();
        let end = incident.resolved_at.unwrap_or(incident.updated_at);
        let mut tickets = attention.map(|a| a.tickets.clone()).unwrap_or_default();
        tickets.dedup();
        Self {
            id: incident.incident_id,
            service: incident.service.clone(),
            title: incident.title.clone(),
            severity: incident.severity.as_str().to_owned(),
            sev: attention.map(|a| a.sev.as_str().to_owned()),
            status: status_name(incident.status).to_owned(),
            opened_at: incident.opened_at,
            detected_at: incident.detected_at,
            updated_at: incident.updated_at,
            resolved_at: incident.resolved_at,
            resolved_by: incident.resolved_by.clone(),
            duration_secs: end.as_second().saturating_sub(incident.opened_at.as_second()).max(0),
            why: attention.map(|a| a.why.clone()).unwrap_or_default(),
            score: attention.map(|a| a.score),
            parts: attention.map(|a| a.parts.clone()),
            acknowledged_by: response.and_then(|r| r.acknowledged_by.clone()),
            assignee: response.and_then(|r| r.assignee.clone()),
            alert_count: attention.map_or(incident.alert_ids.len() as u64, |a| a.alert_count),
            ticket_count: attention.map_or(0, |a| a.ticket_count),
            tickets,
            restricted_team: incident.restricted_team.clone(),
            postmortem: incident.postmortem.clone(),
            postmortem_id: opsline_events::ops::postmortem_id(incident.incident_id),
        }
    }
}

/// `open` or `resolved`.
pub fn status_name(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Open => "open",
        IncidentStatus::Resolved => "resolved",
    }
}

/// A routed ticket as listed: its highest revision and when it was routed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketSummary {
    /// The routed ticket (highest revision).
    #[serde(flatten)]
    pub ticket: RoutedTicket,
    /// When it was first routed.
    pub routed_at: Timestamp,
    /// When its latest revision was produced.
    pub updated_at: Timestamp,
}

impl TicketSummary {
    /// The summary of a kept ticket.
    pub fn of(entry: &TicketEntry) -> Self {
        Self {
            ticket: entry.ticket.clone(),
            routed_at: entry.routed_at,
            updated_at: entry.updated_at,
        }
    }
}

/// One incident with its evidence, for the incident page and `GET /v1/incidents/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    /// The summary.
    pub incident: IncidentSummary,
    /// The whole record as last published.
    pub record: Incident,
    /// Its alerts still kept, oldest first (sample lines redacted by the log service).
    pub alerts: Vec<Alert>,
    /// Its linked tickets.
    pub tickets: Vec<TicketSummary>,
}

/// Whether `who` may see incident `incident`.
pub fn may_see(who: &Principal, incident: &Incident) -> bool {
    who.may_see_team(incident.restricted_team.as_deref())
}

fn severity_matches(filter: Option<&str>, incident: &Incident) -> bool {
    let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return true;
    };
    let level = incident.attention.as_ref().map(|a| a.sev.as_str());
    filter.eq_ignore_ascii_case(incident.severity.as_str()) || level.is_some_and(|l| filter.eq_ignore_ascii_case(l))
}

fn status_matches(filter: Option<&str>, incident: &Incident) -> Result<bool, ConsoleError> {
    let acknowledged = incident.response.as_ref().is_some_and(|r| r.acknowledged_by.is_some());
    let open = incident.status == IncidentStatus::Open;
    Ok(match filter.map(str::trim).unwrap_or("") {
        "" => true,
        "open" => open,
        "resolved" => !open,
        "acknowledged" => open && acknowledged,
        "unacknowledged" => open && !acknowledged,
        other => {
            return Err(ConsoleError::BadRequest(format!(
                "status {other:?}: use open, acknowledged, unacknowledged or resolved"
            )));
        }
    })
}

/// The incidents `who` may see that match `params`: open first, then by level (sev1 first),
/// then newest first.
pub fn incidents(
    views: &Views,
    who: &Principal,
    params: &ListParams,
    now: Timestamp,
) -> Result<Page<IncidentSummary>, ConsoleError> {
    let window = params.window(now)?;
    let mut chosen: Vec<&Incident> = Vec::new();
    for incident in views.incidents() {
        if may_see(who, incident)
            && matches(params.service.as_deref(), &incident.service)
            && severity_matches(params.severity.as_deref(), incident)
            && status_matches(params.status.as_deref(), incident)?
            && window.contains(incident.opened_at)
        {
            chosen.push(incident);
        }
    }
    chosen.sort_by(|a, b| {
        let rank = |i: &Incident| {
            (
                i.status != IncidentStatus::Open,
                i.attention.as_ref().map(|a| a.sev),
                std::cmp::Reverse(i.severity),
            )
        };
        rank(a)
            .cmp(&rank(b))
            .then(b.opened_at.cmp(&a.opened_at))
            .then(a.incident_id.cmp(&b.incident_id))
    });
    let all = chosen.into_iter().map(|i| with_view_tickets(views, i)).collect();
    Ok(Page::of(all, params.page()))
}

/// The summary of `incident` with the routed tickets the console saw linked to it added to
/// those the incident record lists.
fn with_view_tickets(views: &Views, incident: &Incident) -> IncidentSummary {
    let mut summary = IncidentSummary::of(incident);
    for entry in views.tickets_of(incident) {
        if !summary.tickets.contains(&entry.ticket.ticket_id) {
            summary.tickets.push(entry.ticket.ticket_id.clone());
        }
    }
    summary.ticket_count = summary.ticket_count.max(summary.tickets.len() as u64);
    summary
}

/// Incident `id` with its alerts and tickets, if `who` may see it.
pub fn incident(views: &Views, who: &Principal, id: Uuid) -> Option<IncidentDetail> {
    let record = views.incident(id).filter(|i| may_see(who, i))?;
    let mut alerts: Vec<Alert> = record
        .alert_ids
        .iter()
        .filter_map(|a| views.alert(*a).cloned())
        .collect();
    alerts.sort_by_key(|a| a.window_end);
    Some(IncidentDetail {
        incident: with_view_tickets(views, record),
        record: record.clone(),
        alerts,
        tickets: views.tickets_of(record).into_iter().map(TicketSummary::of).collect(),
    })
}

/// The alerts `who` may see that match `params`, newest first.
pub fn alerts(
    views: &Views,
    who: &Principal,
    params: &ListParams,
    now: Timestamp,
) -> Result<Page<Alert>, ConsoleError> {
    let window = params.window(now)?;
    let mut chosen: Vec<&Alert> = views
        .alerts()
        .filter(|a| who.may_see_team(views.restricted_team(&a.service)))
        .filter(|a| matches(params.service.as_deref(), &a.service))
        .filter(|a| matches(params.severity.as_deref(), a.severity.as_str()))
        .filter(|a| matches(params.kind.as_deref(), a.kind.as_str()))
        .filter(|a| window.contains(a.window_end))
        .collect();
    chosen.sort_by(|a, b| b.window_end.cmp(&a.window_end).then(a.alert_id.cmp(&b.alert_id)));
    Ok(Page::of(chosen.into_iter().cloned().collect(), params.page()))
}

/// Alert `id`, if `who` may see it.
pub fn alert(views: &Views, who: &Principal, id: Uuid) -> Option<Alert> {
    views
        .alert(id)
        .filter(|a| who.may_see_team(views.restricted_team(&a.service)))
        .cloned()
}

/// The routed tickets that match `params`: by priority (P1 first), then newest first.
pub fn tickets(views: &Views, params: &ListParams, now: Timestamp) -> Result<Page<TicketSummary>, ConsoleError> {
    let window = params.window(now)?;
    let incident = match params.incident.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(
            text.parse::<Uuid>()
                .map_err(|_| ConsoleError::BadRequest(format!("incident {text:?} is not an incident id")))?,
        ),
        None => None,
    };
    let mut chosen: Vec<&TicketEntry> = views
        .tickets()
        .filter(|t| matches(params.queue.as_deref(), &t.ticket.queue))
        .filter(|t| matches(params.priority.as_deref(), priority_name(t.ticket.priority)))
        .filter(|t| incident.is_none_or(|id| t.ticket.incident_id == Some(id)))
        .filter(|t| window.contains(t.routed_at))
        .collect();
    chosen.sort_by(|a, b| {
        a.ticket
            .priority
            .cmp(&b.ticket.priority)
            .then(b.routed_at.cmp(&a.routed_at))
            .then(a.ticket.ticket_id.cmp(&b.ticket.ticket_id))
    });
    Ok(Page::of(
        chosen.into_iter().map(TicketSummary::of).collect(),
        params.page(),
    ))
}

/// `p1`..`p4`.
pub fn priority_name(priority: opsline_events::tickets::Priority) -> &'static str {
    use opsline_events::tickets::Priority;
    match priority {
        Priority::P1 => "p1",
        Priority::P2 => "p2",
        Priority::P3 => "p3",
        Priority::P4 => "p4",
    }
}

#[cfg(test)]
mod tests {
    use opsline_auth::{Role, Viewer};
    use opsline_events::Event;
    use opsline_events::logs::{IncidentResponse, SevLevel, Severity};

    use super::*;

    fn who(role: Role, teams: &[&str]) -> Principal {
        Principal {
            name: "t".into(),
            viewer: Viewer::new(role, teams.iter().copied()),
        }
    }

    fn incident(service: &str, sev: SevLevel, status: IncidentStatus, opened: i64) -> Incident {
        let mut i = Incident::sample();
        i.incident_id = Uuid::now_v7();
        i.service = service.into();
        i.status = status;
        i.severity = sev.severity();
        i.opened_at = Timestamp::from_second(opened).unwrap();
        i.response = None;
        if let Some(a) = i.attention.as_mut() {
            a.sev = sev;
        }
        i
    }

    fn views(incidents: &[Incident]) -> Views {
        let mut v = Views::default();
        for i in incidents {
            v.apply_incident(i.clone(), 100);
        }
        v
    }

    fn ids(page: &Page<IncidentSummary>) -> Vec<Uuid> {
        page.items.iter().map(|i| i.id).collect()
    }

    #[test]
    fn filters_by_service_severity_status_and_time() {
        let a = incident("hdfs", SevLevel::Sev1, IncidentStatus::Open, 1_000);
        let b = incident("bgl", SevLevel::Sev3, IncidentStatus::Open, 2_000);
        let mut c = incident("hdfs", SevLevel::Sev2, IncidentStatus::Resolved, 3_000);
        c.response = Some(IncidentResponse::default());
        let mut d = incident("hdfs", SevLevel::Sev3, IncidentStatus::Open, 4_000);
        d.response = Some(IncidentResponse {
            acknowledged_by: Some("al".into()),
            ..IncidentResponse::default()
        });
        let v = views(&[a.clone(), b.clone(), c.clone(), d.clone()]);
        let sre = who(Role::Sre, &[]);
        let now = Timestamp::from_second(10_000).unwrap();
        let list = |p: ListParams| incidents(&v, &sre, &p, now).unwrap();
        // Open first by level, then resolved.
        assert_eq!(
            ids(&list(ListParams::default())),
            vec![a.incident_id, d.incident_id, b.incident_id, c.incident_id]
        );
        let by_service = list(ListParams {
            service: Some("HDFS".into()),
            ..Default::default()
        });
        assert_eq!(by_service.total, 3);
        let critical = list(ListParams {
            severity: Some("critical".into()),
            ..Default::default()
        });
        assert_eq!(ids(&critical), vec![a.incident_id, c.incident_id]);
        let sev3 = list(ListParams {
            severity: Some("sev3".into()),
            ..Default::default()
        });
        assert_eq!(ids(&sev3), vec![d.incident_id, b.incident_id]);
        let acknowledged = list(ListParams {
            status: Some("acknowledged".into()),
            ..Default::default()
        });
        assert_eq!(ids(&acknowledged), vec![d.incident_id]);
        let unacknowledged = list(ListParams {
            status: Some("unacknowledged".into()),
            ..Default::default()
        });
        assert_eq!(ids(&unacknowledged), vec![a.incident_id, b.incident_id]);
        let resolved = list(ListParams {
            status: Some("resolved".into()),
            ..Default::default()
        });
        assert_eq!(ids(&resolved), vec![c.incident_id]);
        let window = list(ListParams {
            since: Some("1970-01-01T00:30:00Z".into()),
            until: Some("1970-01-01T01:00:00Z".into()),
            ..Default::default()
        });
        assert_eq!(ids(&window), vec![b.incident_id, c.incident_id]);
        let page = list(ListParams {
            offset: Some(1),
            limit: Some(2),
            ..Default::default()
        });
        assert_eq!(ids(&page), vec![d.incident_id, b.incident_id]);
        assert_eq!(page.next_offset, Some(3));
        assert!(
            incidents(
                &v,
                &sre,
                &ListParams {
                    status: Some("closed".into()),
                    ..Default::default()
                },
                now
            )
            .is_err()
        );
        assert_eq!(a.severity, Severity::Critical);
    }

    #[test]
    fn restricted_incidents_and_their_alerts_only_for_the_team() {
        let mut secret = incident("payroll", SevLevel::Sev2, IncidentStatus::Open, 1_000);
        secret.restricted_team = Some("finance".into());
        let mut v = views(std::slice::from_ref(&secret));
        let mut sample = Alert::sample();
        sample.service = "payroll".into();
        v.apply_alert(sample.clone(), 10);
        let now = Timestamp::from_second(10_000).unwrap();
        let helpdesk = who(Role::Helpdesk, &[]);
        let finance = who(Role::Viewer, &["finance"]);
        let p = ListParams::default();
        assert_eq!(incidents(&v, &helpdesk, &p, now).unwrap().total, 0);
        assert!(super::incident(&v, &helpdesk, secret.incident_id).is_none());
        assert_eq!(alerts(&v, &helpdesk, &p, now).unwrap().total, 0);
        assert!(alert(&v, &helpdesk, sample.alert_id).is_none());
        assert_eq!(incidents(&v, &finance, &p, now).unwrap().total, 1);
        assert_eq!(alerts(&v, &finance, &p, now).unwrap().total, 1);
    }
}
