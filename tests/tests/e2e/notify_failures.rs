//! The notify service's failure paths on the real broker: a target that refuses (Opsgenie's 401)
//! is dead-lettered at once with its reason (no retry storm), a slow target (a webhook answering
//! after seconds, with a queue of one) stalls neither the others nor the incident consumer, and
//! what its full queue cannot take is dead-lettered (`queue_full`), never dropped silently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use opsline_e2e::receiver::{Answer, Receiver};
use opsline_e2e::spawn::spawn;
use opsline_events::incidents::{Incident, IncidentStatus};
use opsline_events::ops::DeadLetter;
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_notify::config::{DeliveryConfig, RuleConfig, TargetConfig, TargetKind};
use opsline_notify::{Notify, NotifyConfig};
use opsline_runtime::metrics::Metrics;
use secrecy::SecretString;

const SLACK_OK: &str = r#"{"ok":true,"channel":"C0FAIL","ts":"1733500000.000900"}"#;

fn target(kind: TargetKind, base_url: &str, secret: &str) -> TargetConfig {
    TargetConfig {
        kind,
        base_url: Some(base_url.to_owned()),
        channel: (kind == TargetKind::Slack).then(|| "C0FAIL".to_owned()),
        url: (kind == TargetKind::Webhook).then(|| format!("{base_url}/slow")),
        secret: Some(SecretString::from(secret.to_owned())),
        secret_file: None,
        incident_url: None,
        // The slow webhook holds one notification waiting; the others the default.
        queue_capacity: (kind == TargetKind::Webhook).then_some(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_target_is_dead_lettered_and_a_slow_one_stalls_nobody() {
    let broker = opsline_e2e::spawn_broker().await;
    let kafka = broker.config();
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix("notifyfail"));
    let slack = Receiver::start(Answer::new(200, SLACK_OK)).await;
    let opsgenie = Receiver::start(Answer::new(
        401,
        r#"{"message":"Could not authenticate","took":0.0,"requestId":"5d4e6f0a-8e58-4a40-9b77-5d2a8a5f3b0e"}"#,
    ))
    .await;
    let webhook = Receiver::start(Answer::new(204, "").with_delay(Duration::from_secs(3))).await;
    let mut targets = BTreeMap::new();
    targets.insert("slack".to_owned(), target(TargetKind::Slack, &slack.url, "xoxb-fail"));
    targets.insert(
        "opsgenie".to_owned(),
        target(TargetKind::Opsgenie, &opsgenie.url, "revoked"),
    );
    targets.insert(
        "slow-hook".to_owned(),
        target(TargetKind::Webhook, &webhook.url, "whsec"),
    );
    let notify = spawn::<Notify>(
        NotifyConfig {
            topic_prefix: names.prefix.clone(),
            group_id: format!("{}notify", names.prefix),
            kafka: kafka.clone(),
            rules: vec![RuleConfig {
                services: Vec::new(),
                min_severity: None,
                team: None,
                targets: targets.keys().cloned().collect(),
            }],
            targets,
            delivery: DeliveryConfig {
                min_delay_ms: 10,
                ..DeliveryConfig::default()
            },
            ..NotifyConfig::default()
        },
        (),
    )
    .await;
    notify.wait_ready(Duration::from_secs(60)).await;

    // Three incidents open at once.
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let incidents_topic = names.name(&topics::INCIDENTS);
    let mut ids = Vec::new();
    for n in 0..3u128 {
        let mut incident = Incident::sample();
        incident.incident_id = uuid::Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_1000 + n);
        incident.service = format!("api-{n}");
        incident.status = IncidentStatus::Open;
        incident.resolved_at = None;
        incident.resolved_by = None;
        incident.response = None;
        let record = OutRecord::event(
            incidents_topic.clone(),
            &incident.incident_id.to_string(),
            &Envelope::new("test", incident.clone()),
        )
        .unwrap();
        producer.send(&record).await.unwrap();
        ids.push(incident.incident_id);
    }

    // Slack hears of all three while the slow webhook is still on its first.
    slack.wait_for(3, Duration::from_secs(30)).await;
    assert!(webhook.seen().len() <= 1, "the slow target held the others back");

    // Opsgenie refused each once (no retries); the full queue of the slow one dead-lettered one.
    let dlq = TopicNames::dead_letter(&incidents_topic);
    let letters_of = |records: &[opsline_kafka::InRecord]| -> Vec<DeadLetter> {
        records
            .iter()
            .map(|r| r.envelope::<DeadLetter>().unwrap().data)
            .collect()
    };
    let records = opsline_kafka::reader::read_topic(
        &kafka,
        &dlq,
        |records| {
            let letters = letters_of(records);
            let count = |consumer: &str| letters.iter().filter(|l| l.consumer == consumer).count();
            count("notify:opsgenie") == 3 && count("notify:slow-hook") >= 1
        },
        Duration::from_secs(20),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let letters = letters_of(&records);
    assert_eq!(opsgenie.seen().len(), 3, "one request per incident, no retry storm");
    let refused: Vec<&DeadLetter> = letters.iter().filter(|l| l.consumer == "notify:opsgenie").collect();
    assert_eq!(refused.len(), 3, "{letters:?}");
    for letter in &refused {
        assert_eq!((letter.error_code.as_str(), letter.retryable), ("unauthorized", false));
        assert!(letter.reason.contains("Could not authenticate"), "{}", letter.reason);
        assert_eq!(letter.original_topic, incidents_topic);
        let original = base64::engine::general_purpose::STANDARD
            .decode(&letter.payload_base64)
            .unwrap();
        let incident = Envelope::<Incident>::from_json(&original).unwrap().data;
        assert!(
            ids.contains(&incident.incident_id),
            "the dead letter carries the revision"
        );
    }
    // With one place in its queue and the first still being sent, one or two of the three did
    // not fit (depending on whether its task had taken the first out yet): dead-lettered.
    let full: Vec<&DeadLetter> = letters.iter().filter(|l| l.consumer == "notify:slow-hook").collect();
    assert!((1..=2).contains(&full.len()), "{letters:?}");
    assert!(full.iter().all(|l| l.error_code == "queue_full" && l.retryable));
    // Those it queued still arrive.
    webhook.wait_for(3 - full.len(), Duration::from_secs(30)).await;
    let metrics = opsline_e2e::scrape_metrics(&notify.url).await;
    assert!(
        metrics
            .contains(r#"opsline_notify_dead_lettered_total{target="opsgenie",kind="opsgenie",code="unauthorized"} 3"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_windows_and_quiet_hours_keep_notifications_back_and_say_so() {
    use opsline_events::incidents::SevLevel;
    use opsline_events::notify::{NotificationOutcome, NotificationState};
    use opsline_notify::config::{MaintenanceConfig, QuietAction, QuietHoursConfig};

    let broker = opsline_e2e::spawn_broker().await;
    let kafka = broker.config();
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix("notifyquiet"));
    let slack = Receiver::start(Answer::new(200, SLACK_OK)).await;
    let mut targets = BTreeMap::new();
    targets.insert("slack".to_owned(), target(TargetKind::Slack, &slack.url, "xoxb-quiet"));
    let now = jiff::Timestamp::now();
    let notify = spawn::<Notify>(
        NotifyConfig {
            topic_prefix: names.prefix.clone(),
            group_id: format!("{}notify", names.prefix),
            kafka: kafka.clone(),
            rules: vec![RuleConfig {
                services: Vec::new(),
                min_severity: None,
                team: None,
                targets: vec!["slack".to_owned()],
            }],
            targets,
            // api-0 is being worked on; all day, anything below sev1 is quiet (dropped).
            maintenance: vec![MaintenanceConfig {
                service: "api-0".to_owned(),
                start: now - jiff::SignedDuration::from_hours(1),
                end: now + jiff::SignedDuration::from_hours(1),
            }],
            quiet_hours: vec![QuietHoursConfig {
                days: Vec::new(),
                start: "00:00".to_owned(),
                end: "24:00".to_owned(),
                utc_offset: None,
                below: Some(SevLevel::Sev1),
                action: QuietAction::Drop,
            }],
            ..NotifyConfig::default()
        },
        (),
    )
    .await;
    notify.wait_ready(Duration::from_secs(60)).await;

    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let incidents_topic = names.name(&topics::INCIDENTS);
    for (n, sev) in [(0u128, SevLevel::Sev1), (1, SevLevel::Sev1), (2, SevLevel::Sev2)] {
        let mut incident = Incident::sample();
        incident.incident_id = uuid::Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_2000 + n);
        incident.service = format!("api-{n}");
        incident.status = IncidentStatus::Open;
        incident.response = None;
        incident.attention.as_mut().unwrap().sev = sev;
        let record = OutRecord::event(
            incidents_topic.clone(),
            &incident.incident_id.to_string(),
            &Envelope::new("test", incident),
        )
        .unwrap();
        producer.send(&record).await.unwrap();
    }

    // Each is recorded on the state topic: api-1 sent, the others suppressed (so never sent later).
    let state_topic = names.name(&topics::NOTIFY_STATE);
    let records = opsline_kafka::reader::read_topic(
        &kafka,
        &state_topic,
        |records| records.len() >= 3,
        Duration::from_secs(20),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let outcomes: BTreeMap<String, NotificationOutcome> = records
        .iter()
        .map(|r| r.envelope::<NotificationState>().unwrap().data)
        .map(|s| (s.incident_id.to_string(), s.outcome))
        .collect();
    let id = |n: u128| uuid::Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_2000 + n).to_string();
    assert_eq!(outcomes[&id(0)], NotificationOutcome::Suppressed, "maintenance window");
    assert_eq!(outcomes[&id(1)], NotificationOutcome::Sent);
    assert_eq!(outcomes[&id(2)], NotificationOutcome::Suppressed, "quiet hours");
    let seen = slack.seen();
    assert_eq!(seen.len(), 1, "only the sev1 incident outside maintenance");
    assert!(seen[0].json()["text"].as_str().unwrap().contains("api-1"));
    let metrics = opsline_e2e::scrape_metrics(&notify.url).await;
    for code in ["maintenance", "quiet_hours"] {
        let line = format!(r#"opsline_notify_suppressed_total{{target="slack",kind="slack",code="{code}"}} 1"#);
        assert!(metrics.contains(&line), "{line}");
    }
    drop(producer);
    notify.stop().await.unwrap();
}
