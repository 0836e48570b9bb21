//! Contract tests of the notify service's targets against local receivers answering with the
//! vendors' documented bodies: the request shape and auth header each API documents (Slack
//! `chat.postMessage`/`chat.update` with Block Kit and `Authorization: Bearer`; a Teams
//! Workflows Adaptive Card; PagerDuty Events API v2; Opsgenie Alert API with `GenieKey`; our
//! signed webhook), and the error handling: 401/404 (and Slack's 200 `{"ok":false}`) fail at
//! once without a retry storm, 429 with `Retry-After` is waited then retried, 5xx is retried
//! then given up (the delivery task dead-letters it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use opsline_e2e::receiver::{Answer, Receiver};
use opsline_events::Event;
use opsline_events::incidents::{Incident, IncidentResponse, IncidentStatus};
use opsline_events::notify::Transition;
use opsline_notify::TargetKind;
use opsline_notify::config::DeliveryConfig;
use opsline_notify::delivery::send_with_retries;
use opsline_notify::sinks::webhook::signature;
use opsline_notify::sinks::{Failure, Notification, Progress, Sink, Thread};
use opsline_runtime::outbound::OutboundClient;
use secrecy::SecretString;

const SLACK_OK: &str = r#"{"ok":true,"channel":"C0123456789","ts":"1503435956.000247","message":{"text":"Here's a message for you","username":"ecto1","bot_id":"B123ABC456","type":"message","subtype":"bot_message","ts":"1503435956.000247"}}"#;
const PAGERDUTY_ACCEPTED: &str = r#"{"status":"success","message":"Event processed","dedup_key":"x"}"#;
const PAGERDUTY_INVALID: &str = r#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}"#;
const OPSGENIE_ACCEPTED: &str =
    r#"{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}"#;
const OPSGENIE_UNAUTHORIZED: &str =
    r#"{"message":"Could not authenticate","took":0.0,"requestId":"5d4e6f0a-8e58-4a40-9b77-5d2a8a5f3b0e"}"#;
const OPSGENIE_NOT_FOUND: &str =
    r#"{"message":"Alert does not exist","took":0.003,"requestId":"9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}"#;

fn sink(kind: TargetKind, base_url: &str, secret: Option<&str>) -> Sink {
    Sink {
        name: format!("test-{}", kind.as_str()),
        kind,
        base_url: base_url.to_owned(),
        channel: "C0123456789".to_owned(),
        secret: secret.map(|s| SecretString::from(s.to_owned())),
        incident_url: Some("https://console.example/incidents/{id}".to_owned()),
        client: OutboundClient::new(Duration::from_secs(5)).unwrap(),
    }
}

fn notification(transition: Transition) -> Notification {
    let mut incident = Incident::sample();
    incident.status = if transition == Transition::Resolved {
        IncidentStatus::Resolved
    } else {
        IncidentStatus::Open
    };
    incident.response = (transition == Transition::Acknowledged).then(|| IncidentResponse {
        acknowledged_by: Some("slack:U123".into()),
        ..IncidentResponse::default()
    });
    Notification { transition, incident }
}

fn fast(max_attempts: usize) -> DeliveryConfig {
    DeliveryConfig {
        max_attempts,
        min_delay_ms: 10,
        max_delay_ms: 5_000,
        ..DeliveryConfig::default()
    }
}

async fn deliver(
    sink: &Sink,
    config: &DeliveryConfig,
    n: &Notification,
    progress: &mut Progress,
) -> Result<(), Failure> {
    send_with_retries(sink, config, n, progress, |_| {}).await
}

#[tokio::test]
async fn slack_threads_every_transition_under_the_first_message_with_an_acknowledge_button() {
    let slack = Receiver::start(Answer::new(200, SLACK_OK)).await;
    let target = sink(TargetKind::Slack, &slack.url, Some("xoxb-test-token"));
    let mut progress = Progress::default();
    deliver(&target, &fast(3), &notification(Transition::Opened), &mut progress)
        .await
        .unwrap();
    let thread = progress.thread.clone().expect("the first message starts a thread");
    assert_eq!(
        thread,
        Thread {
            channel: "C0123456789".into(),
            ts: "1503435956.000247".into()
        }
    );

    let mut progress = Progress {
        thread: Some(thread),
        replied: false,
    };
    deliver(
        &target,
        &fast(3),
        &notification(Transition::Acknowledged),
        &mut progress,
    )
    .await
    .unwrap();
    let seen = slack.seen();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["/chat.postMessage", "/chat.postMessage", "/chat.update"]);
    for request in &seen {
        assert_eq!(request.header("authorization"), Some("Bearer xoxb-test-token"));
        assert!(request.header("content-type").unwrap().starts_with("application/json"));
    }
    let parent = seen[0].json();
    assert_eq!(parent["channel"], "C0123456789");
    assert!(parent.get("thread_ts").is_none(), "the parent is top-level");
    assert_eq!(parent["blocks"][0]["type"], "header");
    let button = &parent["blocks"][2]["elements"][0];
    assert_eq!(button["type"], "button");
    assert_eq!(button["action_id"], opsline_notify::sinks::slack::ACKNOWLEDGE_ACTION);
    assert_eq!(button["value"], Incident::sample().incident_id.to_string());
    let reply = seen[1].json();
    assert_eq!(reply["thread_ts"], "1503435956.000247", "a reply in the thread");
    assert!(
        reply["text"].as_str().unwrap().contains("Acknowledged by slack:U123"),
        "{reply}"
    );
    let update = seen[2].json();
    assert_eq!(update["ts"], "1503435956.000247", "the parent is updated");
    assert!(update["blocks"].to_string().contains("acknowledged"));
    assert!(
        !update["blocks"].to_string().contains("opsline_acknowledge"),
        "no button once acknowledged"
    );
}

