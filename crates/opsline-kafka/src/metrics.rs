//! Kafka metrics: records consumed, produced and dead-lettered, commits, and consumer lag.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_kafka_consumed_records_total` | counter | `topic` |
//! | `opsline_kafka_produced_records_total` | counter | `topic` |
//! | `opsline_kafka_produce_errors_total` | counter | `topic`, `code` |
//! | `opsline_kafka_dead_lettered_records_total` | counter | `topic`, `code` |
//! | `opsline_kafka_processing_retries_total` | counter | `topic` |
//! | `opsline_kafka_commits_total` | counter | `outcome` |
//! | `opsline_kafka_consumer_lag_records` | gauge | `topic`, `partition` (from broker statistics) |
//! | `opsline_kafka_assigned_partitions` | gauge | `topic` (partitions this process's group members hold) |

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

/// `topic` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    /// Topic name.
    pub topic: String,
}

/// `topic` and `code` labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicCodeLabel {
    /// Topic name.
    pub topic: String,
    /// Error code (bounded set).
    pub code: String,
}

/// `outcome` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `ok` or `error`.
    pub outcome: String,
}

/// `topic` and `partition` labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabel {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: String,
}

/// The Kafka metric families, registered once per process.
#[derive(Debug, Clone, Default)]
pub struct KafkaMetrics {
    /// Records consumed.
    pub consumed: Family<TopicLabel, Counter>,
    /// Records acknowledged by the broker.
    pub produced: Family<TopicLabel, Counter>,
    /// Records that failed to produce.
    pub produce_errors: Family<TopicCodeLabel, Counter>,
    /// Inputs sent to a dead-letter topic.
    pub dead_lettered: Family<TopicCodeLabel, Counter>,
    /// Processing retries.
    pub retries: Family<TopicLabel, Counter>,
    /// Offset commits.
    pub commits: Family<OutcomeLabel, Counter>,
    /// Consumer lag reported by librdkafka statistics.
    pub consumer_lag: Family<PartitionLabel, Gauge>,
    /// Partitions of each topic assigned to this process's group members (set at each
    /// rebalance): a replica holding none after the group settled gets no work.
    pub assigned_partitions: Family<TopicLabel, Gauge>,
}

impl KafkaMetrics {
    /// Creates the families and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "kafka_consumed_records",
            "Records consumed from Kafka.",
            this.consumed.clone(),
        );
        metrics.register(
            "kafka_produced_records",
            "Records acknowledged by the broker.",
            this.produced.clone(),
        );
        metrics.register(
            "kafka_produce_errors",
            "Records that failed to produce.",
            this.produce_errors.clone(),
        );
        metrics.register(
            "kafka_dead_lettered_records",
            "Inputs sent to a dead-letter topic.",
            this.dead_lettered.clone(),
        );
        metrics.register(
            "kafka_processing_retries",
            "Processing retries of retryable errors.",
            this.retries.clone(),
        );
        metrics.register("kafka_commits", "Offset commits by outcome.", this.commits.clone());
        metrics.register(
            "kafka_consumer_lag_records",
            "Consumer lag per partition.",
            this.consumer_lag.clone(),
        );
        metrics.register(
            "kafka_assigned_partitions",
            "Partitions of each topic held by this process's group members.",
            this.assigned_partitions.clone(),
        );
        this
    }

    pub(crate) fn topic(topic: &str) -> TopicLabel {
        TopicLabel {
            topic: topic.to_owned(),
        }
    }

    pub(crate) fn topic_code(topic: &str, code: &str) -> TopicCodeLabel {
        TopicCodeLabel {
            topic: topic.to_owned(),
            code: code.to_owned(),
        }
    }
}
