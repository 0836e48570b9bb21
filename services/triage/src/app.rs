//! Building and running the triage service: load the classifier, index the
//! runbooks, follow open incidents, consume raw tickets, enrich in the
//! background and serve `/healthz`, `/readyz`, `/metrics`.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use opsline_classify::{IntentClassifier, Model};
use opsline_events::TopicNames;
use opsline_events::topics;
use opsline_kafka::{ConsumerLoop, KafkaMetrics, Producer, TopicFollower};
use opsline_llm::{KafkaUsageSink, LlmGateway};
use opsline_privacy::Redactor;
use opsline_runtime::Shutdown;
use opsline_runtime::http::{OpsState, ops_router};
use opsline_runtime::metrics::Metrics;
use tokio::net::TcpListener;

use crate::config::TriageConfig;
use crate::enrichment::{EnrichmentQueue, EnrichmentWorker, WorkerParts};
use crate::error::TriageError;
use crate::grounding::{RecentTickets, Runbooks};
use crate::incidents::{IncidentBook, IncidentFollower};
use crate::metrics::TriageMetrics;
use crate::processor::{SharedBook, TicketProcessor, Topics};
use crate::routing::Router as TicketRouter;
use crate::webhook::{WebhookWorker, webhook};

/// A built triage service, bound to its port, not yet consuming.
pub struct Application {
    listener: TcpListener,
    http: Router,
    ops: OpsState,
    config: TriageConfig,
    producer: Producer,
    kafka_metrics: KafkaMetrics,
    topics: Topics,
    processor: TicketProcessor,
    book: SharedBook,
    enrichment: Option<(
        EnrichmentWorker,
        tokio::sync::mpsc::Receiver<crate::enrichment::EnrichmentJob>,
    )>,
    webhook: Option<(
        WebhookWorker,
        tokio::sync::mpsc::Receiver<opsline_events::tickets::RoutedTicket>,
    )>,
}

impl Application {
    /// Loads the classifier from `classifier.model_path` and builds the service.
    pub async fn build(config: TriageConfig, metrics: Metrics) -> Result<Self, TriageError> {
        let path = config
            .classifier
            .model_path
            .clone()
            .ok_or_else(|| TriageError::Classifier("classifier.model_path is not set".to_owned()))?;
        let model = Model::load(&path).map_err(|e| TriageError::Classifier(format!("{}: {e}", path.display())))?;
        Self::build_with_model(config, metrics, model).await
    }

