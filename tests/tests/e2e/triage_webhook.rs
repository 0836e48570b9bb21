//! The helpdesk webhook: every routed revision is POSTed as JSON; a revision the
//! helpdesk keeps refusing is retried, then dead-lettered to `<routed>.dlq` with the reason.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsline_classify::{TrainConfig, train};
use opsline_e2e::spawn::spawn;
use opsline_e2e::{read_n, spawn_broker, unique_prefix};
use opsline_events::ops::DeadLetter;
use opsline_events::tickets::{RawTicket, RoutedTicket};
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_runtime::metrics::Metrics;
use opsline_triage::{Triage, TriageConfig};

/// A helpdesk that accepts every ticket except `T-refused` (HTTP 500), recording what it accepted.
async fn helpdesk(accepted: Arc<Mutex<Vec<RoutedTicket>>>) -> String {
    let app = axum::Router::new().fallback(move |axum::Json(ticket): axum::Json<RoutedTicket>| {
        let accepted = accepted.clone();
        async move {
            if ticket.ticket_id == "T-refused" {
                return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            }
            accepted.lock().unwrap().push(ticket);
            axum::http::StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/tickets")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_are_posted_and_failures_dead_lettered() {
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let url = helpdesk(accepted.clone()).await;
    let model = train(
        &[
            "vpn tunnel drops",
            "vpn client error",
            "printer toner empty",
            "printer paper jam",
        ],
        &["Network", "Network", "Printing", "Printing"],
        &TrainConfig {
            validation_fraction: 0.0,
            features: opsline_classify::FeatureConfig {
                min_df: 1,
                ..Default::default()
            },
            ..TrainConfig::default()
        },
    )
    .unwrap();
    let prefix = unique_prefix("triage_webhook");
    let names = TopicNames::with_prefix(prefix.clone());
    let mut config = TriageConfig {
        topic_prefix: prefix,
        kafka: kafka.clone(),
        ..TriageConfig::default()
    };
    config.classifier.human_review_threshold = 0.0;
    config.helpdesk_webhook.url = url;
    config.helpdesk_webhook.max_attempts = 3;
    config.helpdesk_webhook.min_delay_ms = 20;
    let service = spawn::<Triage>(config, Some(model)).await;

    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    for id in ["T-ok", "T-refused"] {
        let ticket = RawTicket {
            ticket_id: id.into(),
            requester: "bob@example.org".into(),
            subject: "Printer toner empty".into(),
            description: String::new(),
            channel: "api".into(),
            service: None,
            attributes: BTreeMap::new(),
        };
        let envelope = Envelope::new("test", ticket);
        let record = OutRecord::event(names.name(&topics::RAW_TICKETS), "bob@example.org", &envelope).unwrap();
        producer.send(&record).await.unwrap();
    }

    let dlq = TopicNames::dead_letter(&names.name(&topics::TICKETS_ROUTED));
    let letters = read_n(&kafka, &dlq, 1, Duration::from_secs(60)).await;
    assert_eq!(letters.len(), 1);
    let letter = letters[0].envelope::<DeadLetter>().unwrap().data;
    assert_eq!(letter.error_code, "webhook_failed");
    assert_eq!(letter.key.as_deref(), Some("T-refused"));
    assert!(letter.reason.contains("3 attempts"), "{}", letter.reason);
    let delivered = accepted.lock().unwrap().clone();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!((delivered[0].ticket_id.as_str(), delivered[0].revision), ("T-ok", 1));
    assert_eq!(delivered[0].queue, "Printing");

    service.stop().await.unwrap();
}
