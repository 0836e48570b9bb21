//! The postmortem service as a [`Service`]: open the index, import runbooks, rebuild
//! the read model from the compacted postmortems topic, queue resolved incidents that have
//! no postmortem yet; then consume, draft, index and serve the API and page.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsline_events::logs::Incident;
use opsline_events::ops::Postmortem;
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{KafkaWiring, Producer, TopicPlan};
use opsline_llm::{KafkaUsageSink, LlmGateway};
use opsline_runtime::{Runner, Service, StartupContext, StartupError};
use opsline_search::SearchIndex;

use crate::auth::TokenStore;
use crate::config::PostmortemConfig;
use crate::draft::Drafter;
use crate::draft::llm::LlmDrafter;
use crate::metrics::PostmortemMetrics;
use crate::narrative::{NarrativeWorker, WorkerParts};
use crate::processor::{COMPONENT, DraftProcessor, DraftState, Drafting, IndexProcessor, Topics, flush_overdue};
use crate::store::Store;
use crate::web::links::LinkTargets;
use crate::web::{WebState, router};

/// The postmortem service: drafts, the search API and the page.
pub struct PostmortemService;

impl Service for PostmortemService {
    const NAME: &'static str = "postmortem";
    const ABOUT: &'static str = "The postmortem service: drafts a cited postmortem for each resolved incident \
(deterministic at once, an LLM narrative as a later revision when a model is configured), indexes postmortems \
and runbooks for search, and serves the review API and page.";
    type Config = PostmortemConfig;
    /// The narrative drafter (tests pass one); else the LLM drafter when `llm.enabled`, or
    /// none (deterministic drafts only).
    type Extras = Option<Arc<dyn Drafter>>;
    /// The read model (postmortems and the search index), for the CLI and tests.
    type Handle = Arc<Store>;

