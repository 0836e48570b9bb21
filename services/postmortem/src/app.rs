//! Building and running the service: create topics, open the index, import runbooks, rebuild
//! the read model from the compacted postmortems topic, queue resolved incidents that have no
//! postmortem yet, bind the listener; then consume, draft, index and serve until shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsline_events::logs::Incident;
use opsline_events::ops::Postmortem;
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{ConsumerLoop, KafkaMetrics, Producer};
use opsline_llm::{KafkaUsageSink, LlmGateway};
use opsline_runtime::Shutdown;
use opsline_runtime::http::{OpsState, ops_router};
use opsline_runtime::metrics::Metrics;
use opsline_search::SearchIndex;
use tokio::net::TcpListener;

use crate::auth::TokenStore;
use crate::config::PostmortemConfig;
use crate::draft::Drafter;
use crate::draft::llm::LlmDrafter;
use crate::error::PostmortemError;
use crate::metrics::PostmortemMetrics;
use crate::narrative::{NarrativeJob, NarrativeWorker, WorkerParts};
use crate::processor::{COMPONENT, DraftProcessor, DraftState, Drafting, IndexProcessor, Topics, flush_overdue};
use crate::store::Store;
use crate::web::{WebState, router};

/// A built postmortem service, bound to its port, read model restored, not yet consuming.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    ops: OpsState,
    producer: Producer,
    kafka_metrics: KafkaMetrics,
    drafting: Drafting,
    narrator: Option<(NarrativeWorker, tokio::sync::mpsc::Receiver<NarrativeJob>)>,
    config: PostmortemConfig,
}

impl Application {
    /// Builds the service; when `llm.enabled` the LLM drafter writes the narratives
    /// asynchronously (its usage goes to the LLM usage topic), else drafts stay deterministic.
    pub async fn build(config: PostmortemConfig, metrics: Metrics) -> Result<Self, PostmortemError> {
        Self::build_inner(config, metrics, None).await
    }

    /// Builds the service with `drafter` writing the narratives asynchronously (each is
    /// checked; one that fails leaves the deterministic draft as it is).
    pub async fn build_with_drafter(
        config: PostmortemConfig,
        metrics: Metrics,
        drafter: Arc<dyn Drafter>,
    ) -> Result<Self, PostmortemError> {
        Self::build_inner(config, metrics, Some(drafter)).await
    }

    async fn build_inner(
        config: PostmortemConfig,
        metrics: Metrics,
        drafter: Option<Arc<dyn Drafter>>,
    ) -> Result<Self, PostmortemError> {
        let tokens = TokenStore::new(&config.tokens).map_err(|e| PostmortemError::Startup(e.to_string()))?;
        if tokens.is_empty() {
            tracing::warn!("no API tokens configured: every request will be refused");
        }
        let kafka_metrics = KafkaMetrics::register(&metrics);
        let service_metrics = PostmortemMetrics::register(&metrics);
        let producer =
            Producer::new(&config.kafka, &kafka_metrics).map_err(|e| PostmortemError::Startup(e.to_string()))?;
        let names = TopicNames::with_prefix(config.topic_prefix.clone());
        let drafter = match drafter {
            Some(drafter) => Some(drafter),
            None => configured_drafter(&config, &producer, &names)?,
        };
        let topics = Topics {
            incidents: names.name(&topics::INCIDENTS),
            alerts: names.name(&topics::ALERTS),
            postmortems: names.name(&topics::POSTMORTEMS),
        };
        let ours = [
            topics.incidents.as_str(),
            topics.alerts.as_str(),
            topics.postmortems.as_str(),
        ];
        let wanted = names.to_create_among(&ours, &ours);
        opsline_kafka::admin::create_topics(&config.kafka, &wanted)
            .await
            .map_err(|e| PostmortemError::Startup(e.to_string()))?;

        let index = match &config.index_dir {
            Some(dir) => SearchIndex::open_or_create(dir)?,
            None => SearchIndex::in_memory()?,
        };
        let store = Arc::new(Store::new(index, service_metrics.clone()));
        if let Some(dir) = config.runbooks_dir.as_ref().filter(|d| d.is_dir()) {
            let count = store.import_runbooks(dir)?;
            tracing::info!(count, dir = %dir.display(), "runbooks indexed");
        }
        let idle = Duration::from_millis(config.restore_idle_ms.max(100));
        let restored = restore_postmortems(&config, &topics, &store, idle).await?;
        let (narratives, narrator) = NarrativeWorker::new(
            WorkerParts {
                drafter,
                store: store.clone(),
                producer: producer.clone(),
                topic: topics.postmortems.clone(),
                capacity: config.narrative_queue_capacity,
            },
            service_metrics.clone(),
        );
        let drafting = Drafting {
            state: Arc::new(Mutex::new(DraftState::new(
                config.max_cached_alerts,
                Duration::from_millis(config.alert_wait_ms),
            ))),
            store: store.clone(),
            narratives,
            topics: topics.clone(),
            metrics: service_metrics.clone(),
        };
        let queued = queue_undrafted_incidents(&config, &topics, &drafting, idle).await?;
        tracing::info!(
            postmortems = restored,
            queued,
            narratives = drafting.narratives.is_enabled(),
            docs = store.index().num_docs(),
            "read model restored"
        );

        let ops = OpsState::new(metrics);
        let web = WebState {
            store,
            tokens: Arc::new(tokens),
            producer: producer.clone(),
            postmortems_topic: topics.postmortems.clone(),
            metrics: service_metrics,
            workflow: Arc::new(tokio::sync::Mutex::new(())),
        };
        let router = router(web).merge(ops_router(ops.clone()));
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| PostmortemError::Startup(format!("cannot listen on {}: {e}", config.listen)))?;
        Ok(Self {
            listener,
            router,
            ops,
            producer,
            kafka_metrics,
            drafting,
            narrator,
            config,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The read model (postmortems and the search index), for the CLI and tests.
    pub fn store(&self) -> Arc<Store> {
        self.drafting.store.clone()
    }

    /// Consumes, drafts, indexes and serves until `shutdown` is cancelled, then drains,
    /// commits and flushes.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> Result<(), PostmortemError> {
        let Self {
            listener,
            router,
            ops,
            producer,
            kafka_metrics,
            drafting,
            narrator,
            config,
        } = self;
        let topics = drafting.topics.clone();
        let drafter_loop = ConsumerLoop::new(
            &config.kafka,
            &config.group_id,
            vec![topics.incidents.clone(), topics.alerts.clone()],
            producer.clone(),
            &kafka_metrics,
            COMPONENT,
        );
        let index_loop = ConsumerLoop::new(
            &config.kafka,
            &config.index_group_id,
            vec![topics.postmortems.clone()],
            producer.clone(),
            &kafka_metrics,
            COMPONENT,
        );
        let store = drafting.store.clone();
        let tick = tokio::spawn(flush_overdue(drafting.clone(), producer.clone(), shutdown.clone()));
        let narrating = narrator.map(|(worker, jobs)| tokio::spawn(worker.run(jobs, shutdown.clone())));
        ops.set_ready(true);
        let signal = shutdown.clone();
        let server = async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { signal.cancelled().await })
                .await
        };
        let drafting_run = async {
            let result = drafter_loop.run(DraftProcessor { drafting }, shutdown.clone()).await;
            shutdown.cancel();
            result
        };
        let indexing_run = async {
            let result = index_loop.run(IndexProcessor { store }, shutdown.clone()).await;
            shutdown.cancel();
            result
        };
        let (served, drafted, indexed) = tokio::join!(server, drafting_run, indexing_run);
        ops.set_ready(false);
        tick.abort();
        if let Some(narrating) = narrating {
            let _ = narrating.await;
        }
        if let Err(error) = producer.flush(Duration::from_secs(10)) {
            tracing::warn!(%error, "producer flush at shutdown incomplete");
        }
        tracing::info!("postmortem service stopped");
        drafted.map_err(|e| PostmortemError::Unavailable(e.to_string()))?;
        indexed.map_err(|e| PostmortemError::Unavailable(e.to_string()))?;
        served.map_err(|e| PostmortemError::Startup(e.to_string()))?;
        Ok(())
    }
}

