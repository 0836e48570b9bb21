//! Request Tracker end to end, on the real broker with a real RT 5 (Debian's package, started
//! per test by `opsline_e2e::rt`): tickets created in RT through its REST 2 API are taken in by
//! the helpdesk service through the gateway, routed by triage, and written back to RT: the
//! confident one moves to its queue with its priority, Opsline's note and one private comment;
//! the low-confidence one stays in the triage queue. A later revision (the enrichment) updates
//! the same note without a second comment; a person's re-route in RT becomes feedback on the
//! topic, and neither a later revision nor a replay of an older one moves the ticket back.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use opsline_classify::{Model, TrainConfig, read_labeled_csv, train};
use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::rt::{RT_PASSWORD, RT_USER, TestRt, spawn_rt};
use opsline_e2e::spawn::spawn;
use opsline_e2e::{read_n, shared_data};
use opsline_events::ops::DeadLetter;
use opsline_events::tickets::{Citation, RoutedTicket, TicketFeedback};
use opsline_events::{Envelope, TopicNames, topics};
use opsline_gateway::{IngestKeyConfig, hash_key};
use opsline_helpdesk::config::PriorityMap;
use opsline_helpdesk::{Helpdesk, HelpdeskConfig};
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_runtime::metrics::Metrics;
use opsline_triage::{Triage, TriageConfig};
use secrecy::SecretString;

/// The ingest key the helpdesk service posts RT tickets with; its name is the ticket prefix.
const RT_KEY: &str = "opsline-e2e-rt-intake-key";

fn small_model() -> (Model, Vec<String>, Vec<String>) {
    let data = read_labeled_csv(shared_data().join("tickets/topic-train.csv"), &[], "").expect("training csv");
    let n = data.texts.len().min(4000);
    let model = train(&data.texts[..n], &data.labels[..n], &TrainConfig::default()).expect("train");
    (model, data.texts, data.labels)
}

