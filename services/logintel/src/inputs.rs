//! The log service's one group consumer, on raw logs and other systems' alerts together.
//!
//! Both topics are keyed by service and have the same number of partitions
//! ([`opsline_events::topics::EXTERNAL_ALERTS`]); read in one consumer group with range
//! assignment, a replica gets the same partition numbers of both, so the alerts of a service
//! reach the replica that holds the service's logs and incidents, and the two correlate into
//! one incident whatever the number of replicas. (Read in a group of its own, an alert landed
//! on whichever replica held its partition of the alerts topic: with two replicas, about half
//! the alerts opened incidents of their own beside the log incidents of the same service.)
//!
//! # Delivery guarantee
//!
//! Each record's guarantee is its processor's: [`LogProcessor`] for raw logs (commit bounded
//! by written snapshots), [`ExternalProcessor`] for alerts (committed once its outputs are
//! acknowledged).

use opsline_kafka::{InRecord, KafkaConfig, OutRecord, ProcessError, Processor};

use crate::external::ExternalProcessor;
use crate::processor::LogProcessor;

/// Routes each record to the processor of its topic.
pub(crate) struct Inputs {
    external_topic: String,
    logs: LogProcessor,
    alerts: ExternalProcessor,
}

impl Inputs {
    /// Raw logs go to `logs`, records of `external_topic` to `alerts`.
    pub(crate) fn new(logs: LogProcessor, alerts: ExternalProcessor, external_topic: String) -> Self {
        Self {
            external_topic,
            logs,
            alerts,
        }
    }
}

impl Processor for Inputs {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        if record.topic == self.external_topic {
            self.alerts.process(record).await
        } else {
            self.logs.process(record).await
        }
    }

    /// The log processor keeps per-partition state of raw logs only (it ignores other topics).
    fn outputs_acknowledged(&mut self, topic: &str, partition: i32, offset: i64) {
        self.logs.outputs_acknowledged(topic, partition, offset);
    }

    fn committable(&self, topic: &str, partition: i32, offset: i64) -> i64 {
        self.logs.committable(topic, partition, offset)
    }

    async fn partitions_assigned(&mut self, partitions: &[(String, i32)]) {
        self.logs.partitions_assigned(partitions).await;
    }
}

/// Warns, once at start-up, when the external alerts topic and the raw-log topic have different
/// partition counts (a deployment whose alerts topic was created before they were aligned): the
/// alerts of a service may then reach another replica than its logs. The fix is to add
/// partitions to the smaller topic (`kafka-topics --alter --partitions N`).
pub(crate) async fn check_copartitioned(kafka: &KafkaConfig, raw: &str, external: &str) {
    let topics = match opsline_kafka::admin::list_topics(kafka).await {
        Ok(topics) => topics,
        Err(error) => {
            tracing::warn!(%error, "cannot list topics to check that alerts and logs are co-partitioned");
            return;
        }
    };
    let count = |name: &str| topics.iter().find(|(topic, _)| topic == name).map(|(_, n)| *n);
    if let (Some(logs), Some(alerts)) = (count(raw), count(external))
        && logs != alerts
    {
        tracing::warn!(
            raw_partitions = logs,
            external_partitions = alerts,
            "{external} and {raw} have different partition counts: with more than one log-service \
             replica, a service's alerts may reach another replica than its logs and open incidents \
             of their own; add partitions so both topics have the same count"
        );
    }
}