    /// Builds the service around an already trained model: creates the topics,
    /// indexes the runbooks, sets up the LLM gateway, the webhook and the listener.
    pub async fn build_with_model(config: TriageConfig, metrics: Metrics, model: Model) -> Result<Self, TriageError> {
        let kafka_metrics = KafkaMetrics::register(&metrics);
        let triage_metrics = TriageMetrics::register(&metrics);
        let producer = Producer::new(&config.kafka, &kafka_metrics).map_err(|e| TriageError::Startup(e.to_string()))?;
        let names = TopicNames::with_prefix(config.topic_prefix.clone());
        let topics = Topics::new(&names);
        create_topics(&config, &names, &topics).await?;

        let intents = IntentClassifier::builtin().map_err(|e| TriageError::Classifier(e.to_string()))?;
        let router = TicketRouter::new(
            model,
            intents,
            Redactor::new(config.privacy.clone()),
            config.classifier.clone(),
            config.incidents.clone(),
        );
        let llm = if config.llm.enabled {
            let sink = KafkaUsageSink::new(producer.clone(), &names, crate::processor::COMPONENT);
            LlmGateway::new(config.llm.clone(), Arc::new(sink)).map_err(|e| TriageError::Startup(e.to_string()))?
        } else {
            LlmGateway::disabled()
        };
        let webhook = webhook(&config.helpdesk_webhook, &producer, &topics.routed, &triage_metrics);
        let (webhook_sender, webhook_worker) = match webhook {
            Some((sender, worker, queue)) => (Some(sender), Some((worker, queue))),
            None => (None, None),
        };
        let recent = Arc::new(Mutex::new(RecentTickets::new(config.enrichment.recent_tickets)));
        let (queue, enrichment): (EnrichmentQueue, _) = EnrichmentWorker::new(
            WorkerParts {
                runbooks: if llm.is_enabled() {
                    Runbooks::load(config.enrichment.runbooks_dir.as_deref())
                } else {
                    Runbooks::load(None)
                },
                llm,
                recent: recent.clone(),
                producer: producer.clone(),
                routed_topic: topics.routed.clone(),
                config: config.enrichment.clone(),
                webhook: webhook_sender.clone(),
            },
            triage_metrics.clone(),
        );
        let book: SharedBook = Arc::new(RwLock::new(IncidentBook::default()));
        let processor = TicketProcessor {
            router,
            book: book.clone(),
            recent,
            enrichment: queue,
            webhook: webhook_sender,
            topics: topics.clone(),
            metrics: triage_metrics,
            awaiting_ack: Default::default(),
        };
        let ops = OpsState::new(metrics);
        let http = ops_router(ops.clone());
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| TriageError::Startup(format!("cannot listen on {}: {e}", config.listen)))?;
        Ok(Self {
            listener,
            http,
            ops,
            config,
            producer,
            kafka_metrics,
            topics,
            processor,
            book,
            enrichment,
            webhook: webhook_worker,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The classifier's version string (in every triaged ticket).
    pub fn model_version(&self) -> String {
        self.processor.router.model_version().to_owned()
    }

    /// A handle on the open-incident book (tests wait on it before sending tickets).
    pub fn incidents(&self) -> IncidentsHandle {
        IncidentsHandle(self.book.clone())
    }

    /// Follows incidents, consumes raw tickets, enriches and serves until
    /// `shutdown`, then drains the consumer, commits and flushes.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> Result<(), TriageError> {
        let Self {
            listener,
            http,
            ops,
            config,
            producer,
            kafka_metrics,
            topics,
            processor,
            book,
            enrichment,
            webhook,
        } = self;
        // Every replica needs every incident: a group-less reader from the beginning.
        let follower = TopicFollower::new(
            &config.kafka,
            vec![topics.incidents.clone(), topics.alerts.clone()],
            &kafka_metrics,
        );
        let incident_follower = IncidentFollower {
            book,
            incidents_topic: topics.incidents.clone(),
            alerts_topic: topics.alerts.clone(),
            max_alerts: config.incidents.max_alerts,
        };
        let consumer = ConsumerLoop::new(
            &config.kafka,
            &config.group_id,
            vec![topics.raw.clone()],
            producer.clone(),
            &kafka_metrics,
            crate::processor::COMPONENT,
        );
        let enrich_task = enrichment.map(|(worker, jobs)| tokio::spawn(worker.run(jobs, shutdown.clone())));
        let webhook_task = webhook.map(|(worker, queue)| tokio::spawn(worker.run(queue, shutdown.clone())));
        ops.set_ready(true);
        let signal = shutdown.clone();
        let server = async move {
            axum::serve(listener, http)
                .with_graceful_shutdown(async move { signal.cancelled().await })
                .await
        };
        let following = async {
            let result = follower
                .run(|record| incident_follower.apply(record), shutdown.clone())
                .await;
            if result.is_err() {
                shutdown.cancel();
            }
            result
        };
        let consuming = async {
            let result = consumer.run(processor, shutdown.clone()).await;
            shutdown.cancel();
            result
        };
        let (served, followed, consumed) = tokio::join!(server, following, consuming);
        ops.set_ready(false);
        for task in [enrich_task, webhook_task].into_iter().flatten() {
            if let Err(error) = task.await {
                tracing::warn!(%error, "background task failed");
            }
        }
        if let Err(error) = producer.flush(Duration::from_secs(10)) {
            tracing::warn!(%error, "producer flush at shutdown incomplete");
        }
        tracing::info!("triage stopped");
        consumed.map_err(|e| TriageError::Kafka(e.to_string()))?;
        followed.map_err(|e| TriageError::Kafka(e.to_string()))?;
        served.map_err(|e| TriageError::Startup(e.to_string()))?;
        Ok(())
    }
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

/// Creates the topics the service reads and writes (idempotent), with the
/// raw-ticket dead-letter twin and, when the webhook is on, `<routed>.dlq`.
async fn create_topics(config: &TriageConfig, names: &TopicNames, topics: &Topics) -> Result<(), TriageError> {
    let llm_usage = names.name(&topics::LLM_USAGE);
    let mut wanted = names.to_create_among(
        &[
            &topics.raw,
            &topics.incidents,
            &topics.alerts,
            &topics.triaged,
            &topics.routed,
            &topics.state,
            &llm_usage,
        ],
        &[&topics.raw],
    );
    if !config.helpdesk_webhook.url.trim().is_empty() {
        wanted.push((
            TopicNames::dead_letter(&topics.routed),
            TopicNames::dead_letter_spec(&topics::TICKETS_ROUTED),
        ));
    }
    opsline_kafka::admin::create_topics(&config.kafka, &wanted)
        .await
        .map_err(|e| TriageError::Kafka(e.to_string()))?;
    Ok(())
}
