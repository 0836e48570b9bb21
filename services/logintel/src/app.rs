//! The log service as a [`Service`]: restore the state snapshots, consume raw logs,
//! tick, serve the API (see [`crate::api`]), and snapshot at stop.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaWiring, TopicPlan};
use opsline_llm::{KafkaUsageSink, LlmGateway};
use opsline_runtime::{Runner, Service, StartupContext, StartupError};

use crate::api::{ApiState, router};
use crate::config::LogintelConfig;
use crate::engine::{Engine, Outputs, RawPosition};
use crate::external::ExternalProcessor;
use crate::inputs::Inputs;
use crate::metrics::LogintelMetrics;
use crate::processor::{
    COMPONENT, Cadence, LogProcessor, Shared, SharedState, Topics, encode_outputs, final_snapshots, lock, tick,
    tick_sent,
};
use crate::refiner::{GatewayProposer, RefineQueue, RefineWorker, TASK};
use crate::state::restore;
use crate::tickets::TicketLinker;

/// The log intelligence service.
pub struct Logintel;

impl Service for Logintel {
    const NAME: &'static str = "logintel";
    const ABOUT: &'static str = "The log intelligence service: mines templates from the raw-log topic, detects \
alerts (new templates, bursts, error surges, silences), takes other monitoring systems' alerts \
(Alertmanager, through the gateway), correlates them into incidents, and snapshots its \
state so a restart resumes where it stopped.";
    type Config = LogintelConfig;
    type Extras = ();
    /// The engine state (tests and the CLI read totals from it).
    type Handle = SharedState;

    async fn build(config: LogintelConfig, (): (), runner: &mut Runner) -> Result<SharedState, StartupError> {
        let mut plan = TopicPlan::new(TopicNames::with_prefix(config.topic_prefix.clone()));
        // Raw logs and other monitoring systems' alerts in one group: a service's alerts reach
        // the replica holding its logs (see `crate::inputs`).
        let inputs = plan.consume(&config.group_id, &[&topics::RAW_LOGS, &topics::EXTERNAL_ALERTS]);
        plan.read(&[&topics::LOGINTEL_STATE]);
        let tickets = plan.follow(&[&topics::TICKETS_TRIAGED]);
        let actions = plan.follow(&[&topics::INCIDENT_ACTIONS]);
        plan.produce(&[
            &topics::TEMPLATES,
            &topics::ALERTS,
            &topics::INCIDENTS,
            &topics::LOGINTEL_STATE,
        ]);
        let refining = refinement_wanted(&config);
        if refining {
            plan.produce(&[&topics::TEMPLATES_REFINED, &topics::LLM_USAGE]);
        }
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let topics = Topics::new(plan.names());

        let mut engine_config = config.engine_config();
        if !refining {
            engine_config.refine = None;
        }
        let mut engine = Engine::new(engine_config).startup("invalid detector or miner settings")?;
        let (restored, again) = restore_state(&config, &topics, &mut engine).await?;
        let pending = encode_outputs(&again, &topics).startup("cannot encode the restored outputs")?;
        for record in &pending {
            kafka
                .producer()
                .send(record)
                .await
                .startup("cannot re-emit the restored outputs")?;
        }
        tracing::info!(services = restored.len(), re_emitted = pending.len(), "state restored");
        let shared = Shared::new(engine, restored);

        let metrics = LogintelMetrics::register(runner.metrics());
        let api = ApiState {
            shared: shared.clone(),
            producer: kafka.producer().clone(),
            topics: topics.clone(),
            metrics: metrics.clone(),
            tokens: std::sync::Arc::new(
                opsline_auth::TokenStore::new(&config.tokens).map_err(|e| StartupError::new(e.to_string()))?,
            ),
        };
        if api.tokens.is_empty() {
            tracing::warn!(
                "no API token configured ([logintel] tokens): POST /v1/incidents/... and /v1/admin/flush refuse every request"
            );
        }
        let cadence = Cadence {
            every_lines: config.snapshot_every_lines.max(1),
            interval: Duration::from_millis(config.snapshot_interval_ms.max(10)),
            advance_idle_clock: config.advance_idle_clock,
        };
        let linker = TicketLinker {
            shared: shared.clone(),
            producer: kafka.producer().clone(),
            topics: topics.clone(),
        };
        kafka.follow(runner, &tickets, move |record| linker.apply(record));
        let chat_actions = crate::actions::ActionFollower { api: api.clone() };
        kafka.follow(runner, &actions, move |record| chat_actions.apply(record));
        let refine = if refining {
            let sink = Arc::new(KafkaUsageSink::new(kafka.producer().clone(), plan.names(), COMPONENT));
            let gateway = LlmGateway::new(config.llm.clone(), sink)
                .startup("invalid [logintel.llm] settings")?
                .with_metrics(runner.metrics());
            let (queue, jobs) = RefineQueue::new(config.refine.queue, metrics.clone());
            let worker = RefineWorker::new(GatewayProposer::new(gateway), shared.clone(), metrics.clone());
            let producer = kafka.producer().clone();
            let topic = plan.name(&topics::TEMPLATES_REFINED);
            runner.background("template refiner", move |shutdown| {
                worker.run(jobs, producer, topic, shutdown)
            });
            tracing::info!(
                samples = config.refine.samples,
                queue = config.refine.queue,
                "new templates are refined by the LLM gateway off the hot path"
            );
            Some(queue)
        } else {
            None
        };
        let alerts = ExternalProcessor::new(shared.clone(), topics.clone(), metrics.clone());
        let external_topic = plan.name(&topics::EXTERNAL_ALERTS);
        crate::inputs::check_copartitioned(&config.kafka, &topics.raw, &external_topic).await;
        let handover = crate::handover::Restore {
            kafka: config.kafka.clone(),
            topic: topics.state.clone(),
            max_wait: Duration::from_secs(config.restore_max_wait_secs.max(1)),
        };
        let processor = LogProcessor::new(shared.clone(), topics, metrics, cadence, refine, Some(handover));
        kafka.consume(runner, &inputs, Inputs::new(processor, alerts, external_topic));
        let ticker = api.clone();
        let every = Duration::from_millis(config.tick_interval_ms.max(10));
        let report_every = Duration::from_secs(config.report_interval_secs.max(1));
        runner.background("ticker", move |shutdown| {
            tick_loop(ticker, cadence, every, report_every, shutdown)
        });
        let last = api.clone();
        runner.on_stop("final snapshots", move || async move {
            for record in final_snapshots(&last.shared, &last.topics, &last.metrics) {
                last.producer.send(&record).await?;
            }
            report(&last, true);
            Ok::<(), opsline_kafka::SendError>(())
        });
        runner.serve(router(api));
        Ok(shared)
    }
}

