//! Scale-out and failure (#16 item 12) for the ticket triage and postmortem services: two
//! replicas in their own processes share the input partitions; one is killed with SIGKILL in
//! the middle of the stream. The survivor takes its partitions over from their last committed
//! offsets, and after dedup by id every input has exactly one outcome downstream: nothing
//! lost, and the duplicates (inputs the killed replica handled but never committed) agree.
//! (The log service's handover is `scale_out.rs`.)
//!
//! Tansu (memory) only: noida-db never evicts a dead group member, and Tansu with SQLite does not
//! hand its partitions to the survivor, so a killed replica's partitions
//! would never move (the test says so and passes without checking anything else there).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use opsline_classify::{TrainConfig, read_labeled_csv, train};
use opsline_e2e::postmortem::publish_incident;
use opsline_e2e::replica::Replica;
use opsline_e2e::{shared_data, spawn_broker, unique_prefix};
use opsline_events::logs::{Alert, Incident, IncidentStatus};
use opsline_events::ops::{Postmortem, postmortem_id};
use opsline_events::tickets::{RawTicket, TriagedTicket};
use opsline_events::{Envelope, Event, TopicNames, topics};
use opsline_kafka::{InRecord, KafkaConfig, KafkaMetrics, OutRecord, Producer};
use opsline_runtime::metrics::Metrics;
use uuid::Uuid;

const SERVICE_BIN: &str = env!("CARGO_BIN_EXE_opsline-e2e-service");
const TICKETS: usize = 1_200;
const INCIDENTS: usize = 60;

async fn topics_for(kafka: &KafkaConfig, test: &str) -> TopicNames {
    let names = TopicNames::with_prefix(unique_prefix(test));
    opsline_kafka::admin::create_topics(kafka, &names.all_to_create())
        .await
        .expect("create topics");
    names
}

/// Reads `topic` until `done` holds for the distinct ids seen (at most 180 s).
async fn read_until(kafka: &KafkaConfig, topic: &str, id_of: fn(&InRecord) -> String, wanted: usize) -> Vec<InRecord> {
    opsline_kafka::reader::read_topic(
        kafka,
        topic,
        |records| records.iter().map(id_of).collect::<BTreeSet<_>>().len() >= wanted,
        Duration::from_secs(60),
        Duration::from_secs(180),
    )
    .await
    .expect("read topic")
}

