//! The postmortem narrative with the real local model (llama-server + SmolLM2 135M,
//! `spawn_llama`) on a real broker: the deterministic draft (revision 1) is published before
//! the narrative; revision 2 of the same postmortem follows with the model and prompt version
//! recorded and citations of timeline events only; a replayed incident publishes nothing new;
//! with the model server stopped a new incident still gets its revision 1 and nothing else.
//! Prints the latency of revision 1 and revision 2 (README numbers).
//!
//! Skipped with `OPSLINE_SKIP_LLM=1`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use opsline_e2e::llm::{SMALL_MODEL_NAME, llm_skipped, spawn_llama};
use opsline_e2e::postmortem::spawn_postmortem;
use opsline_e2e::{spawn_broker, unique_prefix};
use opsline_events::logs::{Alert, AlertKind, Incident, IncidentStatus, LogOffset, Severity};
use opsline_events::ops::{LlmUsage, Postmortem};
use opsline_events::{Envelope, Event as _, TopicNames, topics};
use opsline_kafka::{KafkaConfig, KafkaMetrics, OutRecord, Producer};
use opsline_postmortem::draft::llm::NARRATIVE_TASK;
use opsline_postmortem::{Timestamp, postmortem_id};
use opsline_runtime::metrics::Metrics;
use uuid::Uuid;

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

fn alert(raw_topic: &str, id: u128, template: &str, at: i64) -> Alert {
    Alert {
        alert_id: Uuid::from_u128(id),
        service: "hdfs".into(),
        kind: AlertKind::ErrorSurge,
        severity: Severity::Critical,
        template_id: u64::try_from(id).unwrap(),
        template: template.into(),
        sample_lines: vec![format!("WARN dfs.DataNode: {template}")],
        count: 57,
        baseline: Some(1.5),
        window_start: ts(at - 60),
        window_end: ts(at),
        suppressed: 0,
        evidence: vec![LogOffset {
            topic: raw_topic.into(),
            partition: 2,
            offset: 88_412,
        }],
        origins: Default::default(),
        external: None,
    }
}

fn incident(alert: &Alert, title: &str) -> Incident {
    let mut incident = Incident::sample();
    incident.incident_id = Uuid::now_v7();
    incident.title = title.into();
    incident.status = IncidentStatus::Resolved;
    incident.opened_at = alert.window_end;
    incident.updated_at = alert.window_end;
    incident.resolved_at = Some(ts(alert.window_end.as_second() + 900));
    incident.alert_ids = vec![alert.alert_id];
    incident.evidence = alert.evidence.clone();
    incident
}

/// Every postmortem record with its offset (one partition).
async fn postmortems(kafka: &KafkaConfig, names: &TopicNames) -> Vec<(i64, Postmortem)> {
    opsline_kafka::reader::read_until_idle(
        kafka,
        &names.name(&topics::POSTMORTEMS),
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.offset, r.envelope::<Postmortem>().unwrap().data))
    .collect()
}