async fn wait_for<F, Fut>(what: &str, max: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + max;
    loop {
        let last = match check().await {
            Ok(()) => return,
            Err(last) => last,
        };
        assert!(Instant::now() < deadline, "{what} within {max:?}; last seen: {last}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn note_contains(rt: &TestRt, id: &str, text: &str) -> Result<(), String> {
    let view = rt.ticket(id).await;
    let note = view.fields.get("Opsline Note").cloned().unwrap_or_default();
    if note.contains(text) {
        Ok(())
    } else {
        Err(format!("{view:?}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt_tickets_are_routed_written_back_and_rerouted_as_feedback() {
    let broker = opsline_e2e::spawn_broker().await;
    let kafka = broker.config();
    let (model, texts, labels) = small_model();
    // A training row the model routes confidently, and nonsense it does not.
    let words: Vec<&str> = texts[0].split_whitespace().collect();
    let (subject, content) = (words[..4].join(" "), words[4..].join(" "));
    let label = labels[0].clone();
    let expected = model.predict(&format!("{subject} {content}"));
    let odd = model.predict("zzqx qwvx blorf plimb");
    let threshold = f64::from(odd.confidence) + 0.02;
    assert_eq!(expected.label, label);
    assert!(f64::from(expected.confidence) > threshold, "{expected:?} vs {odd:?}");
    let other = labels.iter().find(|l| **l != label).unwrap().clone();
    let mut queues: Vec<&str> = labels.iter().map(String::as_str).collect();
    queues.sort_unstable();
    queues.dedup();
    queues.push("Triage");
    let rt = spawn_rt(&queues).await;

    let gateway = spawn_gateway(kafka.clone(), "helpdesk_rt", |c| {
        let mut key = IngestKeyConfig::new("rt", hash_key(RT_KEY));
        key.requests_per_sec = 0.0;
        c.keys.push(key);
    })
    .await;
    let names = gateway.names.clone();
    let mut triage_config = TriageConfig {
        topic_prefix: names.prefix.clone(),
        kafka: kafka.clone(),
        ..TriageConfig::default()
    };
    triage_config.classifier.human_review_threshold = threshold;
    let triage = spawn::<Triage>(triage_config, Some(model)).await;
    let mut config = HelpdeskConfig {
        topic_prefix: names.prefix.clone(),
        kafka: kafka.clone(),
        ..HelpdeskConfig::default()
    };
    config.retry.min_delay_ms = 50;
    config.rt.url = rt.url.clone();
    config.rt.user = RT_USER.into();
    config.rt.password = Some(SecretString::from(RT_PASSWORD));
    config.rt.min_confidence = threshold;
    config.rt.intake.enabled = true;
    config.rt.intake.gateway_url = gateway.url.clone();
    config.rt.intake.ingest_key = Some(SecretString::from(RT_KEY));
    config.rt.intake.poll_interval_ms = 300;
    config.rt.feedback.poll_interval_ms = 300;
    let helpdesk = spawn::<Helpdesk>(config, ()).await;

    // Two tickets created in RT, as a requestor's mail or RT's web form would.
    let confident = rt
        .create_ticket("Triage", "alice@example.org", &subject, &content)
        .await;
    let doubtful = rt
        .create_ticket("Triage", "bob@example.org", "zzqx qwvx", "blorf plimb")
        .await;

    let routed_topic = names.name(&topics::TICKETS_ROUTED);
    let routed: BTreeMap<String, RoutedTicket> = read_n(&kafka, &routed_topic, 2, Duration::from_secs(90))
        .await
        .iter()
        .map(|r| r.envelope::<RoutedTicket>().unwrap().data)
        .map(|t| (t.ticket_id.clone(), t))
        .collect();
    let first = routed
        .get(&format!("rt:{confident}"))
        .unwrap_or_else(|| panic!("RT ticket {confident} taken in and routed: {routed:?}"))
        .clone();
    assert_eq!((first.queue.as_str(), first.revision), (label.as_str(), 1));
    assert!(routed.contains_key(&format!("rt:{doubtful}")), "{routed:?}");

    // Written back: queue, priority, note and one private comment.
    wait_for(
        "the confident ticket moved to its queue",
        Duration::from_secs(60),
        || async {
            let view = rt.ticket(&confident).await;
            if view.queue == label {
                Ok(())
            } else {
                Err(format!("{view:?}"))
            }
        },
    )
    .await;
    let view = rt.ticket(&confident).await;
    assert_eq!(view.priority, PriorityMap::default().of(first.priority).to_string());
    let note = &view.fields["Opsline Note"];
    assert!(
        note.contains("revision 1") && note.contains(&format!("moved to {label}")),
        "{note}"
    );
    let comments = rt.comments(&confident).await;
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].contains(&format!("Queue: {label}")), "{comments:?}");

    // The low-confidence ticket stays in the triage queue, with the note saying why.
    wait_for("the doubtful ticket's note", Duration::from_secs(60), || {
        note_contains(&rt, &doubtful, "stays in Triage")
    })
    .await;
    assert_eq!(rt.ticket(&doubtful).await.queue, "Triage");

    // Revision 2 (the enrichment) updates the same note; no second comment.
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let send = |ticket: RoutedTicket| {
        let producer = producer.clone();
        let topic = routed_topic.clone();
        async move {
            let record = OutRecord::event(
                topic,
                &ticket.ticket_id.clone(),
                &Envelope::new("opsline-triage", ticket),
            )
            .unwrap();
            producer.send(&record).await.unwrap();
        }
    };
    let enriched = RoutedTicket {
        revision: 2,
        summary: Some("The requester's laptop needs a new docking station.".into()),
        suggested_reply: Some("We have ordered a docking station for you.".into()),
        citations: vec![Citation {
            kind: "runbook".into(),
            reference: "runbooks/hardware.md".into(),
        }],
        incident_id: Some(uuid::Uuid::nil()),
        enrichment_model: Some("test-model/ticket-summary@1".into()),
        ..first.clone()
    };
    send(enriched.clone()).await;
    wait_for("the note updated to revision 2", Duration::from_secs(60), || {
        note_contains(
            &rt,
            &confident,
            "Summary: The requester's laptop needs a new docking station.",
        )
    })
    .await;
    let note = rt.ticket(&confident).await.fields["Opsline Note"].clone();
    for part in [
        "revision 2",
        "Suggested reply:\nWe have ordered a docking station for you.",
        "Sources: runbook runbooks/hardware.md",
        "Linked incident: 00000000-0000-0000-0000-000000000000",
    ] {
        assert!(note.contains(part), "{part} in {note}");
    }
    assert_eq!(
        rt.comments(&confident).await.len(),
        1,
        "one comment, the note updated in place"
    );

    // A person re-routes the ticket in RT: feedback on the topic.
    rt.move_ticket(&confident, &other).await;
    let feedback_topic = names.name(&topics::TICKETS_FEEDBACK);
    let feedback = read_n(&kafka, &feedback_topic, 1, Duration::from_secs(60)).await;
    assert_eq!(feedback.len(), 1, "the RT re-route is published as feedback");
    let feedback = feedback[0].envelope::<TicketFeedback>().unwrap().data;
    assert_eq!(feedback.ticket_id, format!("rt:{confident}"));
    assert_eq!(
        (feedback.from_queue.as_str(), feedback.to_queue.as_str()),
        (label.as_str(), other.as_str())
    );
    assert_eq!(feedback.by, RT_USER);
    assert_eq!(feedback.revision, 3);

    // Neither a replay of revision 1 nor a later revision moves it back; the note follows.
    send(first.clone()).await;
    send(RoutedTicket {
        revision: 3,
        confidence: 0.99,
        ..enriched.clone()
    })
    .await;
    wait_for("the note updated to revision 3", Duration::from_secs(60), || {
        note_contains(&rt, &confident, "revision 3")
    })
    .await;
    let view = rt.ticket(&confident).await;
    assert_eq!(view.queue, other, "a person's re-route wins: {view:?}");
    assert!(
        view.fields["Opsline Note"].contains(&format!("left in {other}")),
        "{view:?}"
    );
    assert_eq!(rt.comments(&confident).await.len(), 1);
    let again = read_n(&kafka, &feedback_topic, 2, Duration::from_secs(3)).await;
    assert_eq!(again.len(), 1, "the re-route is reported once");

    // A revision of a ticket RT does not have is dead-lettered with the reason; later ones still flow.
    send(RoutedTicket {
        ticket_id: "rt:999999".into(),
        ..first.clone()
    })
    .await;
    let dlq = TopicNames::dead_letter(&routed_topic);
    let letters = read_n(&kafka, &dlq, 1, Duration::from_secs(60)).await;
    assert_eq!(letters.len(), 1, "dead letter of the unknown RT ticket");
    let letter = letters[0].envelope::<DeadLetter>().unwrap().data;
    assert_eq!(letter.error_code, "helpdesk_not_found");
    assert_eq!(letter.key.as_deref(), Some("rt:999999"));
    let metrics = opsline_e2e::scrape_metrics(&helpdesk.url).await;
    assert!(
        metrics.contains(r#"opsline_helpdesk_writebacks_total{sink="rt",outcome="applied"}"#),
        "{metrics}"
    );

    helpdesk.stop().await.expect("helpdesk stopped cleanly");
    triage.stop().await.expect("triage stopped cleanly");
    gateway.stop().await.expect("gateway stopped cleanly");
}
