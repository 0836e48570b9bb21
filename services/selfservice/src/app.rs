//! Building and running the self-service service: rebuild ticket and incident state,
//! follow it, consume chat messages, serve `/healthz`, `/readyz`, `/metrics`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use opsline_classify::IntentClassifier;
use opsline_events::TopicNames;
use opsline_kafka::{ConsumerLoop, KafkaMetrics, Producer, TopicFollower};
use opsline_runtime::Shutdown;
use opsline_runtime::http::{OpsState, ops_router};
use opsline_runtime::metrics::Metrics;
use tokio::net::TcpListener;

use crate::config::SelfServiceConfig;
use crate::directory::Directory;
use crate::error::SelfServiceError;
use crate::handler::Handler;
use crate::metrics::SelfServiceMetrics;
use crate::otp::{Notifier, notifier_from_config};
use crate::processor::{COMPONENT, ChatProcessor, Topics};
use crate::reply::ReplySender;
use crate::reset::ResetFlow;
use crate::status::{SharedStatus, StatusBook, StatusFollower};
use crate::turn::Auditor;

/// A built self-service service, state rebuilt, bound to its port, not yet consuming.
pub struct Application {
    listener: TcpListener,
    router: Router,
    ops: OpsState,
    producer: Producer,
    kafka_metrics: KafkaMetrics,
    config: SelfServiceConfig,
    topics: Topics,
    status: SharedStatus,
    processor: ChatProcessor,
}

impl Application {
    /// Builds the service with the notifier named in the configuration.
    pub async fn build(config: SelfServiceConfig, metrics: Metrics) -> Result<Self, SelfServiceError> {
        let notifier = notifier_from_config(&config.notifier)?;
        Self::build_with_notifier(config, metrics, notifier).await
    }

    /// Builds the service with the given one-time-code notifier (tests pass a recording one).
    pub async fn build_with_notifier(
        config: SelfServiceConfig,
        metrics: Metrics,
        notifier: Option<Arc<dyn Notifier>>,
    ) -> Result<Self, SelfServiceError> {
        let kafka_metrics = KafkaMetrics::register(&metrics);
        let service_metrics = SelfServiceMetrics::register(&metrics);
        let producer =
            Producer::new(&config.kafka, &kafka_metrics).map_err(|e| SelfServiceError::Startup(e.to_string()))?;
        let names = TopicNames::with_prefix(config.topic_prefix.clone());
        let topics = Topics::new(&names);
        let wanted = names.to_create_among(
            &[
                &topics.messages,
                &topics.replies,
                &topics.audit,
                &topics.raw_tickets,
                &topics.ticket_state,
                &topics.incidents,
                &topics.replies_dead_letter,
            ],
            &[&topics.messages],
        );
        opsline_kafka::admin::create_topics(&config.kafka, &wanted)
            .await
            .map_err(|e| SelfServiceError::Kafka(e.to_string()))?;

        let status: SharedStatus = Arc::new(RwLock::new(StatusBook::default()));
        rebuild_status(&config, &topics, &status).await?;

        let classifier = IntentClassifier::builtin().map_err(|e| SelfServiceError::Startup(e.to_string()))?;
        let directory = Directory::new(config.directory.clone());
        let auditor = Auditor {
            cost_per_ticket: config.cost_per_ticket,
        };
        let reset = ResetFlow::new(
            directory.clone(),
            notifier,
            config.password_policy.clone(),
            config.otp.clone(),
            &config.rate_limit,
            auditor,
        )?;
        let handler = Handler::new(classifier, reset, directory, status.clone(), auditor)?;
        let sender = ReplySender::new(config.reply.clone())?;
        let processor = ChatProcessor::new(handler, sender, topics.clone(), service_metrics);

        let ops = OpsState::new(metrics);
        let router = Router::new().merge(ops_router(ops.clone()));
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| SelfServiceError::Startup(format!("cannot listen on {}: {e}", config.listen)))?;
        Ok(Self {
            listener,
            router,
            ops,
            producer,
            kafka_metrics,
            config,
            topics,
            status,
            processor,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The materialized ticket and incident state (tests and the CLI read it).
    pub fn status(&self) -> SharedStatus {
        self.status.clone()
    }

    /// Consumes and serves until `shutdown` is cancelled, then commits and flushes.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> Result<(), SelfServiceError> {
        let Self {
            listener,
            router,
            ops,
            producer,
            kafka_metrics,
            config,
            topics,
            status,
            processor,
        } = self;
        let chat = ConsumerLoop::new(
            &config.kafka,
            &config.group_id,
            vec![topics.messages.clone()],
            producer.clone(),
            &kafka_metrics,
            COMPONENT,
        );
        // Every replica follows every partition: a group-less reader from the beginning.
        let follow = TopicFollower::new(
            &config.kafka,
            vec![topics.ticket_state.clone(), topics.incidents.clone()],
            &kafka_metrics,
        );
        let follower = StatusFollower {
            book: status,
            ticket_topic: topics.ticket_state.clone(),
        };
        ops.set_ready(true);
        let signal = shutdown.clone();
        let server = async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { signal.cancelled().await })
                .await
        };
        let consuming = async {
            let result = chat.run(processor, shutdown.clone()).await;
            shutdown.cancel();
            result
        };
        let following = async {
            let result = follow.run(|record| follower.apply(record), shutdown.clone()).await;
            shutdown.cancel();
            result
        };
        let (served, consumed, followed) = tokio::join!(server, consuming, following);
        ops.set_ready(false);
        if let Err(error) = producer.flush(Duration::from_secs(10)) {
            tracing::warn!(%error, "producer flush at shutdown incomplete");
        }
        tracing::info!("selfservice stopped");
        consumed.map_err(|e| SelfServiceError::Kafka(e.to_string()))?;
        followed.map_err(|e| SelfServiceError::Kafka(e.to_string()))?;
        served.map_err(|e| SelfServiceError::Startup(e.to_string()))?;
        Ok(())
    }
}

/// Reads the compacted ticket-state topic and the incidents topic into `status`.
async fn rebuild_status(
    config: &SelfServiceConfig,
    topics: &Topics,
    status: &SharedStatus,
) -> Result<(), SelfServiceError> {
    let idle = Duration::from_millis(config.restore_idle_ms.max(100));
    for topic in [&topics.ticket_state, &topics.incidents] {
        let records = opsline_kafka::reader::read_until_idle(&config.kafka, topic, idle, Duration::from_secs(120))
            .await
            .map_err(|e| SelfServiceError::Kafka(e.to_string()))?;
        let mut book = status
            .write()
            .map_err(|_| SelfServiceError::Startup("status book lock poisoned".to_owned()))?;
        for record in &records {
            book.apply(&topics.ticket_state, record);
        }
    }
    if let Ok(book) = status.read() {
        let (tickets, incidents) = book.len();
        tracing::info!(tickets, incidents, "ticket and incident state rebuilt");
    }
    Ok(())
}
