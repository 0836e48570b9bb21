//! Status requests: ticket state is rebuilt from the compacted ticket-state topic at
//! start and followed afterwards; a user sees only their own tickets (matched by the
//! directory entry's mail); service status comes from open incidents. Each answer is a
//! `succeeded` audit event with the deflection credit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use jiff::Timestamp;
use opsline_e2e::ldap::spawn_ldap;
use opsline_e2e::selfservice::{Platform, now, signed_post, spawn_recorder, spawn_selfservice};
use opsline_e2e::{gateway::spawn_gateway, read_n, spawn_broker};
use opsline_events::logs::{Incident, IncidentStatus, Severity};
use opsline_events::ops::SelfServiceAction;
use opsline_events::tickets::{TicketState, TicketStateChange};
use opsline_events::{Envelope, Event, topics};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_runtime::metrics::Metrics;
use secrecy::SecretString;
use serde_json::json;

const SECRET: &str = "status-webhook-secret";

fn ticket(id: &str, requester: &str, state: TicketState, queue: Option<&str>) -> TicketStateChange {
    TicketStateChange {
        ticket_id: id.to_owned(),
        requester: requester.to_owned(),
        subject: "laptop will not boot".to_owned(),
        state,
        queue: queue.map(str::to_owned),
        updated_at: Timestamp::from_second(1_795_000_000).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_answers_show_only_own_tickets_and_open_incidents() {
    let broker = spawn_broker().await;
    let ldap = spawn_ldap();
    let recorder = spawn_recorder().await;
    let gateway = spawn_gateway(broker.config(), "ssstatus", |c| {
        c.chat.webhook_secret = Some(SecretString::from(SECRET));
    })
    .await;
    let producer = Producer::new(&broker.config(), &KafkaMetrics::register(&Metrics::new())).unwrap();
    let state_topic = gateway.names.name(&topics::TICKET_STATE);
    let incidents_topic = gateway.names.name(&topics::INCIDENTS);
    let send = |topic: &str, key: &str, record: OutRecord| {
        let _ = (topic, key);
        let producer = producer.clone();
        async move { producer.send(&record).await.unwrap() }
    };
    // Before the service starts: read by its follower before the first chat message.
    for t in [
        ticket("T-2001", "alice@example.org", TicketState::Routed, Some("Hardware")),
        ticket("T-2002", "bob@example.org", TicketState::InProgress, Some("Network")),
    ] {
        let record = OutRecord::event(&state_topic, &t.ticket_id.clone(), &Envelope::new("test", t)).unwrap();
        send(&state_topic, "", record).await;
    }
    let mut incident = Incident::sample();
    incident.service = "vpn".to_owned();
    incident.title = "Error surge in vpn: tunnel negotiation failed".to_owned();
    incident.status = IncidentStatus::Open;
    incident.severity = Severity::Critical;
    incident.resolved_at = None;
    incident.resolved_by = None;
    let key = incident.incident_id.to_string();
    send(
        &incidents_topic,
        "",
        OutRecord::event(&incidents_topic, &key, &Envelope::new("test", incident)).unwrap(),
    )
    .await;

    // Chat messages are consumed only once the follower has read what the topics held at start.
    let (service, _notifier) = spawn_selfservice(broker.config(), &gateway.names, &ldap, "", |_| {}).await;
    // After the start: followed.
    let later = ticket("T-2003", "alice@example.org", TicketState::AwaitingTriage, None);
    send(
        &state_topic,
        "",
        OutRecord::event(&state_topic, "T-2003", &Envelope::new("test", later)).unwrap(),
    )
    .await;

    let webhook = format!("{}/v1/chat/webhook", gateway.url);
    let reply_url = format!("{}/r", recorder.url);
    let ask = |text: &str| {
        let body = serde_json::to_vec(
            &json!({"user_id": "U0ALICE", "channel_id": "D1", "text": text, "reply_url": reply_url}),
        )
        .unwrap();
        let webhook = webhook.clone();
        async move {
            let (status, _) = signed_post(&webhook, Platform::Webhook, SECRET, now(), "application/json", &body).await;
            assert_eq!(status, 202);
        }
    };
    // The follower may still be joining its group (Tansu under load): ask again until the
    // ticket written after the start shows up; every answer is checked the same way.
    let mut status_asks = 0;
    let answer = loop {
        ask("what is the status of my tickets?").await;
        let texts = recorder.wait_texts(status_asks, Duration::from_secs(60)).await;
        status_asks += 1;
        if texts[0].contains("T-2003") || status_asks == 20 {
            break texts[0].clone();
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    assert!(
        answer.contains("T-2001") && answer.contains("routed") && answer.contains("Hardware"),
        "{answer}"
    );
    assert!(
        answer.contains("T-2003") && answer.contains("awaiting triage"),
        "followed after start: {answer}"
    );
    assert!(!answer.contains("T-2002"), "bob's ticket is not shown: {answer}");
    ask("any update on ticket T-2002?").await;
    let texts = recorder.wait_texts(status_asks, Duration::from_secs(30)).await;
    assert!(texts[0].contains("no ticket T-2002 of yours"), "{texts:?}");
    ask("is the vpn down right now?").await;
    let texts = recorder.wait_texts(status_asks + 1, Duration::from_secs(30)).await;
    assert!(
        texts[0].contains("vpn") && texts[0].contains("open incident") && texts[0].contains("critical"),
        "{texts:?}"
    );

    let audit = read_n(
        &broker.config(),
        &gateway.names.name(&topics::SELFSERVICE_AUDIT),
        status_asks + 2,
        Duration::from_secs(60),
    )
    .await;
    let actions: Vec<SelfServiceAction> = audit
        .iter()
        .map(|r| {
            Envelope::<SelfServiceAction>::from_json(r.payload_bytes())
                .unwrap()
                .data
        })
        .collect();
    let names: Vec<&str> = actions.iter().map(|a| a.action.as_str()).collect();
    let mut expected = vec!["ticket_status"; status_asks + 1];
    expected.push("service_status");
    assert_eq!(names, expected);
    assert!(actions.iter().all(|a| a.outcome == "succeeded" && a.cost_saved > 0.0));
    let metrics = opsline_e2e::scrape_metrics(&service.url).await;
    let succeeded = format!(
        r#"opsline_selfservice_actions_total{{action="ticket_status",outcome="succeeded"}} {}"#,
        status_asks + 1
    );
    assert!(metrics.contains(&succeeded), "{metrics}");

    // The platform refuses every reply: retried, then a redacted dead letter.
    recorder.set_failing(true);
    ask("is vpn down at the moment?").await;
    let dlq = opsline_events::TopicNames::dead_letter(&gateway.names.name(&topics::CHAT_REPLIES));
    let letters = read_n(&broker.config(), &dlq, 1, Duration::from_secs(60)).await;
    let letter = Envelope::<opsline_events::ops::DeadLetter>::from_json(letters[0].payload_bytes())
        .unwrap()
        .data;
    assert_eq!(letter.error_code, "reply_undeliverable");
    assert!(letter.reason.contains("500"), "{}", letter.reason);
}