/// Whether new templates are refined: `refine.enabled` and a model configured for the task (a
/// refinement asked for without a model is reported once and left off).
fn refinement_wanted(config: &LogintelConfig) -> bool {
    if !config.refine.enabled {
        return false;
    }
    let model = config.llm.enabled && config.llm.tasks.contains_key(TASK);
    if !model {
        tracing::warn!(
            "logintel.refine.enabled is set but [logintel.llm] has no model for task {TASK}: templates are not refined"
        );
    }
    model
}

async fn restore_state(
    config: &LogintelConfig,
    topics: &Topics,
    engine: &mut Engine,
) -> Result<(HashMap<String, RawPosition>, Outputs), StartupError> {
    let records = opsline_kafka::reader::read_to_end(
        &config.kafka,
        &topics.state,
        Duration::from_secs(config.restore_max_wait_secs.max(1)),
    )
    .await
    .startup(format!("cannot read the state snapshots from {}", topics.state))?;
    let latest = crate::handover::latest_snapshots(&records);
    let mut positions = HashMap::new();
    let mut again = Outputs::default();
    for (service, snapshot) in latest {
        if let Some(position) = snapshot.position {
            positions.insert(service.clone(), position);
        }
        match restore(engine, snapshot) {
            Ok(outputs) => again.extend(outputs),
            Err(error) => tracing::warn!(%service, %error, "cannot restore service state; starting fresh"),
        }
    }
    Ok((positions, again))
}

async fn tick_loop(
    api: ApiState,
    cadence: Cadence,
    every: Duration,
    report_every: Duration,
    shutdown: opsline_runtime::Shutdown,
) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_report = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let (records, number) = tick(&api.shared, cadence, &api.metrics, &api.topics);
        let mut written = true;
        for record in records {
            if let Err(error) = api.producer.send(&record).await {
                written = false;
                tracing::warn!(topic = %record.topic, %error, "tick output not delivered");
            }
        }
        tick_sent(&api.shared, number, written);
        if last_report.elapsed() >= report_every {
            last_report = tokio::time::Instant::now();
            report(&api, false);
        }
    }
}

/// Logs the noise reduction and updates its gauge.
fn report(api: &ApiState, always: bool) {
    let totals = lock(&api.shared).engine.totals();
    let per_alert = if totals.alerts_out == 0 {
        totals.lines_in as f64
    } else {
        totals.lines_in as f64 / totals.alerts_out as f64
    };
    api.metrics.lines_per_alert.set(per_alert);
    if always || totals.lines_in > 0 {
        tracing::info!(
            lines_in = totals.lines_in,
            alerts_out = totals.alerts_out,
            replays_skipped = totals.replays_skipped,
            "noise reduction: {} lines in, {} alerts out ({per_alert:.1} lines per alert)",
            totals.lines_in,
            totals.alerts_out
        );
    }
}
