//! Incident notifications end to end on the real broker: a log burst through the gateway opens
//! an incident in the log service; the notify service tells a local receiver for every target
//! (Slack, Teams, PagerDuty, Opsgenie, a signed webhook) in its documented format; a signed Slack
//! interaction (the Acknowledge button) posted to the gateway acknowledges the incident in the log
//! service (forged and replayed ones are refused); resolving it there reaches Slack as replies in the first message's thread
//! (plus `chat.update` of it) and PagerDuty as `acknowledge` and `resolve` with the same
//! `dedup_key`; a notify service started again from the beginning of the incidents topic (a new
//! consumer group) reads its state back and sends nothing twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsline_e2e::gateway::{post_lines, spawn_gateway};
use opsline_e2e::receiver::{Answer, Receiver};
use opsline_e2e::spawn::spawn;
use opsline_events::logs::{Incident, IncidentStatus};
use opsline_events::topics;
use opsline_logintel::{Logintel, LogintelConfig};
use opsline_notify::config::{DeliveryConfig, RuleConfig, TargetConfig, TargetKind};
use opsline_notify::{Notify, NotifyConfig};
use secrecy::SecretString;

const SLACK_SIGNING_SECRET: &str = "e2e-slack-signing-secret";
const SLACK_OK: &str = r#"{"ok":true,"channel":"C0NOTIFY","ts":"1733500000.000100","message":{"type":"message","ts":"1733500000.000100"}}"#;

fn line(at: Timestamp, text: &str) -> String {
    let t = at.to_zoned(jiff::tz::TimeZone::UTC);
    format!("{} 148 {text}", t.strftime("%y%m%d %H%M%S"))
}

fn target(kind: TargetKind, base_url: &str, secret: &str) -> TargetConfig {
    TargetConfig {
        kind,
        base_url: Some(base_url.to_owned()),
        channel: (kind == TargetKind::Slack).then(|| "C0NOTIFY".to_owned()),
        url: (kind == TargetKind::Webhook).then(|| format!("{base_url}/hook")),
        secret: Some(SecretString::from(secret.to_owned())),
        secret_file: None,
        incident_url: None,
        queue_capacity: None,
    }
}

struct Receivers {
    slack: Receiver,
    teams: Receiver,
    pagerduty: Receiver,
    opsgenie: Receiver,
    webhook: Receiver,
}

impl Receivers {
    fn counts(&self) -> [usize; 5] {
        [
            self.slack.seen().len(),
            self.teams.seen().len(),
            self.pagerduty.seen().len(),
            self.opsgenie.seen().len(),
            self.webhook.seen().len(),
        ]
    }
}

