#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use opsline_events::logs::LogOffset;

use super::*;
use crate::engine::{Engine, EngineConfig, LineInput, Sampling};
use crate::processor::Shared;
use crate::state::{restore, take_snapshot};

/// Answers every prompt with one template and counts its calls.
#[derive(Clone)]
struct Fixed {
    answer: Result<&'static str, &'static str>,
    calls: Arc<AtomicUsize>,
}

impl Fixed {
    fn new(answer: Result<&'static str, &'static str>) -> Self {
        Self {
            answer,
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Proposer for Fixed {
    async fn propose(&self, _samples: &[String]) -> Result<Proposal, &'static str> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.answer.map(|text| Proposal {
            template: tidy(text),
            model: "fixed".into(),
            prompt: "template-refinement@1".into(),
        })
    }
}

fn engine(samples: usize) -> Engine {
    let config = crate::config::LogintelConfig::default();
    Engine::new(EngineConfig {
        miner: config.miner,
        detector: config.detector,
        incidents: config.incidents,
        max_services: config.max_services,
        refine: Some(Sampling {
            samples,
            max_pending: 8,
            max_chars: 512,
        }),
    })
    .unwrap()
}

fn ingest(engine: &mut Engine, service: &str, offset: i64, line: &str) -> u64 {
    let input = LineInput {
        service,
        line: line.as_bytes(),
        fallback_time: None,
        ingested_at: None,
        evidence: LogOffset {
            topic: "raw".into(),
            partition: 0,
            offset,
        },
        host: None,
    };
    engine.ingest(&input).unwrap();
    let state = engine.service(service).unwrap();
    *state.detector.templates.keys().max().unwrap()
}

/// Lease lines (the miner's template: `lease <*> renewed for <*>`).
fn lease(n: u32) -> String {
    format!("lease {n} renewed for node-{}", n * 7)
}

/// Chunk lines: the miner masks `chunk_-12` whole (`flushed <*> to disk`), a model may keep
/// the constant prefix (`flushed chunk_<*> to disk`), which the check accepts.
fn chunk(n: u32) -> String {
    format!("flushed chunk_-{n} to disk")
}

const CHUNK_TEMPLATE: &str = "flushed chunk_<*> to disk";

/// Feeds `lines` to `engine` and returns every request taken after each line.
fn feed(engine: &mut Engine, service: &str, lines: &[String]) -> Vec<RefineRequest> {
    let mut requests = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        ingest(engine, service, i as i64, line);
        requests.extend(engine.take_refine_requests().0);
    }
    requests
}

#[test]
fn a_new_template_submits_one_job_once_it_has_k_distinct_lines() {
    let mut engine = engine(3);
    let mut lines = vec![lease(1), lease(1), lease(2)];
    assert!(
        feed(&mut engine, "db", &lines).is_empty(),
        "two distinct lines are not enough"
    );
    lines = (3..10).map(lease).collect();
    let requests = feed(&mut engine, "db", &lines);
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(request.service, "db");
    assert_eq!(request.samples, vec![lease(1), lease(2), lease(3)]);
    let mined = engine.template_text("db", request.template_id).unwrap();
    assert_eq!(request.template, mined);
    // Refinement off: no request at all.
    let mut plain = engine_without_refinement();
    assert!(feed(&mut plain, "db", &lines).is_empty());
}

fn engine_without_refinement() -> Engine {
    let config = crate::config::LogintelConfig::default();
    Engine::new(config.engine_config()).unwrap()
}

#[test]
fn sample_lines_are_redacted_and_headers_removed() {
    let mut engine = engine(2);
    let lines = [
        "2024-05-01 10:00:00 INFO mailer: delivery to alice@example.com failed after 3 tries".to_owned(),
        "2024-05-01 10:00:01 INFO mailer: delivery to bob@example.org failed after 5 tries".to_owned(),
    ];
    let requests = feed(&mut engine, "mail", &lines);
    assert_eq!(requests.len(), 1, "{requests:?}");
    for sample in &requests[0].samples {
        assert!(!sample.contains('@') && sample.contains("[EMAIL]"), "{sample}");
        assert!(!sample.contains("10:00"), "header kept: {sample}");
    }
}

#[tokio::test]
async fn an_accepted_refinement_yields_one_event_and_updates_the_template_text() {
    let mut engine = engine(3);
    let requests = feed(&mut engine, "db", &(1..4).map(chunk).collect::<Vec<_>>());
    let [request] = requests.as_slice() else {
        panic!("one request: {requests:?}")
    };
    let mined = engine.template_text("db", request.template_id).unwrap();
    assert_eq!(mined, "flushed <*> to disk");
    let shared = Shared::new(engine, Default::default());
    let model = Fixed::new(Ok(CHUNK_TEMPLATE));
    let mut worker = RefineWorker::new(model.clone(), shared.clone(), LogintelMetrics::default());

    let Decision::Accept(event) = worker.decide(request).await else {
        panic!("accepted")
    };
    assert_eq!(model.calls(), 1);
    assert_eq!(
        (event.service.as_str(), event.template_id, event.previous.as_str()),
        ("db", request.template_id, mined.as_str())
    );
    assert_eq!(event.template, CHUNK_TEMPLATE);
    assert_eq!((event.sample_count, event.model.as_str()), (3, "fixed"));
    let record = refined_record(&event, "t.refined").unwrap();
    assert_eq!(record.key, Some(format!("db/{}", request.template_id).into_bytes()));

    assert!(worker.apply(&event));
    let id = request.template_id;
    {
        let mut guard = lock(&shared);
        assert_eq!(guard.engine.template_text("db", id).unwrap(), event.template);
        // The next line of the template is observed with the refined text (alerts quote it).
        ingest(&mut guard.engine, "db", 10, &chunk(4));
        let state = guard.engine.service("db").unwrap();
        assert_eq!(state.detector.templates[&id].text, event.template);
        // The refined text survives a snapshot and a restore.
        let snapshot = take_snapshot(&mut guard.engine, "db").unwrap();
        let mut restored = engine_without_refinement();
        restore(&mut restored, snapshot).unwrap();
        assert_eq!(restored.template_text("db", id).unwrap(), event.template);
        assert_eq!(
            restored.service("db").unwrap().detector.templates[&id].text,
            event.template
        );
    }
    // Applying it again against a mined text that is no longer current is refused.
    let mut moved = event.clone();
    moved.previous = "something else".into();
    assert!(!worker.apply(&moved));
}