async fn wait_for(
    kafka: &KafkaConfig,
    names: &TopicNames,
    max: Duration,
    done: impl Fn(&[(i64, Postmortem)]) -> bool,
) -> Vec<(i64, Postmortem)> {
    let deadline = Instant::now() + max;
    loop {
        let seen = postmortems(kafka, names).await;
        if done(&seen) || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn revision(seen: &[(i64, Postmortem)], incident: &Incident, revision: u32) -> Option<(i64, Postmortem)> {
    let id = postmortem_id(incident.incident_id);
    seen.iter()
        .find(|(_, pm)| pm.postmortem_id == id && pm.revision == revision)
        .cloned()
}

/// The numbers of the `[T<n>]` citations in `text`, and the malformed ones.
fn cited(text: &str) -> (Vec<usize>, Vec<String>) {
    let (mut numbers, mut malformed) = (Vec::new(), Vec::new());
    for (start, _) in text.match_indices("[T") {
        let inner: String = text[start + 2..].chars().take_while(|c| *c != ']').collect();
        match inner.parse() {
            Ok(n) => numbers.push(n),
            Err(_) => malformed.push(inner),
        }
    }
    (numbers, malformed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrative_follows_the_draft_as_revision_two() {
    if llm_skipped("narrative_follows_the_draft_as_revision_two") {
        return;
    }
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = TopicNames::with_prefix(unique_prefix("postmortem_llm"));
    opsline_kafka::admin::create_topics(&kafka, &names.all_to_create())
        .await
        .unwrap();
    let mut llm = spawn_llama().await;
    let base_url = llm.base_url.clone();
    let service = spawn_postmortem(kafka.clone(), &names, Vec::new(), move |config| {
        config.alert_wait_ms = 5_000;
        config.llm.enabled = true;
        config.llm.base_url = base_url;
        config.llm.timeout_secs = 300;
        config.llm.retry.max_attempts = 1;
        config.llm.tasks.insert(
            NARRATIVE_TASK.into(),
            opsline_llm::TaskConfig {
                model: SMALL_MODEL_NAME.into(),
                temperature: 0.0,
                max_tokens: 400,
                priority: None,
                budget: Default::default(),
            },
        );
        config
            .llm
            .approved_models
            .insert(NARRATIVE_TASK.into(), vec![SMALL_MODEL_NAME.into()]);
    })
    .await;
    let producer = Producer::new(&kafka, &KafkaMetrics::register(&Metrics::new())).unwrap();
    let raw = names.name(&topics::RAW_LOGS);
    let produce_incident = |alert: Alert, incident: Incident| {
        let producer = producer.clone();
        let alerts = names.name(&topics::ALERTS);
        let incidents = names.name(&topics::INCIDENTS);
        async move {
            let a = OutRecord::event(alerts, &alert.service, &Envelope::new("e2e", alert.clone())).unwrap();
            producer.send(&a).await.unwrap();
            let key = incident.incident_id.to_string();
            let i = OutRecord::event(incidents, &key, &Envelope::new("e2e", incident)).unwrap();
            producer.send(&i).await.unwrap();
        }
    };

    // 1. The drafts are published at once, the narratives follow as revision 2. A 135M model
    //    cites the timeline only now and then (an answer that cites nothing is not published),
    //    so three incidents are narrated and at least one narrative must get through.
    let candidates: Vec<(Alert, Incident)> = [
        (
            "Exception in receiveBlock for block <*> <*>",
            "Error surge in hdfs: Exception in receiveBlock",
        ),
        (
            "PacketResponder <*> for block <*> terminating",
            "Error surge in hdfs: PacketResponder terminating",
        ),
        (
            "Connection refused to datanode <*>",
            "Error surge in hdfs: Connection refused",
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, (template, title))| {
        let at = 1_780_000_060 + 3_600 * i64::try_from(i).unwrap();
        let alert = alert(&raw, 21 + u128::try_from(i).unwrap(), template, at);
        let incident = incident(&alert, title);
        (alert, incident)
    })
    .collect();
    let produced = Instant::now();
    for (alert, incident) in &candidates {
        produce_incident(alert.clone(), incident.clone()).await;
    }
    let seen = wait_for(&kafka, &names, Duration::from_secs(60), |s| {
        candidates.iter().all(|(_, i)| revision(s, i, 1).is_some())
    })
    .await;
    let rev1_after = produced.elapsed();
    for (_, incident) in &candidates {
        let (_, rev1) = revision(&seen, incident, 1).expect("revision 1 within 60 s");
        assert_eq!(rev1.model, "none");
        assert!(
            revision(&seen, incident, 2).is_none(),
            "the draft did not wait for the model"
        );
    }
    // Until a revision 2 arrives or the worker is done with all three (its counter says how).
    let deadline = Instant::now() + Duration::from_secs(900);
    let narrated = |s: &[(i64, Postmortem)]| candidates.iter().any(|(_, i)| revision(s, i, 2).is_some());
    let seen = loop {
        let seen = wait_for(&kafka, &names, Duration::from_secs(3), narrated).await;
        let metrics = opsline_e2e::scrape_metrics(&service.url).await;
        let finished: f64 = metrics
            .lines()
            .filter(|l| l.starts_with("opsline_postmortem_narratives_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        if narrated(&seen) || finished >= 3.0 || Instant::now() > deadline {
            break seen;
        }
    };
    let rev2_after = produced.elapsed();
    let usage: Vec<LlmUsage> = opsline_kafka::reader::read_until_idle(
        &kafka,
        &names.name(&topics::LLM_USAGE),
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.envelope::<LlmUsage>().unwrap().data)
    .collect();
    let narrated_one = candidates
        .iter()
        .find_map(|(_, i)| Some((i.clone(), revision(&seen, i, 1)?, revision(&seen, i, 2)?)));
    let (first, expected_first_records) = match narrated_one {
        None => {
            // A 135M model may cite no timeline event in all three answers: then the worker must
            // have tried each one (one ledger record per call), published no revision 2, and kept
            // revision 1. What a grounded revision 2 looks like is checked when one arrives.
            eprintln!("no revision 2 this run (ungrounded answers); usage {usage:?}");
            let calls = usage.iter().filter(|u| u.task == NARRATIVE_TASK).count();
            assert!(calls >= 3, "every draft went to the model: {usage:?}");
            for (_, incident) in &candidates {
                assert!(revision(&seen, incident, 1).is_some());
                assert!(revision(&seen, incident, 2).is_none());
            }
            (candidates[0].1.clone(), 1)
        }
        Some((first, (rev1_offset, rev1), (rev2_offset, rev2))) => {
            eprintln!(
                "revision 1 of 3 incidents after {:.2} s, first revision 2 after {:.1} s (model calls {:?} ms)",
                rev1_after.as_secs_f64(),
                rev2_after.as_secs_f64(),
                usage.iter().map(|u| u.latency_ms).collect::<Vec<_>>()
            );
            assert!(rev1_offset < rev2_offset, "revision 1 precedes revision 2");
            assert_eq!(rev2.postmortem_id, rev1.postmortem_id);
            assert_eq!(rev2.draft_basis, rev1.draft_basis);
            assert_eq!(rev2.model, SMALL_MODEL_NAME);
            assert_eq!(rev2.prompt, "postmortem-narrative@3");
            assert!(
                usage.iter().any(|u| u.task == NARRATIVE_TASK && u.outcome == "ok"),
                "{usage:?}"
            );
            // Its citations name only events of the timeline (the entries under "## Timeline").
            let timeline = rev2.markdown.split("## Timeline").nth(1).expect("timeline section");
            let entries = timeline.lines().filter(|l| l.starts_with("- [T")).count();
            assert!(entries >= 3, "{}", rev2.markdown);
            let narrative = rev2.markdown.split("## Timeline").next().unwrap();
            let (numbers, malformed) = cited(narrative);
            assert!(!numbers.is_empty(), "{}", rev2.markdown);
            assert!(malformed.is_empty(), "{malformed:?}\n{}", rev2.markdown);
            assert!(
                numbers.iter().all(|n| (1..=entries).contains(n)),
                "{numbers:?}\n{}",
                rev2.markdown
            );
            assert!(!narrative.contains("[E"), "{}", rev2.markdown);
            eprintln!("revision 2:\n{}", rev2.markdown);

            (first, 2)
        }
    };
    // 2. A replayed incident publishes nothing new (same basis, narrative already there).
    let first_alert = candidates
        .iter()
        .find(|(_, i)| i.incident_id == first.incident_id)
        .map(|(a, _)| a.clone())
        .unwrap();
    produce_incident(first_alert, first.clone()).await;

    // 3. The model server stops: a new incident still gets its draft, and only that.
    llm.kill();
    let second_alert = alert(
        &raw,
        31,
        "Slow BlockReceiver write packet to mirror took <*>ms",
        1_780_020_000,
    );
    let second = incident(&second_alert, "Error surge in hdfs: slow BlockReceiver");
    let produced = Instant::now();
    produce_incident(second_alert, second.clone()).await;
    let seen = wait_for(&kafka, &names, Duration::from_secs(60), |s| {
        revision(s, &second, 1).is_some()
    })
    .await;
    assert!(revision(&seen, &second, 1).is_some(), "revision 1 without the model");
    eprintln!(
        "revision 1 without the model after {:.2} s",
        produced.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let seen = postmortems(&kafka, &names).await;
    assert!(revision(&seen, &second, 2).is_none(), "no narrative without the model");
    let first_id = postmortem_id(first.incident_id);
    let first_records = seen.iter().filter(|(_, pm)| pm.postmortem_id == first_id).count();
    assert_eq!(first_records, expected_first_records, "the replay published nothing");
    service.stop().await.expect("postmortem service ran without error");
}
