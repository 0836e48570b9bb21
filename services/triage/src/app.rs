//! The triage service as a [`Service`]: load the classifier, index the runbooks,
//! follow open incidents, consume raw tickets, enrich and deliver in the background.

use std::sync::{Arc, Mutex, RwLock};

use opsline_classify::{IntentClassifier, Model};
use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaWiring, TopicPlan};
use opsline_llm::{KafkaUsageSink, LlmGateway};
use opsline_privacy::Redactor;
use opsline_runtime::{Runner, Service, StartupContext, StartupError};

use crate::config::TriageConfig;
use crate::enrichment::{EnrichmentWorker, WorkerParts};
use crate::grounding::{RecentTickets, Runbooks};
use crate::incidents::{IncidentBook, IncidentFollower};
use crate::metrics::TriageMetrics;
use crate::processor::{COMPONENT, SharedBook, TicketProcessor, Topics};
use crate::routing::Router as TicketRouter;
use crate::webhook::webhook;

/// The ticket triage service.
pub struct Triage;

/// What the service shows once built.
#[derive(Debug, Clone)]
pub struct TriageHandle {
    /// The classifier's version string (in every triaged ticket).
    pub model_version: String,
    /// The open-incident book (tests wait on it before sending tickets).
    pub incidents: IncidentsHandle,
}

impl Service for Triage {
    const NAME: &'static str = "triage";
    const ABOUT: &'static str = "The ticket triage service: redacts, classifies and routes every raw ticket (or \
hands it to self-service or a person), links it to open incidents, and adds an LLM summary and suggested reply \
as a second revision when a model is configured.";
    type Config = TriageConfig;
    /// An already trained classifier (else `classifier.model_path` is loaded).
    type Extras = Option<Model>;
    type Handle = TriageHandle;

    async fn build(
        config: TriageConfig,
        model: Option<Model>,
        runner: &mut Runner,
    ) -> Result<TriageHandle, StartupError> {
        let model = model.map_or_else(|| load_model(&config), Ok)?;
        let mut plan = TopicPlan::new(TopicNames::with_prefix(config.topic_prefix.clone()));
        let raw = plan.consume(&config.group_id, &[&topics::RAW_TICKETS]);
        let followed = plan.follow(&[&topics::INCIDENTS, &topics::ALERTS]);
        plan.produce(&[
            &topics::TICKETS_TRIAGED,
            &topics::TICKETS_ROUTED,
            &topics::TICKET_STATE,
            &topics::LLM_USAGE,
        ]);
        if !config.helpdesk_webhook.url.trim().is_empty() {
            plan.dead_letters_of(&[&topics::TICKETS_ROUTED]);
        }
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let producer = kafka.producer().clone();
        let topics = Topics::new(plan.names());
        let triage_metrics = TriageMetrics::register(runner.metrics());

        let intents = IntentClassifier::builtin().startup("cannot compile the built-in intent rules")?;
        let router = TicketRouter::new(
            model,
            intents,
            Redactor::new(config.privacy.clone()),
            config.classifier.clone(),
            config.incidents.clone(),
        );
        let model_version = router.model_version().to_owned();
        let llm = if config.llm.enabled {
            let sink = KafkaUsageSink::new(producer.clone(), plan.names(), COMPONENT);
            LlmGateway::new(config.llm.clone(), Arc::new(sink))
                .startup("invalid [llm] settings")?
                .with_metrics(runner.metrics())
        } else {
            LlmGateway::disabled()
        };
        let (webhook_sender, webhook_worker) =
            match webhook(&config.helpdesk_webhook, &producer, &topics.routed, &triage_metrics) {
                Some((sender, worker, queue)) => (Some(sender), Some((worker, queue))),
                None => (None, None),
            };
        let recent = Arc::new(Mutex::new(RecentTickets::new(config.enrichment.recent_tickets)));
        let runbooks_dir = config.enrichment.runbooks_dir.as_deref().filter(|_| llm.is_enabled());
        let (queue, enrichment) = EnrichmentWorker::new(
            WorkerParts {
                runbooks: Runbooks::load(runbooks_dir, config.enrichment.runbook_tag()),
                llm,
                recent: recent.clone(),
                producer,
                routed_topic: topics.routed.clone(),
                config: config.enrichment.clone(),
                webhook: webhook_sender.clone(),
            },
            triage_metrics.clone(),
        );
        let book: SharedBook = Arc::new(RwLock::new(IncidentBook::default()));
        // Every replica needs every incident: a group-less follower from the beginning.
        let incident_follower = IncidentFollower {
            book: book.clone(),
            incidents_topic: topics.incidents.clone(),
            alerts_topic: topics.alerts.clone(),
            max_alerts: config.incidents.max_alerts,
        };
        kafka.follow(runner, &followed, move |record| incident_follower.apply(record));
        let processor = TicketProcessor {
            router,
            book: book.clone(),
            recent,
            enrichment: queue,
            webhook: webhook_sender,
            topics,
            metrics: triage_metrics,
            awaiting_ack: Default::default(),
        };
        kafka.consume(runner, &raw, processor);
        if let Some((worker, jobs)) = enrichment {
            runner.background("enrichment worker", move |shutdown| worker.run(jobs, shutdown));
        }
        if let Some((worker, queue)) = webhook_worker {
            runner.background("helpdesk webhook", move |shutdown| worker.run(queue, shutdown));
        }
        Ok(TriageHandle {
            model_version,
            incidents: IncidentsHandle(book),
        })
    }
}

/// Loads the classifier named by `classifier.model_path`.
fn load_model(config: &TriageConfig) -> Result<Model, StartupError> {
    let path = config.classifier.model_path.as_ref().ok_or_else(|| {
        StartupError::new("classifier.model_path is not set (train one with `opsline train tickets`)")
    })?;
    Model::load(path).startup(format!("cannot load the classifier {}", path.display()))
}

/// Read access to the open-incident book.
#[derive(Debug, Clone)]
pub struct IncidentsHandle(SharedBook);

impl IncidentsHandle {
    /// Number of open incidents known to the service.
    pub fn open_count(&self) -> usize {
        self.0.read().map(|b| b.open_count()).unwrap_or(0)
    }

    /// Whether the incident is known and open.
    pub fn is_open(&self, id: uuid::Uuid) -> bool {
        self.0.read().map(|b| b.is_open(id)).unwrap_or(false)
    }
}