#[tokio::test]
async fn a_second_identical_template_costs_no_call() {
    let mut engine = engine(3);
    let lines: Vec<String> = (1..4).map(chunk).collect();
    let mut requests = feed(&mut engine, "db-eu", &lines);
    requests.extend(feed(&mut engine, "db-us", &lines));
    assert_eq!(requests.len(), 2);
    let shared = Shared::new(engine, Default::default());
    let model = Fixed::new(Ok(CHUNK_TEMPLATE));
    let mut worker = RefineWorker::new(model.clone(), shared, LogintelMetrics::default());
    let first = worker.decide(&requests[0]).await;
    let second = worker.decide(&requests[1]).await;
    assert_eq!(model.calls(), 1);
    let (Decision::Accept(a), Decision::Accept(b)) = (first, second) else {
        panic!("both accepted")
    };
    assert_eq!((a.service.as_str(), b.service.as_str()), ("db-eu", "db-us"));
    assert_eq!(a.template, b.template);
    assert_eq!(worker.metrics.refine_cache_hits.get(), 1);
    assert_eq!(worker.metrics.refine_calls.get(), 1);
}

#[tokio::test]
async fn refusals_are_remembered_and_failures_are_not() {
    let mut engine = engine(3);
    let lines: Vec<String> = (1..4).map(lease).collect();
    let mut requests = feed(&mut engine, "a", &lines);
    requests.extend(feed(&mut engine, "b", &lines));
    let shared = Shared::new(engine, Default::default());
    // Drops the constant word `renewed`: refused, and the same text is not asked again.
    let model = Fixed::new(Ok("lease <*> for <*>"));
    let mut worker = RefineWorker::new(model.clone(), shared.clone(), LogintelMetrics::default());
    assert_eq!(worker.decide(&requests[0]).await, Decision::Reject("drops-constant"));
    assert_eq!(worker.decide(&requests[1]).await, Decision::Reject("drops-constant"));
    assert_eq!(model.calls(), 1);
    // A failed call is not remembered: the next identical template asks again.
    let down = Fixed::new(Err("endpoint"));
    let mut worker = RefineWorker::new(down.clone(), shared, LogintelMetrics::default());
    assert_eq!(worker.decide(&requests[0]).await, Decision::Fail("endpoint"));
    assert_eq!(worker.decide(&requests[1]).await, Decision::Fail("endpoint"));
    assert_eq!(down.calls(), 2);
}

#[test]
fn a_proposal_keeping_a_redaction_mark_is_refused() {
    let samples = ["mail to [EMAIL] bounced", "mail to [EMAIL] bounced"];
    assert_eq!(
        verdict("mail to <*> bounced", Some("mail to [EMAIL] bounced"), &samples),
        Err("keeps-redacted")
    );
    assert_eq!(verdict("mail to <*> bounced", None, &samples), Err("unparsable"));
    assert_eq!(
        verdict("flushed <*> to disk", Some(CHUNK_TEMPLATE), &[&chunk(1), &chunk(2)]),
        Ok(CHUNK_TEMPLATE.to_owned())
    );
}

#[test]
fn the_prompt_file_says_what_the_measured_prompt_says() {
    let library = opsline_llm::PromptLibrary::load(None).unwrap();
    let prompt = library.get(PROMPT_ID).unwrap();
    assert_eq!(prompt.task, TASK);
    let system = prompt.system.split_whitespace().collect::<Vec<_>>().join(" ");
    let instructions = opsline_logmine::refine::INSTRUCTIONS;
    assert!(
        system.contains(instructions),
        "instructions differ from the measured prompt"
    );
    for (lines, answer) in opsline_logmine::refine::EXAMPLES {
        let answer = serde_json::json!({ "template": answer }).to_string();
        assert!(system.contains(&answer), "example answer missing: {answer}");
        for (i, line) in lines.iter().enumerate() {
            assert!(
                system.contains(&format!("{}. {line}", i + 1)),
                "example line missing: {line}"
            );
        }
    }
}

#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    let metrics = LogintelMetrics::default();
    let (queue, mut jobs) = RefineQueue::new(1, metrics.clone());
    let request = |id| RefineRequest {
        service: "s".into(),
        template_id: id,
        template: "t".into(),
        samples: vec!["t".into()],
    };
    queue.offer(request(1));
    queue.offer(request(2));
    queue.skipped(3);
    assert_eq!(jobs.recv().await.unwrap().template_id, 1);
    let count = |outcome| {
        metrics
            .refine_jobs
            .get_or_create(&crate::metrics::OutcomeLabel::named(outcome))
            .get()
    };
    assert_eq!(
        (count("queued"), count("queue_full"), count("too_many_pending")),
        (1, 1, 3)
    );
}