fn skip_without_eviction() -> bool {
    if opsline_e2e::broker_kind().hands_over_dead_members_partitions() {
        return false;
    }
    eprintln!(
        "skipped: this broker never hands a killed member's partitions to the survivor (run with OPSLINE_TEST_BROKER=tansu)"
    );
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_triage_replicas_and_a_sigkill_route_every_ticket_once_after_dedup() {
    if skip_without_eviction() {
        return;
    }
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = topics_for(&kafka, "scaletriage").await;
    let data = read_labeled_csv(shared_data().join("tickets/topic-train.csv"), &[], "").expect("training csv");
    let model = train(&data.texts[..3_000], &data.labels[..3_000], &TrainConfig::default()).expect("train");
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("tickets.model");
    model.save(&model_path).unwrap();
    let replica = || {
        let settings = [
            ("OPSLINE_TOPIC_PREFIX", names.prefix.clone()),
            ("OPSLINE_GROUP_ID", format!("{}triage", names.prefix)),
            ("OPSLINE_CLASSIFIER__MODEL_PATH", model_path.display().to_string()),
        ];
        Replica::start(SERVICE_BIN, "triage", &kafka, &settings)
    };
    let (first, second) = (replica(), replica());
    first.wait_ready().await;
    second.wait_ready().await;

    // Held-out tickets of the reference set, each from its own requester (the partition key),
    // sent as a stream that goes on while one replica dies.
    let raw = names.name(&topics::RAW_TICKETS);
    let triaged = names.name(&topics::TICKETS_TRIAGED);
    let sent: BTreeSet<String> = (0..TICKETS).map(|n| format!("SCALE-{n}")).collect();
    let texts: Vec<String> = data.texts[3_000..3_000 + TICKETS].to_vec();
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let stream = tokio::spawn(async move {
        for (n, text) in texts.into_iter().enumerate() {
            let ticket = RawTicket {
                ticket_id: format!("SCALE-{n}"),
                requester: format!("user{n}@example.org"),
                subject: text.chars().take(80).collect(),
                description: text,
                channel: "portal".into(),
                service: None,
                attributes: BTreeMap::new(),
            };
            let record =
                OutRecord::event(raw.clone(), &ticket.requester, &Envelope::new("e2e", ticket.clone())).unwrap();
            producer.send(&record).await.unwrap();
            if n % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    // Mid-stream: one replica dies once a quarter has been triaged.
    let id = |r: &InRecord| {
        r.envelope::<TriagedTicket>()
            .map(|e| e.data.ticket_id)
            .unwrap_or_default()
    };
    read_until(&kafka, &triaged, id, TICKETS / 4).await;
    first.sigkill();
    let still_sending = !stream.is_finished();
    stream.await.unwrap();
    assert!(still_sending, "the stream went on past the SIGKILL");
    let records = read_until(&kafka, &triaged, id, TICKETS).await;
    second.sigterm();

    let mut decisions: HashMap<String, BTreeSet<String>> = HashMap::new();
    for record in &records {
        let ticket = record.envelope::<TriagedTicket>().expect("triaged envelope").data;
        let decision = format!("{} {:?} {:.6}", ticket.category, ticket.disposition, ticket.confidence);
        decisions.entry(ticket.ticket_id).or_default().insert(decision);
    }
    let got: BTreeSet<String> = decisions.keys().cloned().collect();
    let lost: Vec<_> = sent.difference(&got).collect();
    assert!(lost.is_empty(), "lost {} tickets: {lost:?}", lost.len());
    assert_eq!(got, sent, "no ticket that was not sent");
    let disagreeing: Vec<_> = decisions.iter().filter(|(_, d)| d.len() > 1).collect();
    assert!(disagreeing.is_empty(), "duplicates disagree: {disagreeing:?}");
    eprintln!(
        "{} triaged records for {} tickets ({} handled twice around the SIGKILL)",
        records.len(),
        got.len(),
        records.len() - got.len()
    );
}

fn resolved_incident() -> (Incident, Alert) {
    let mut alert = Alert::sample();
    alert.alert_id = Uuid::now_v7();
    let mut incident = Incident::sample();
    incident.incident_id = Uuid::now_v7();
    incident.status = IncidentStatus::Resolved;
    incident.alert_ids = vec![alert.alert_id];
    (incident, alert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postmortem_replicas_and_a_sigkill_draft_every_incident_once_after_dedup() {
    if skip_without_eviction() {
        return;
    }
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = topics_for(&kafka, "scalepm").await;
    let replica = |name: &str| {
        let settings = [
            ("OPSLINE_TOPIC_PREFIX", names.prefix.clone()),
            ("OPSLINE_GROUP_ID", format!("{}postmortem", names.prefix)),
            // Each replica serves every postmortem: its own index group.
            (
                "OPSLINE_INDEX_GROUP_ID",
                format!("{}postmortem-index-{name}", names.prefix),
            ),
        ];
        Replica::start(SERVICE_BIN, "postmortem", &kafka, &settings)
    };
    let (first, second) = (replica("a"), replica("b"));
    first.wait_ready().await;
    second.wait_ready().await;
    let postmortems = names.name(&topics::POSTMORTEMS);
    let id = |r: &InRecord| {
        r.envelope::<Postmortem>()
            .map(|e| e.data.postmortem_id.to_string())
            .unwrap_or_default()
    };
    let incidents: Vec<(Incident, Alert)> = (0..INCIDENTS).map(|_| resolved_incident()).collect();
    let expected: BTreeSet<String> = incidents
        .iter()
        .map(|(incident, _)| postmortem_id(incident.incident_id).to_string())
        .collect();
    let (stream_kafka, stream_names) = (kafka.clone(), names.clone());
    let stream = tokio::spawn(async move {
        for (incident, alert) in &incidents {
            publish_incident(&stream_kafka, &stream_names, incident, alert).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // Mid-stream: one replica dies once a quarter has been drafted.
    read_until(&kafka, &postmortems, id, INCIDENTS / 4).await;
    first.sigkill();
    let still_sending = !stream.is_finished();
    stream.await.unwrap();
    assert!(still_sending, "the stream went on past the SIGKILL");
    let records = read_until(&kafka, &postmortems, id, INCIDENTS).await;
    second.sigterm();

    let mut drafts: HashMap<String, BTreeSet<String>> = HashMap::new();
    for record in &records {
        let postmortem = record.envelope::<Postmortem>().expect("postmortem envelope").data;
        drafts
            .entry(postmortem.postmortem_id.to_string())
            .or_default()
            .insert(format!("{} {}", postmortem.revision, postmortem.markdown));
    }
    let got: BTreeSet<String> = drafts.keys().cloned().collect();
    assert_eq!(got, expected, "one postmortem per incident, none lost");
    let disagreeing = drafts.values().filter(|d| d.len() > 1).count();
    assert_eq!(disagreeing, 0, "a redrafted incident got a different draft");
    eprintln!(
        "{} postmortem records for {} incidents ({} drafted twice around the SIGKILL)",
        records.len(),
        got.len(),
        records.len() - got.len()
    );
}
