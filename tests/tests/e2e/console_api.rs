//! The console's JSON API end to end on the real broker: Apache_2k.log replayed through
//! gateway -> logintel opens real incidents; the console follows them, the alerts and routed
//! tickets; every list filter is checked against what the topics hold; every incident action
//! goes through logintel and comes back on the incidents topic; a re-route produces a
//! feedback record and a new routed revision; roles and team restrictions apply.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use opsline_e2e::console::{FINANCE, HELPDESK, SRE, VIEWER, start};
use opsline_e2e::latest;
use opsline_e2e::spawn_broker;
use opsline_events::logs::{Alert, Incident, IncidentStatus, Severity};
use opsline_events::tickets::{RoutedTicket, TicketFeedback};
use opsline_events::topics;
use serde_json::{Value, json};
use uuid::Uuid;

async fn get(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(url: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> BTreeSet<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            i["id"]
                .as_str()
                .or(i["alert_id"].as_str())
                .or(i["ticket_id"].as_str())
                .expect("id")
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filters_actions_reroutes_and_roles() {
    let broker = spawn_broker().await;
    let started = jiff::Timestamp::now();
    let pipeline = start(broker.config(), "consoleapi").await;
    let (kafka, names) = (pipeline.kafka.clone(), pipeline.names.clone());
    let base = pipeline.console.url.clone();
    let incidents = &pipeline.incidents;

    // A restricted incident of another service with one alert, and routed tickets.
    let seeded = pipeline.seed().await;
    let (secret, secret_alert) = (seeded.secret.clone(), seeded.secret_alert.clone());
    let any = incidents[&seeded.linked].clone();

    // Sign-in: no token, unknown token.
    let anonymous = reqwest::get(format!("{base}/v1/incidents")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(get(&format!("{base}/v1/incidents"), "nope").await.0, 401);

    // Incidents: every filter against the topic's content (the restricted one hidden from the SRE).
    let (status, all) = get(&format!("{base}/v1/incidents?limit=500"), SRE).await;
    assert_eq!(status, 200);
    let expected: BTreeSet<String> = incidents.keys().map(Uuid::to_string).collect();
    assert_eq!(
        ids(&all),
        expected,
        "the SRE (no team) sees exactly the replay's incidents"
    );
    for item in all["items"].as_array().unwrap() {
        for field in ["id", "service", "severity", "status", "title", "opened_at", "why"] {
            assert!(!item[field].is_null(), "incident without {field}: {item}");
        }
        // Two clocks: opened in the 2005 log's time, detected by Opsline now (its age).
        let time = |field: &str| item[field].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
        assert!(time("opened_at").as_second() < 1_200_000_000, "{item}");
        let detected = time("detected_at");
        assert!(
            started <= detected && detected <= jiff::Timestamp::now(),
            "detected during this replay: {item}"
        );
    }
    let critical: BTreeSet<String> = incidents
        .values()
        .filter(|i| i.severity == Severity::Critical)
        .map(|i| i.incident_id.to_string())
        .collect();
    assert_eq!(
        ids(&get(&format!("{base}/v1/incidents?severity=critical&limit=500"), SRE)
            .await
            .1),
        critical
    );
    let level = any.attention.as_ref().unwrap().sev;
    let same_level: BTreeSet<String> = incidents
        .values()
        .filter(|i| i.attention.as_ref().map(|a| a.sev) == Some(level))
        .map(|i| i.incident_id.to_string())
        .collect();
    assert_eq!(
        ids(&get(
            &format!("{base}/v1/incidents?severity={}&limit=500", level.as_str()),
            SRE
        )
        .await
        .1),
        same_level
    );
    assert_eq!(
        get(&format!("{base}/v1/incidents?service=apache&limit=500"), SRE)
            .await
            .1["total"],
        incidents.len()
    );
    assert_eq!(
        get(&format!("{base}/v1/incidents?service=nginx"), SRE).await.1["total"],
        0
    );
    let open: BTreeSet<String> = incidents
        .values()
        .filter(|i| i.status == IncidentStatus::Open)
        .map(|i| i.incident_id.to_string())
        .collect();
    assert_eq!(
        ids(&get(&format!("{base}/v1/incidents?status=open&limit=500"), SRE).await.1),
        open
    );
    let opened = any.opened_at;
    let at_or_after: BTreeSet<String> = incidents
        .values()
        .filter(|i| i.opened_at >= opened)
        .map(|i| i.incident_id.to_string())
        .collect();
    assert_eq!(
        ids(&get(&format!("{base}/v1/incidents?since={opened}&limit=500"), SRE)
            .await
            .1),
        at_or_after
    );
    let at_or_before: BTreeSet<String> = incidents
        .values()
        .filter(|i| i.opened_at <= opened)
        .map(|i| i.incident_id.to_string())
        .collect();
    assert_eq!(
        ids(&get(&format!("{base}/v1/incidents?until={opened}&limit=500"), SRE)
            .await
            .1),
        at_or_before
    );
    let (_, first) = get(&format!("{base}/v1/incidents?limit=1"), SRE).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    if incidents.len() > 1 {
        assert_eq!(first["next_offset"], 1);
        let (_, second) = get(&format!("{base}/v1/incidents?limit=1&offset=1"), SRE).await;
        assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    }
    assert_eq!(get(&format!("{base}/v1/incidents?colour=red"), SRE).await.0, 400);
    assert_eq!(get(&format!("{base}/v1/incidents?status=closed"), SRE).await.0, 400);
    assert_eq!(get(&format!("{base}/v1/incidents?since=yesterday"), SRE).await.0, 400);

    // Incident detail: alerts of the timeline are the topic's.
    let (status, detail) = get(&format!("{base}/v1/incidents/{}", any.incident_id), SRE).await;
    assert_eq!(status, 200);
    assert_eq!(detail["record"]["incident_id"], any.incident_id.to_string());
    assert!(
        !detail["alerts"].as_array().unwrap().is_empty(),
        "no alert in the timeline: {detail}"
    );
    assert_eq!(detail["tickets"][0]["ticket_id"], "T-1");

    // Alerts: filters against the topic.
    let alerts = latest::<Alert, _>(&kafka, &names.name(&topics::ALERTS), |a| a.alert_id.to_string()).await;
    let apache_alerts: BTreeSet<String> = alerts
        .values()
        .filter(|a| a.service == "apache")
        .map(|a| a.alert_id.to_string())
        .collect();
    assert_eq!(
        ids(&get(&format!("{base}/v1/alerts?service=apache&limit=500"), SRE).await.1),
        apache_alerts
    );
    let kind = alerts.values().find(|a| a.service == "apache").unwrap().kind;
    let of_kind: BTreeSet<String> = apache_alerts
        .iter()
        .filter(|id| alerts[*id].kind == kind)
        .cloned()
        .collect();
    assert_eq!(
        ids(&get(
            &format!("{base}/v1/alerts?service=apache&kind={}&limit=500", kind.as_str()),
            SRE
        )
        .await
        .1),
        of_kind
    );
    let warning: BTreeSet<String> = apache_alerts
        .iter()
        .filter(|id| alerts[*id].severity == Severity::Warning)
        .cloned()
        .collect();
    assert_eq!(
        ids(&get(
            &format!("{base}/v1/alerts?service=apache&severity=warning&limit=500"),
            SRE
        )
        .await
        .1),
        warning
    );
    let one = alerts.values().find(|a| a.service == "apache").unwrap();
    assert_eq!(get(&format!("{base}/v1/alerts/{}", one.alert_id), VIEWER).await.0, 200);

    // Team restriction: the restricted incident and its service's alert only for finance.
    assert_eq!(
        get(&format!("{base}/v1/incidents?service=payroll"), HELPDESK).await.1["total"],
        0
    );
    assert_eq!(
        get(&format!("{base}/v1/incidents/{}", secret.incident_id), HELPDESK)
            .await
            .0,
        404
    );
    assert_eq!(
        get(&format!("{base}/v1/incidents/{}", secret.incident_id), SRE).await.0,
        404
    );
    assert_eq!(
        get(&format!("{base}/v1/incidents/{}", secret.incident_id), FINANCE)
            .await
            .0,
        200
    );
    assert_eq!(
        get(&format!("{base}/v1/alerts?service=payroll"), HELPDESK).await.1["total"],
        0
    );
    assert_eq!(
        get(&format!("{base}/v1/alerts?service=payroll"), FINANCE).await.1["total"],
        1
    );
    assert_eq!(
        get(&format!("{base}/v1/alerts/{}", secret_alert.alert_id), SRE).await.0,
        404
    );

    // Tickets: queue, priority and incident filters.
    assert_eq!(
        ids(&get(&format!("{base}/v1/tickets?queue=hardware"), HELPDESK).await.1),
        BTreeSet::from(["T-1".to_owned(), "T-3".to_owned()])
    );
    assert_eq!(
        ids(&get(&format!("{base}/v1/tickets?priority=p1"), HELPDESK).await.1),
        BTreeSet::from(["T-2".to_owned()])
    );
    assert_eq!(
        ids(&get(&format!("{base}/v1/tickets?incident={}", any.incident_id), VIEWER)
            .await
            .1),
        BTreeSet::from(["T-1".to_owned()])
    );
    let (_, by_priority) = get(&format!("{base}/v1/tickets"), VIEWER).await;
    assert_eq!(by_priority["items"][0]["ticket_id"], "T-2", "P1 first");
    assert_eq!(
        get(&format!("{base}/v1/tickets/T-3"), VIEWER).await.1["queue"],
        "Hardware"
    );

    // Incident actions: roles first, then each action through logintel and back.
    let target = incidents
        .values()
        .find(|i| i.status == IncidentStatus::Open)
        .expect("an open incident")
        .clone();
    let action = |name: &str| format!("{base}/v1/incidents/{}/{name}", target.incident_id);
    assert_eq!(post(&action("acknowledge"), VIEWER, json!({})).await.0, 403);
    assert_eq!(post(&action("acknowledge"), HELPDESK, json!({})).await.0, 403);
    assert_eq!(
        post(
            &format!("{base}/v1/incidents/{}/acknowledge", secret.incident_id),
            SRE,
            json!({})
        )
        .await
        .0,
        404
    );
    let (status, acked) = post(&action("acknowledge"), SRE, json!({})).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["incident"]["acknowledged_by"], "sam");
    assert_eq!(
        ids(&get(&format!("{base}/v1/incidents?status=acknowledged&limit=500"), SRE)
            .await
            .1),
        BTreeSet::from([target.incident_id.to_string()])
    );
    assert_eq!(post(&action("assign"), SRE, json!({})).await.0, 400);
    let (status, assigned) = post(&action("assign"), SRE, json!({ "assignee": "bob" })).await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["incident"]["assignee"], "bob");
    let (status, declared) = post(&action("postmortem"), SRE, json!({})).await;
    assert_eq!(status, 200, "{declared}");
    assert_eq!(declared["incident"]["postmortem"]["decided_by"], "sam");
    let (status, resolved) = post(&action("resolve"), SRE, json!({})).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["incident"]["status"], "resolved");
    assert_eq!(resolved["incident"]["resolved_by"], "sam");
    let (status, conflict) = post(&action("acknowledge"), SRE, json!({})).await;
    assert_eq!(status, 409, "{conflict}");
    let (status, conflict) = post(&action("assign"), SRE, json!({ "assignee": "cy" })).await;
    assert_eq!(status, 409, "{conflict}");
    // The log service published every change: the topic's last state has them all.
    let on_topic = latest::<Incident, _>(&kafka, &names.name(&topics::INCIDENTS), |i| i.incident_id.to_string()).await;
    let last = &on_topic[&target.incident_id.to_string()];
    let response = last.response.as_ref().expect("response on the topic");
    assert_eq!(response.acknowledged_by.as_deref(), Some("sam"));
    assert_eq!(response.assignee.as_deref(), Some("bob"));
    assert_eq!(last.status, IncidentStatus::Resolved);

    // Re-route: roles, queue check, then the feedback and revision 3 on the topics.
    let reroute = format!("{base}/v1/tickets/T-3/reroute");
    assert_eq!(post(&reroute, VIEWER, json!({ "queue": "Network" })).await.0, 403);
    assert_eq!(post(&reroute, HELPDESK, json!({ "queue": "Nowhere" })).await.0, 400);
    assert_eq!(post(&reroute, HELPDESK, json!({ "queue": "Hardware" })).await.0, 409);
    assert_eq!(
        post(
            &format!("{base}/v1/tickets/T-404/reroute"),
            HELPDESK,
            json!({ "queue": "Network" })
        )
        .await
        .0,
        404
    );
    let (status, moved) = post(
        &reroute,
        HELPDESK,
        json!({ "queue": "Network", "note": "VPN is network" }),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["ticket"]["queue"], "Network");
    assert_eq!(moved["ticket"]["revision"], 3);
    assert_eq!(
        ids(&get(&format!("{base}/v1/tickets?queue=network"), HELPDESK).await.1),
        BTreeSet::from(["T-2".to_owned(), "T-3".to_owned()])
    );
    let feedback =
        latest::<TicketFeedback, _>(&kafka, &names.name(&topics::TICKETS_FEEDBACK), |f| f.ticket_id.clone()).await;
    let record = &feedback["T-3"];
    assert_eq!(
        (record.from_queue.as_str(), record.to_queue.as_str(), record.by.as_str()),
        ("Hardware", "Network", "hal")
    );
    assert_eq!(record.note, "VPN is network");
    let revisions = latest::<RoutedTicket, _>(&kafka, &names.name(&topics::TICKETS_ROUTED), |t| {
        format!("{}#{}", t.ticket_id, t.revision)
    })
    .await;
    assert_eq!(revisions["T-3#3"].queue, "Network");

    // Insights: the SRE's incidents per bucket add up to what it may see; MTTA from the ack.
    let (status, insights) = get(&format!("{base}/v1/insights"), SRE).await;
    assert_eq!(status, 200);
    let counted: u64 = insights["incidents"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|by_service| by_service.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(counted, incidents.len() as u64, "{insights}");
    assert_eq!(insights["response"]["apache"]["acknowledged"], 1, "{insights}");
    assert!(insights["response"]["apache"]["mtta_secs"].as_f64().is_some());
    assert!(insights["response"].get("payroll").is_none(), "restricted to finance");
    assert_eq!(insights["rerouted"], 1);
    // Log lines received per service over time: the log service's counts of every replayed
    // line, bucketed by the lines' own time like the other series.
    assert!(insights.get("lines_unavailable").is_none(), "{insights}");
    let lines = insights["lines"].as_object().unwrap();
    let received: u64 = lines.values().filter_map(|s| s["apache"].as_u64()).sum();
    assert_eq!(received, 2_000, "every line of Apache_2k.log: {lines:?}");
    assert!(
        lines.keys().all(|b| b.starts_with("2005-12-0")),
        "event-time buckets: {lines:?}"
    );

    let (status, me) = get(&format!("{base}/v1/whoami"), FINANCE).await;
    assert_eq!(
        (status, me["role"].as_str(), me["teams"][0].as_str()),
        (200, Some("viewer"), Some("finance"))
    );

    pipeline.console.stop().await.expect("console stops cleanly");
    pipeline.logintel.stop().await.expect("logintel stops cleanly");
}