#[tokio::test]
async fn slack_errors_in_a_200_answer_fail_without_retries_and_ratelimits_wait_for_retry_after() {
    let slack = Receiver::start(Answer::new(200, r#"{"ok":false,"error":"invalid_auth"}"#)).await;
    let target = sink(TargetKind::Slack, &slack.url, Some("xoxb-revoked"));
    let failure = deliver(
        &target,
        &fast(5),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (failure.code, failure.retryable),
        ("unauthorized", false),
        "{failure:?}"
    );
    assert_eq!(slack.seen().len(), 1, "no retry storm");

    let slack = Receiver::start(Answer::new(200, SLACK_OK)).await;
    slack.queue(
        "/chat.postMessage",
        [Answer::new(429, r#"{"ok":false,"error":"ratelimited"}"#).with_header("Retry-After", "1")],
    );
    let target = sink(TargetKind::Slack, &slack.url, Some("xoxb-test-token"));
    let started = Instant::now();
    deliver(
        &target,
        &fast(3),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap();
    let seen = slack.seen();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After: 1 honoured, waited {waited:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // A thread reply that got through is not posted again when only the update fails.
    let slack = Receiver::start(Answer::new(200, SLACK_OK)).await;
    slack.queue(
        "/chat.update",
        [Answer::new(200, r#"{"ok":false,"error":"internal_error"}"#)],
    );
    let target = sink(TargetKind::Slack, &slack.url, Some("xoxb-test-token"));
    let mut progress = Progress {
        thread: Some(Thread {
            channel: "C0123456789".into(),
            ts: "1.2".into(),
        }),
        replied: false,
    };
    deliver(&target, &fast(3), &notification(Transition::Resolved), &mut progress)
        .await
        .unwrap();
    let paths: Vec<String> = slack.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/chat.postMessage", "/chat.update", "/chat.update"]);
}

#[tokio::test]
async fn pagerduty_triggers_acknowledges_and_resolves_one_dedup_key() {
    let pagerduty = Receiver::start(Answer::new(202, PAGERDUTY_ACCEPTED)).await;
    let target = sink(
        TargetKind::Pagerduty,
        &pagerduty.url,
        Some("R0UT1NGK3Y0000000000000000000000"),
    );
    for transition in [Transition::Opened, Transition::Acknowledged, Transition::Resolved] {
        deliver(&target, &fast(3), &notification(transition), &mut Progress::default())
            .await
            .unwrap();
    }
    let seen = pagerduty.seen();
    let id = Incident::sample().incident_id.to_string();
    let actions: Vec<String> = seen
        .iter()
        .map(|s| s.json()["event_action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"]);
    for request in &seen {
        assert_eq!(request.path, "/v2/enqueue");
        let body = request.json();
        assert_eq!(body["routing_key"], "R0UT1NGK3Y0000000000000000000000");
        assert_eq!(body["dedup_key"], id.as_str());
    }
    let trigger = seen[0].json();
    assert!(
        trigger["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("Error surge in hdfs")
    );
    assert_eq!(trigger["payload"]["severity"], "error", "sev2");
    assert!(trigger["payload"]["source"].is_string());
    assert!(seen[2].json().get("payload").is_none(), "resolve carries no payload");

    // 400 invalid event: not retried. 5xx: retried, then given up.
    let pagerduty = Receiver::start(Answer::new(400, PAGERDUTY_INVALID)).await;
    let target = sink(TargetKind::Pagerduty, &pagerduty.url, Some("short"));
    let failure = deliver(
        &target,
        &fast(4),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap_err();
    assert_eq!((failure.code, failure.retryable), ("rejected", false));
    assert!(failure.reason.contains("Event object is invalid"), "{failure:?}");
    assert_eq!(pagerduty.seen().len(), 1);
    let pagerduty = Receiver::start(Answer::new(503, "")).await;
    let target = sink(
        TargetKind::Pagerduty,
        &pagerduty.url,
        Some("R0UT1NGK3Y0000000000000000000000"),
    );
    let failure = deliver(
        &target,
        &fast(4),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap_err();
    assert_eq!((failure.code, failure.retryable), ("server_error", true));
    assert_eq!(pagerduty.seen().len(), 4, "max_attempts");
}

#[tokio::test]
async fn opsgenie_creates_by_alias_then_acknowledges_and_closes_it() {
    let opsgenie = Receiver::start(Answer::new(202, OPSGENIE_ACCEPTED)).await;
    let target = sink(
        TargetKind::Opsgenie,
        &opsgenie.url,
        Some("eb243592-faa2-4ba2-a551q-1afdf565c889"),
    );
    for transition in [Transition::Opened, Transition::Acknowledged, Transition::Resolved] {
        deliver(&target, &fast(3), &notification(transition), &mut Progress::default())
            .await
            .unwrap();
    }
    let seen = opsgenie.seen();
    let id = Incident::sample().incident_id.to_string();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v2/alerts".to_owned(),
            format!("/v2/alerts/{id}/acknowledge?identifierType=alias"),
            format!("/v2/alerts/{id}/close?identifierType=alias"),
        ]
    );
    for request in &seen {
        assert_eq!(
            request.header("authorization"),
            Some("GenieKey eb243592-faa2-4ba2-a551q-1afdf565c889")
        );
    }
    let create = seen[0].json();
    assert_eq!(create["alias"], id.as_str());
    assert_eq!(create["priority"], "P2");
    assert!(create["message"].as_str().unwrap().chars().count() <= 130);
    assert_eq!(seen[1].json()["user"], "slack:U123");

    for (status, body, code) in [
        (401, OPSGENIE_UNAUTHORIZED, "unauthorized"),
        (404, OPSGENIE_NOT_FOUND, "not_found"),
    ] {
        let opsgenie = Receiver::start(Answer::new(status, body)).await;
        let target = sink(TargetKind::Opsgenie, &opsgenie.url, Some("wrong"));
        let failure = deliver(
            &target,
            &fast(5),
            &notification(Transition::Acknowledged),
            &mut Progress::default(),
        )
        .await
        .unwrap_err();
        assert_eq!((failure.code, failure.retryable), (code, false));
        assert_eq!(opsgenie.seen().len(), 1, "{status}: no retry storm");
    }
}

#[tokio::test]
async fn teams_gets_an_adaptive_card_message() {
    let teams = Receiver::start(Answer::new(202, "")).await;
    let workflow = format!(
        "{}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s3cr3t",
        teams.url
    );
    let target = sink(TargetKind::Teams, "", Some(&workflow));
    deliver(
        &target,
        &fast(3),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap();
    let seen = teams.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].path.ends_with("sig=s3cr3t"));
    let body = seen[0].json();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert!(attachment["content"]["body"].to_string().contains("Incident opened"));
    assert_eq!(attachment["content"]["actions"][0]["type"], "Action.OpenUrl");

    let teams = Receiver::start(Answer::new(429, "").with_header("Retry-After", "1")).await;
    teams.default_for("/", Answer::new(429, "").with_header("Retry-After", "1"));
    let workflow = format!("{}/invoke", teams.url);
    let target = sink(TargetKind::Teams, "", Some(&workflow));
    let failure = deliver(
        &target,
        &fast(2),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap_err();
    assert_eq!((failure.code, failure.retryable), ("rate_limited", true));
    let seen = teams.seen();
    assert_eq!(seen.len(), 2, "retried once, then given up");
    assert!(seen[1].at - seen[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn webhooks_are_signed_over_timestamp_dot_body() {
    let hook = Receiver::start(Answer::new(204, "")).await;
    let mut target = sink(
        TargetKind::Webhook,
        &format!("{}/hooks/opsline", hook.url),
        Some("whsec-test"),
    );
    deliver(
        &target,
        &fast(3),
        &notification(Transition::Resolved),
        &mut Progress::default(),
    )
    .await
    .unwrap();
    let seen = hook.seen();
    let request = &seen[0];
    assert_eq!(request.path, "/hooks/opsline");
    let timestamp = request.header("x-opsline-timestamp").unwrap();
    let age = jiff::Timestamp::now().as_second() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age));
    let expected = signature(b"whsec-test", timestamp, &request.body).unwrap();
    assert_eq!(request.header("x-opsline-signature"), Some(expected.as_str()));
    assert_ne!(signature(b"other", timestamp, &request.body).unwrap(), expected);
    let body = request.json();
    assert_eq!(body["type"], "incident.resolved");
    assert_eq!(
        body["incident"]["incident_id"],
        Incident::sample().incident_id.to_string()
    );

    // 5xx is retried, 404 is not.
    let hook = Receiver::start(Answer::new(204, "")).await;
    hook.queue("/", [Answer::new(500, "oops"), Answer::new(502, "")]);
    target.base_url = format!("{}/hooks/opsline", hook.url);
    deliver(
        &target,
        &fast(3),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap();
    assert_eq!(hook.seen().len(), 3);
    let hook = Receiver::start(Answer::new(404, "")).await;
    target.base_url = format!("{}/gone", hook.url);
    let failure = deliver(
        &target,
        &fast(3),
        &notification(Transition::Opened),
        &mut Progress::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (failure.code, failure.retryable, hook.seen().len()),
        ("not_found", false, 1)
    );
}
