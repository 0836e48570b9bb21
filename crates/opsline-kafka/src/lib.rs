//! The Opsline Kafka runtime. This is the only crate that imports `rdkafka`.
//!
//! # Delivery guarantee
//!
//! **At least once.** The [`consumer::ConsumerLoop`] commits an input offset
//! only after every output record produced for that input (including its
//! dead letter, if it failed) has been acknowledged by the broker with
//! `acks=all`. A crash replays uncommitted inputs, so processors must be
//! idempotent or consumers must deduplicate on the envelope id. The
//! [`producer::Producer`] is idempotent (`enable.idempotence=true`), so broker
//! retries never duplicate a record within a producer session.
//!
//! # Pieces
//! - [`config`]: connection and client settings (`[kafka]` section).
//! - [`security`]: TLS (librdkafka's OpenSSL) and SASL (SCRAM-SHA-256/512, PLAIN) settings.
//! - [`producer`]: send records and wait for acknowledgement.
//! - [`consumer`]: the consumer loop, its [`consumer::Processor`] trait, retries and dead letters.
//! - [`record`]: records in and out, headers, trace context propagation.
//! - [`admin`]: topic creation and broker readiness.
//! - [`reader`]: read a topic from the beginning (tools and tests).
//! - [`follower`]: follow whole topics without a consumer group (in-memory views every replica needs).
//! - [`metrics`]: Prometheus counters and the consumer-lag gauge.
//! - [`plan`]: a service's topic plan (consumed, followed, read, produced); topics to
//!   create and dead-letter twins derived from it.
//! - [`wiring`]: the producer, consumers and followers of a service, built from its plan
//!   onto its `opsline_runtime::Runner` (readiness, ordered stop).

pub mod admin;
pub mod config;
pub mod consumer;
mod context;
mod delivery;
pub mod embedded;
pub mod embedded_sqlite;
pub mod follower;
pub mod metrics;
mod outputs;
pub mod plan;
pub mod producer;
pub mod quiet;
pub mod reader;
pub mod record;
pub mod security;
pub mod wiring;

pub use config::KafkaConfig;
pub use consumer::{ConsumerLoop, ProcessError, Processor};
pub use follower::TopicFollower;
pub use metrics::KafkaMetrics;
pub use plan::{ConsumeSpec, FollowSpec, TopicPlan};
pub use wiring::{KafkaServiceConfig, KafkaWiring};

#[doc(hidden)]
pub use opsline_runtime as __runtime;
pub use producer::{Delivered, Producer, SendError};
pub use record::{InRecord, OutRecord};

/// Errors from setting up Kafka clients.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSetupError {
    /// librdkafka rejected the configuration or could not create a client.
    #[error("kafka client error: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
    /// The broker did not answer in time.
    #[error("kafka broker at {bootstrap} not reachable within {seconds}s: {last_error}")]
    Unreachable {
        /// Bootstrap servers tried.
        bootstrap: String,
        /// How long we waited.
        seconds: u64,
        /// The last error seen.
        last_error: String,
    },
    /// Topic creation failed for a reason other than "already exists".
    #[error("cannot create topic {topic}: {reason}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// The broker's answer.
        reason: String,
    },
    /// The TLS or SASL settings do not fit together, or a password file cannot be read.
    #[error("kafka security settings: {0}")]
    Security(String),
    /// The broker refused the client's credentials or TLS handshake: not retried, since
    /// waiting does not fix a wrong password or an untrusted certificate.
    #[error("kafka broker at {bootstrap} refused the client ({authentication}): {reason}")]
    Refused {
        /// Bootstrap servers tried.
        bootstrap: String,
        /// How the client authenticated (mechanism and user).
        authentication: String,
        /// librdkafka's account of the failure.
        reason: String,
    },
    /// The producer's delivery-report thread could not start.
    #[error("cannot start the producer's delivery thread")]
    Thread(#[source] std::io::Error),
    /// A topic was not read to its end offsets in time (state would be incomplete).
    #[error(
        "{topic} not read to its end within {seconds}s ({read} records read; partitions {partitions:?} short of their end)"
    )]
    Incomplete {
        /// The topic.
        topic: String,
        /// How long we waited.
        seconds: u64,
        /// Records read.
        read: usize,
        /// Partitions whose end was not reached.
        partitions: Vec<i32>,
    },
}