/// Replays the compacted postmortems topic into the store and the index.
async fn restore_postmortems(
    config: &PostmortemConfig,
    topics: &Topics,
    store: &Store,
    idle: Duration,
) -> Result<usize, PostmortemError> {
    let records =
        opsline_kafka::reader::read_until_idle(&config.kafka, &topics.postmortems, idle, Duration::from_secs(120))
            .await
            .map_err(|e| PostmortemError::Startup(e.to_string()))?;
    let mut restored = 0;
    for record in &records {
        if record.payload.is_none() {
            continue;
        }
        match Envelope::<Postmortem>::from_json(record.payload_bytes()) {
            Ok(envelope) => {
                store.stage(envelope.data)?;
                restored += 1;
            }
            Err(error) => tracing::warn!(offset = record.offset, %error, "skipping bad postmortem record"),
        }
    }
    store.commit()?;
    Ok(restored)
}

/// Queues every resolved incident of the compacted incidents topic that has no reviewed or
/// published postmortem (drafts lost by a crash are redone; drafts are deterministic).
async fn queue_undrafted_incidents(
    config: &PostmortemConfig,
    topics: &Topics,
    drafting: &Drafting,
    idle: Duration,
) -> Result<usize, PostmortemError> {
    let records =
        opsline_kafka::reader::read_until_idle(&config.kafka, &topics.incidents, idle, Duration::from_secs(120))
            .await
            .map_err(|e| PostmortemError::Startup(e.to_string()))?;
    let mut latest = std::collections::BTreeMap::new();
    for record in &records {
        if let Ok(envelope) = Envelope::<Incident>::from_json(record.payload_bytes()) {
            latest.insert(envelope.data.incident_id, envelope.data);
        }
    }
    let mut queued = 0;
    for incident in latest.into_values() {
        let undrafted = drafting
            .store
            .postmortem(crate::draft::postmortem_id(incident.incident_id))
            .is_none();
        if undrafted && drafting.wants_draft(&incident) {
            drafting
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .add_incident(incident);
            queued += 1;
        }
    }
    Ok(queued)
}

/// The LLM drafter of the narratives when `llm.enabled` (its calls go to the LLM usage
/// topic), else none (deterministic drafts only).
fn configured_drafter(
    config: &PostmortemConfig,
    producer: &Producer,
    names: &TopicNames,
) -> Result<Option<Arc<dyn Drafter>>, PostmortemError> {
    if !config.llm.enabled {
        return Ok(None);
    }
    let sink = Arc::new(KafkaUsageSink::new(producer.clone(), names, COMPONENT));
    let gateway = LlmGateway::new(config.llm.clone(), sink).map_err(|e| PostmortemError::Startup(e.to_string()))?;
    tracing::info!("postmortem narratives written asynchronously by the LLM gateway");
    Ok(Some(Arc::new(LlmDrafter::new(gateway))))
}