fn notify_config(kafka: &opsline_kafka::KafkaConfig, prefix: &str, group: &str, r: &Receivers) -> NotifyConfig {
    let mut targets = BTreeMap::new();
    targets.insert("slack".to_owned(), target(TargetKind::Slack, &r.slack.url, "xoxb-e2e"));
    targets.insert(
        "teams".to_owned(),
        target(
            TargetKind::Teams,
            "",
            &format!("{}/workflows/invoke?sig=e2e", r.teams.url),
        ),
    );
    targets.insert(
        "pagerduty".to_owned(),
        target(
            TargetKind::Pagerduty,
            &r.pagerduty.url,
            "R0UT1NGK3YE2E00000000000000000000",
        ),
    );
    targets.insert(
        "opsgenie".to_owned(),
        target(TargetKind::Opsgenie, &r.opsgenie.url, "genie-e2e"),
    );
    targets.insert(
        "webhook".to_owned(),
        target(TargetKind::Webhook, &r.webhook.url, "whsec-e2e"),
    );
    NotifyConfig {
        topic_prefix: prefix.to_owned(),
        group_id: group.to_owned(),
        kafka: kafka.clone(),
        rules: vec![RuleConfig {
            services: vec!["hdfs*".to_owned()],
            min_severity: None,
            team: None,
            targets: targets.keys().cloned().collect(),
        }],
        targets,
        delivery: DeliveryConfig {
            min_delay_ms: 50,
            ..DeliveryConfig::default()
        },
        ..NotifyConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_reaches_every_target_and_its_thread_follows_it_without_repeats() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "notifyincident", |c| {
        c.chat.slack_signing_secret = Some(SecretString::from(SLACK_SIGNING_SECRET));
    })
    .await;
    let prefix = gateway.names.prefix.clone();
    let logintel = spawn::<Logintel>(
        LogintelConfig {
            topic_prefix: prefix.clone(),
            group_id: format!("{prefix}logintel"),
            kafka: gateway.kafka.clone(),
            advance_idle_clock: false,
            tick_interval_ms: 100,
            tokens: opsline_e2e::logintel_tokens(),
            ..LogintelConfig::default()
        },
        (),
    )
    .await;
    let receivers = Receivers {
        slack: Receiver::start(Answer::new(200, SLACK_OK)).await,
        teams: Receiver::start(Answer::new(202, "")).await,
        pagerduty: Receiver::start(Answer::new(202, r#"{"status":"success","message":"Event processed"}"#)).await,
        opsgenie: Receiver::start(Answer::new(
            202,
            r#"{"result":"Request will be processed","took":0.1,"requestId":"r"}"#,
        ))
        .await,
        webhook: Receiver::start(Answer::new(204, "")).await,
    };
    let notify = spawn::<Notify>(
        notify_config(&gateway.kafka, &prefix, &format!("{prefix}notify"), &receivers),
        (),
    )
    .await;
    notify.wait_ready(Duration::from_secs(60)).await;

    // An hour of steady lines, then a burst of a new disk error: an incident opens.
    let now = Timestamp::now();
    let mut lines: Vec<String> = (0..180)
        .map(|i| {
            let at = now - SignedDuration::from_secs(3720 - i * 20);
            line(
                at,
                &format!("INFO dfs.DataNode: Receiving block blk_{i} src /10.0.0.{}", i % 7),
            )
        })
        .collect();
    for i in 0..12 {
        let at = now - SignedDuration::from_secs(120 - i * 5);
        lines.push(line(
            at,
            &format!("ERROR dfs.DataNode: Disk failure on volume /data/{i}"),
        ));
    }
    post_lines(&gateway.url, "hdfs", &lines).await;

    // Every target hears of it once, in its format.
    let parent = receivers.slack.wait_for(1, Duration::from_secs(90)).await[0].clone();
    assert_eq!(parent.path, "/chat.postMessage");
    assert_eq!(parent.header("authorization"), Some("Bearer xoxb-e2e"));
    let parent = parent.json();
    let button = parent["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .expect("an actions block")["elements"][0]
        .clone();
    assert_eq!(button["action_id"], "opsline_acknowledge");
    let id: uuid::Uuid = button["value"].as_str().unwrap().parse().unwrap();
    let trigger = receivers.pagerduty.wait_for(1, Duration::from_secs(30)).await[0].json();
    assert_eq!(
        (trigger["event_action"].as_str(), trigger["dedup_key"].as_str()),
        (Some("trigger"), Some(id.to_string().as_str()))
    );
    let create = receivers.opsgenie.wait_for(1, Duration::from_secs(30)).await[0].clone();
    assert_eq!(create.header("authorization"), Some("GenieKey genie-e2e"));
    assert_eq!(create.json()["alias"], id.to_string());
    let card = receivers.teams.wait_for(1, Duration::from_secs(30)).await[0].json();
    assert_eq!(
        card["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let hook = receivers.webhook.wait_for(1, Duration::from_secs(30)).await[0].clone();
    let timestamp = hook.header("x-opsline-timestamp").unwrap();
    assert_eq!(
        hook.header("x-opsline-signature").unwrap(),
        opsline_notify::sinks::webhook::signature(b"whsec-e2e", timestamp, &hook.body).unwrap()
    );
    assert_eq!(hook.json()["type"], "incident.opened");

    // Someone clicks Acknowledge in Slack: Slack posts a signed interaction to the gateway.
    let payload = serde_json::json!({
        "type": "block_actions",
        "user": {"id": "U0E2E", "username": "alice", "team_id": "T0E2E"},
        "team": {"id": "T0E2E", "domain": "example"},
        "container": {"type": "message", "message_ts": "1733500000.000100", "channel_id": "C0NOTIFY"},
        "trigger_id": "123.456.abc",
        "actions": [{
            "action_id": button["action_id"],
            "block_id": format!("incident:{id}"),
            "value": id.to_string(),
            "type": "button",
            "action_ts": "1733500010.000200"
        }]
    });
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let interactions = format!("{}/v1/chat/slack/interactions", gateway.url);
    let post_interaction = |signature: String, at: i64| {
        let (url, body) = (interactions.clone(), body.clone());
        async move {
            reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-slack-request-timestamp", at.to_string())
                .header("x-slack-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let at = opsline_e2e::selfservice::now();
    let forged = opsline_e2e::selfservice::sign("not-the-secret", at, body.as_bytes());
    assert_eq!(post_interaction(forged, at).await, 401, "a forged click is refused");
    let signed = opsline_e2e::selfservice::sign(SLACK_SIGNING_SECRET, at, body.as_bytes());
    assert_eq!(post_interaction(signed.clone(), at).await, 200);
    assert_eq!(post_interaction(signed, at).await, 401, "a replayed click is refused");
    let client = opsline_e2e::logintel_client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let shown = client
            .get(format!("{}/v1/incidents/{id}", logintel.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if shown.contains(r#""acknowledged_by":"slack:U0E2E""#) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not acknowledged by slack:U0E2E: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let slack = receivers.slack.wait_for(3, Duration::from_secs(30)).await;
    assert_eq!(
        slack[1].json()["thread_ts"],
        "1733500000.000100",
        "a reply in the thread"
    );
    assert!(
        slack[1].json()["text"]
            .as_str()
            .unwrap()
            .contains("Acknowledged by slack:U0E2E"),
        "{}",
        slack[1].json()
    );
    assert_eq!(slack[2].path, "/chat.update");
    let acknowledge = receivers.pagerduty.wait_for(2, Duration::from_secs(30)).await[1].json();
    assert_eq!(acknowledge["event_action"], "acknowledge");

    let resolved = client
        .post(format!("{}/v1/incidents/{id}/resolve", logintel.url))
        .json(&serde_json::json!({"by": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), 200);
    let slack = receivers.slack.wait_for(5, Duration::from_secs(30)).await;
    let reply = slack[3].json();
    assert_eq!(slack[3].path, "/chat.postMessage");
    assert_eq!(
        reply["thread_ts"], "1733500000.000100",
        "the resolve is a thread reply, not a new message"
    );
    assert!(reply["text"].as_str().unwrap().contains("Resolved"), "{reply}");
    assert_eq!(slack[4].path, "/chat.update");
    assert_eq!(slack[4].json()["ts"], "1733500000.000100");
    let resolve = receivers.pagerduty.wait_for(3, Duration::from_secs(30)).await[2].json();
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], id.to_string());
    let paths: Vec<String> = receivers
        .opsgenie
        .wait_for(3, Duration::from_secs(30))
        .await
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert!(paths[2].ends_with("/close?identifierType=alias"), "{paths:?}");
    receivers.teams.wait_for(3, Duration::from_secs(30)).await;
    receivers.webhook.wait_for(3, Duration::from_secs(30)).await;

    let latest = opsline_e2e::latest::<Incident, _>(&gateway.kafka, &gateway.names.name(&topics::INCIDENTS), |i| {
        i.incident_id
    })
    .await;
    assert_eq!(latest[&id].status, IncidentStatus::Resolved);
    // Nothing more arrives: no revision that changed nothing was sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = receivers.counts();
    assert_eq!(before, [5, 3, 3, 3, 3], "slack, teams, pagerduty, opsgenie, webhook");

    let metrics = opsline_e2e::scrape_metrics(&notify.url).await;
    for (target, count) in [("slack", 3), ("pagerduty", 3), ("webhook", 3)] {
        let line = format!("opsline_notify_sent_total{{target=\"{target}\",kind=\"{target}\"}} {count}");
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }
    assert!(
        metrics.contains("opsline_notify_delivery_seconds_bucket"),
        "latency per target"
    );

    // Stopped and started again, reading every incident revision from the start (a new group):
    // the state read back says everything was told.
    notify.stop().await.unwrap();
    let again = spawn::<Notify>(
        notify_config(&gateway.kafka, &prefix, &format!("{prefix}notify-again"), &receivers),
        (),
    )
    .await;
    again.wait_ready(Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(receivers.counts(), before, "nothing sent twice after a restart");
}
