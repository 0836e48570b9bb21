//! The Kafka side of a service, wired onto its [`Runner`] from its [`TopicPlan`].
//!
//! [`KafkaWiring::connect`] creates the producer and every topic of the plan, adds
//! the `broker` readiness condition (probed on the producer's own connection) and
//! the final stop step that flushes the producer. [`KafkaWiring::consume`] and
//! [`KafkaWiring::follow`] turn the plan's specs into critical tasks: a consumer
//! loop (at least once, see [`crate::consumer`]) or a follower, which adds its own
//! readiness condition (caught up to the end offsets it saw at start). A consumer
//! starts consuming only once every follower declared before it has caught up, so
//! no input is processed against a view that misses what its topics already held.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opsline_runtime::readiness::ReadyCondition;
use opsline_runtime::{Runner, Shutdown, StartupContext, StartupError};

use crate::config::KafkaConfig;
use crate::consumer::{ConsumerLoop, Processor};
use crate::follower::TopicFollower;
use crate::metrics::KafkaMetrics;
use crate::plan::{ConsumeSpec, FollowSpec, TopicPlan};
use crate::producer::Producer;
use crate::record::InRecord;

/// How often a reachable broker is probed for readiness.
const BROKER_PROBE_INTERVAL: Duration = Duration::from_secs(10);
/// How long a starting service waits for the broker to answer.
const BROKER_WAIT_AT_START: Duration = Duration::from_secs(30);
/// How long the producer gets to deliver what it holds at stop.
const FLUSH_AT_STOP: Duration = Duration::from_secs(10);

/// A service's producer and Kafka settings, ready to build its loops.
#[derive(Clone)]
pub struct KafkaWiring {
    config: KafkaConfig,
    producer: Producer,
    metrics: KafkaMetrics,
    component: &'static str,
    /// The caught-up conditions of the followers declared so far.
    followers: Arc<Mutex<Vec<ReadyCondition>>>,
}

impl KafkaWiring {
    /// Creates the producer and the plan's topics; `component` names the service in
    /// dead letters. Adds the `broker` readiness condition and the final producer flush.
    pub async fn connect(
        config: &KafkaConfig,
        plan: &TopicPlan,
        component: &'static str,
        runner: &mut Runner,
    ) -> Result<Self, StartupError> {
        let metrics = KafkaMetrics::register(runner.metrics());
        let producer = Producer::new(config, &metrics).startup("cannot create the Kafka producer")?;
        crate::admin::wait_for_broker(config, BROKER_WAIT_AT_START)
            .await
            .startup("cannot use the Kafka broker (is it running? check kafka.bootstrap_servers and, for TLS/SASL, kafka.security_protocol, kafka.tls, kafka.sasl)")?;
        crate::admin::create_topics(config, &plan.to_create())
            .await
            .startup(format!(
                "cannot create the topics on {} (is the broker running? set kafka.bootstrap_servers)",
                config.bootstrap_servers
            ))?;
        let probed = producer.clone();
        runner.probe("broker", BROKER_PROBE_INTERVAL, move || {
            let producer = probed.clone();
            async move { producer.broker_reachable().await }
        });
        let flushed = producer.clone();
        runner.on_final_stop(
            "flush the producer",
            move || async move { flushed.flush(FLUSH_AT_STOP) },
        );
        Ok(Self {
            config: config.clone(),
            producer,
            metrics,
            component,
            followers: Arc::default(),
        })
    }

    /// The service's producer.
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// The Kafka settings.
    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    /// The Kafka metrics of the service.
    pub fn metrics(&self) -> &KafkaMetrics {
        &self.metrics
    }

    /// Consumes `spec` with `processor` as a critical task: its end stops the service.
    /// Consuming starts once the followers declared before have caught up.
    pub fn consume<P: Processor + 'static>(&self, runner: &mut Runner, spec: &ConsumeSpec, processor: P) {
        let followers = self.followers.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let consumer = ConsumerLoop::new(
            &self.config,
            &spec.group,
            spec.topics.clone(),
            self.producer.clone(),
            &self.metrics,
            self.component,
        );
        runner.critical(format!("consumer group {}", spec.group), move |shutdown| async move {
            if !followers_caught_up(&followers, &shutdown).await {
                return Ok(());
            }
            consumer.run(processor, shutdown).await.map(|_| ())
        });
    }

    /// Follows `spec` with `apply` as a critical task; the service is not ready until
    /// the follower has read what its topics held at start.
    pub fn follow<F>(&self, runner: &mut Runner, spec: &FollowSpec, apply: F)
    where
        F: FnMut(&InRecord) + Send + 'static,
    {
        let what = format!("follower of {}", spec.topics.join(", "));
        let condition = runner.readiness().condition(format!("{what} caught up"));
        self.followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(condition.clone());
        let follower = TopicFollower::new(&self.config, spec.topics.clone(), &self.metrics).caught_up_when(condition);
        runner.critical(what, move |shutdown| async move {
            follower.run(apply, shutdown).await.map(|_| ())
        });
    }
}

/// Waits until every condition is met; `false` when shutdown came first.
async fn followers_caught_up(followers: &[ReadyCondition], shutdown: &Shutdown) -> bool {
    let mut logged = false;
    while !followers.iter().all(ReadyCondition::is_met) {
        if !logged {
            tracing::info!("consumer waits for the followers to catch up");
            logged = true;
        }
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    true
}

/// What `opsline up` and tests set on every service's configuration: the shared Kafka
/// settings and topic prefix.
pub trait KafkaServiceConfig {
    /// The service's Kafka client settings.
    fn kafka(&self) -> &KafkaConfig;
    /// The same, to change.
    fn kafka_mut(&mut self) -> &mut KafkaConfig;
    /// The prefix of every topic name.
    fn topic_prefix(&self) -> &str;
    /// Sets the prefix of every topic name.
    fn set_topic_prefix(&mut self, prefix: String);
}

/// Implements [`opsline_runtime::ServiceConfig`] and [`KafkaServiceConfig`] for a config
/// struct with the fields `listen`, `telemetry`, `kafka` and `topic_prefix`.
#[macro_export]
macro_rules! service_config {
    ($config:ty) => {
        impl $crate::__runtime::ServiceConfig for $config {
            fn listen(&self) -> &str {
                &self.listen
            }
            fn set_listen(&mut self, listen: String) {
                self.listen = listen;
            }
            fn telemetry(&self) -> &$crate::__runtime::telemetry::TelemetryConfig {
                &self.telemetry
            }
        }
        impl $crate::wiring::KafkaServiceConfig for $config {
            fn kafka(&self) -> &$crate::KafkaConfig {
                &self.kafka
            }
            fn topic_prefix(&self) -> &str {
                &self.topic_prefix
            }
            fn kafka_mut(&mut self) -> &mut $crate::KafkaConfig {
                &mut self.kafka
            }
            fn set_topic_prefix(&mut self, prefix: String) {
                self.topic_prefix = prefix;
            }
        }
    };
}