    async fn build(
        config: PostmortemConfig,
        given: Option<Arc<dyn Drafter>>,
        runner: &mut Runner,
    ) -> Result<Arc<Store>, StartupError> {
        let tokens = TokenStore::new(&config.tokens).startup("invalid [[tokens]]")?;
        if tokens.is_empty() {
            tracing::warn!("no API tokens configured: every request will be refused");
        }
        let mut plan = TopicPlan::new(TopicNames::with_prefix(config.topic_prefix.clone()));
        let drafted = plan.consume(&config.group_id, &[&topics::INCIDENTS, &topics::ALERTS]);
        let indexed = plan.consume(&config.index_group_id, &[&topics::POSTMORTEMS]);
        plan.produce(&[&topics::POSTMORTEMS, &topics::LLM_USAGE]);
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let producer = kafka.producer().clone();
        let service_metrics = PostmortemMetrics::register(runner.metrics());
        let drafter = match given {
            Some(drafter) => Some(drafter),
            None => configured_drafter(&config, &producer, plan.names(), runner.metrics())?,
        };
        let topics = Topics {
            incidents: plan.name(&topics::INCIDENTS),
            alerts: plan.name(&topics::ALERTS),
            postmortems: plan.name(&topics::POSTMORTEMS),
        };
        let index = match &config.index_dir {
            Some(dir) => {
                SearchIndex::open_or_create(dir).startup(format!("cannot open the index in {}", dir.display()))?
            }
            None => SearchIndex::in_memory().startup("cannot create the in-memory index")?,
        };
        let store = Arc::new(Store::new(index, service_metrics.clone()));
        if let Some(dir) = config.runbooks_dir.as_ref().filter(|d| d.is_dir()) {
            let count = store
                .import_runbooks(dir)
                .startup(format!("cannot index the runbooks in {}", dir.display()))?;
            tracing::info!(count, dir = %dir.display(), "runbooks indexed");
        }
        let max_wait = Duration::from_secs(config.restore_max_wait_secs.max(1));
        let restored = restore_postmortems(&config, &topics, &store, max_wait).await?;
        let (narratives, narrator) = NarrativeWorker::new(
            WorkerParts {
                drafter,
                store: store.clone(),
                producer: producer.clone(),
                topic: topics.postmortems.clone(),
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
        let queued = queue_undrafted_incidents(&config, &topics, &drafting, max_wait).await?;
        tracing::info!(
            postmortems = restored,
            queued,
            narratives = drafting.narratives.is_enabled(),
            docs = store.index().num_docs(),
            "read model restored"
        );

        kafka.consume(runner, &drafted, DraftProcessor::new(drafting.clone()));
        kafka.consume(
            runner,
            &indexed,
            IndexProcessor {
                store: store.clone(),
                topic: topics.postmortems.clone(),
                metrics: service_metrics.clone(),
            },
        );
        let overdue = producer.clone();
        runner.background("overdue drafts", move |shutdown| {
            flush_overdue(drafting, overdue, shutdown)
        });
        if let Some((worker, jobs)) = narrator {
            runner.background("narrative worker", move |shutdown| worker.run(jobs, shutdown));
        }
        runner.serve(router(WebState {
            store: store.clone(),
            tokens: Arc::new(tokens),
            sessions: Arc::new(opsline_auth::SessionStore::new(
                opsline_auth::POSTMORTEM_SESSION_COOKIE,
                opsline_auth::DEFAULT_SESSION_TTL,
                opsline_auth::DEFAULT_SESSION_CAPACITY,
            )),
            producer,
            postmortems_topic: topics.postmortems.clone(),
            metrics: service_metrics,
            workflow: Arc::new(tokio::sync::Mutex::new(())),
            links: Arc::new(LinkTargets {
                raw_topic: plan.name(&topics::RAW_LOGS),
                console_url: config.console_url.trim_end_matches('/').to_owned(),
                runbooks_dir: config.runbooks_dir.clone(),
            }),
        }));
        Ok(store)
    }
}

/// Replays the compacted postmortems topic into the store and the index (noting where each
/// current revision lies); returns how many records were restored.
async fn restore_postmortems(
    config: &PostmortemConfig,
    topics: &Topics,
    store: &Store,
    max_wait: Duration,
) -> Result<usize, StartupError> {
    let records = opsline_kafka::reader::read_to_end(&config.kafka, &topics.postmortems, max_wait)
        .await
        .startup(format!("cannot read {}", topics.postmortems))?;
    let mut restored = 0;
    for record in &records {
        if record.payload.is_none() {
            continue;
        }
        match Envelope::<Postmortem>::from_json(record.payload_bytes()) {
            Ok(envelope) => {
                store
                    .stage_at(envelope.data, Some(record.offset))
                    .startup("cannot index a restored postmortem")?;
                restored += 1;
            }
            Err(error) => tracing::warn!(offset = record.offset, %error, "skipping bad postmortem record"),
        }
    }
    store.commit().startup("cannot commit the restored index")?;
    Ok(restored)
}

/// Queues every resolved incident of the compacted incidents topic that has no reviewed or
/// published postmortem (drafts lost by a crash are redone; drafts are deterministic).
async fn queue_undrafted_incidents(
    config: &PostmortemConfig,
    topics: &Topics,
    drafting: &Drafting,
    max_wait: Duration,
) -> Result<usize, StartupError> {
    let records = opsline_kafka::reader::read_to_end(&config.kafka, &topics.incidents, max_wait)
        .await
        .startup(format!("cannot read {}", topics.incidents))?;
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
                .add_incident(incident, None);
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
    metrics: &opsline_runtime::metrics::Metrics,
) -> Result<Option<Arc<dyn Drafter>>, StartupError> {
    if !config.llm.enabled {
        return Ok(None);
    }
    let sink = Arc::new(KafkaUsageSink::new(producer.clone(), names, COMPONENT));
    let gateway = LlmGateway::new(config.llm.clone(), sink)
        .startup("invalid [llm] settings")?
        .with_metrics(metrics);
    tracing::info!("postmortem narratives written asynchronously by the LLM gateway");
    Ok(Some(Arc::new(LlmDrafter::new(gateway))))
}
