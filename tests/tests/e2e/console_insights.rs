//! The console's automation insights end to end on the real broker: LLM usage, triage
//! decisions and self-service audit events produced on their topics (one of each replayed) are followed by
//! the console into its views; `GET /v1/insights` answers the `opsline report` figures per use
//! case (calls, cache hits, latency p50/p95, cost, deflection) and `/insights` draws them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_console::{Console, ConsoleConfig};
use opsline_e2e::console::{SRE, tokens};
use opsline_e2e::spawn::spawn;
use opsline_e2e::{spawn_broker, unique_prefix};
use opsline_events::ops::{LlmUsage, SelfServiceAction};
use opsline_events::tickets::{Disposition, TriagedTicket};
use opsline_events::{Envelope, Event, topics};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_runtime::metrics::Metrics;
use serde_json::Value;
use uuid::Uuid;

fn call(task: &str, latency_ms: u64, cache_hit: bool, cost: f64) -> LlmUsage {
    LlmUsage {
        call_id: Uuid::now_v7(),
        task: task.into(),
        latency_ms,
        cache_hit,
        cost,
        outcome: "ok".into(),
        prompt_tokens: 100,
        completion_tokens: 10,
        ..LlmUsage::sample()
    }
}

fn action(action: &str, outcome: &str) -> SelfServiceAction {
    SelfServiceAction {
        action_id: Uuid::now_v7(),
        action: action.into(),
        outcome: outcome.into(),
        cost_saved: 0.0,
        ..SelfServiceAction::sample()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insights_follow_llm_usage_and_self_service_audit() {
    let broker = spawn_broker().await;
    let console = spawn::<Console>(
        ConsoleConfig {
            topic_prefix: unique_prefix("consoleinsights"),
            tokens: tokens(),
            kafka: broker.config(),
            cost_per_ticket: 20.0,
            ..ConsoleConfig::default()
        },
        (),
    )
    .await;
    console.wait_ready(Duration::from_secs(60)).await;
    let names = console.names.clone();

    let mut calls: Vec<LlmUsage> = (1..=10)
        .map(|s| call("ticket_enrichment", s * 100, false, 0.01))
        .collect();
    calls.push(call("ticket_enrichment", 1, true, 0.0));
    calls.push(call("postmortem_draft", 4_000, false, 0.2));
    // A replay repeats a record: it counts once.
    calls.push(calls[0].clone());
    let reset = action("password_reset", "succeeded");
    let actions = vec![
        reset.clone(),
        reset,
        action("ticket_status", "succeeded"),
        action("password_reset", "challenged"),
        action("account_unlock", "refused"),
    ];
    let triaged: Vec<TriagedTicket> = [
        ("T-1", Disposition::AutoRouted),
        ("T-2", Disposition::HumanReview),
        ("T-1", Disposition::AutoRouted),
    ]
    .into_iter()
    .map(|(id, disposition)| TriagedTicket {
        ticket_id: id.into(),
        disposition,
        ..TriagedTicket::sample()
    })
    .collect();
    let producer = Producer::new(&broker.config(), &KafkaMetrics::register(&Metrics::new())).expect("producer");
    for c in &calls {
        let payload = Envelope::new("e2e", c.clone()).to_json().expect("json");
        producer
            .send(&OutRecord::new(names.name(&topics::LLM_USAGE), Some(&c.task), payload))
            .await
            .expect("produce usage");
    }
    for a in &actions {
        let payload = Envelope::new("e2e", a.clone()).to_json().expect("json");
        producer
            .send(&OutRecord::new(
                names.name(&topics::SELFSERVICE_AUDIT),
                Some(&a.user_id),
                payload,
            ))
            .await
            .expect("produce audit");
    }
    for t in &triaged {
        let payload = Envelope::new("e2e", t.clone()).to_json().expect("json");
        producer
            .send(&OutRecord::new(
                names.name(&topics::TICKETS_TRIAGED),
                Some(&t.ticket_id),
                payload,
            ))
            .await
            .expect("produce triaged");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let counts = {
            let views = console.handle.views.read();
            (
                views.llm_calls().count(),
                views.audit_events().count(),
                views.triaged().count(),
            )
        };
        if counts == (12, 4, 2) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the console followed {counts:?} LLM calls, audit events and triaged tickets, not 12, 4 and 2"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let client = reqwest::Client::new();
    let anonymous = client.get(format!("{}/v1/insights", console.url)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let insights: Value = client
        .get(format!("{}/v1/insights", console.url))
        .bearer_auth(SRE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let automation = &insights["automation"];
    let row = |name: &str| {
        automation["use_cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["use_case"] == name)
            .unwrap_or_else(|| panic!("no {name} in {automation}"))
            .clone()
    };
    let triage = row("ticket_enrichment");
    assert_eq!(triage["llm_calls"], 11, "{triage}");
    assert_eq!(triage["cache_hits"], 1);
    assert_eq!(triage["latency_p50_ms"], 500);
    assert_eq!(triage["latency_p95_ms"], 1_000);
    assert!((triage["llm_cost"].as_f64().unwrap() - 0.1).abs() < 1e-9, "{triage}");
    assert_eq!(triage["auto_routed_share"], 0.5, "{triage}");
    assert_eq!(automation["tickets_triaged"], 2);
    assert_eq!(automation["dispositions"]["auto_routed"], 1);
    assert_eq!(automation["dispositions"]["human_review"], 1);
    let postmortem = row("postmortem");
    assert_eq!(postmortem["latency_p50_ms"], 4_000);
    let selfservice = row("self_service");
    assert_eq!(selfservice["deflected"], 2, "{selfservice}");
    assert!((selfservice["estimated_savings"].as_f64().unwrap() - 40.0).abs() < 1e-9);
    let outcomes = &automation["self_service_outcomes"];
    assert_eq!(
        (&outcomes["completed"], &outcomes["challenged"], &outcomes["refused"]),
        (&Value::from(2), &Value::from(1), &Value::from(1)),
        "{outcomes}"
    );

    let page = client
        .get(format!("{}/insights", console.url))
        .bearer_auth(SRE)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "LLM calls per use case",
        "ticket_enrichment p95",
        ">1.0 s<",
        ">4.0 s<",
        "LLM cache hit rate per use case",
        "Triaged tickets by disposition (2 triaged)",
        "2 tickets deflected, estimated savings 40.00",
    ] {
        assert!(html.contains(expected), "the page lacks {expected:?}");
    }
    assert!(!html.contains("<script"), "no JavaScript");

    console.stop().await.expect("console stops cleanly");
}
