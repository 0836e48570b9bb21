//! The usage ledger: where [`LlmUsage`] records go. [`KafkaUsageSink`]
//! produces them to `opsline.llm.usage.v1` (keyed by task) through the
//! opsline-kafka producer.
//!
//! Delivery: best effort. `record` never blocks the caller: the send runs on a
//! spawned task and a failure is logged, not retried by the caller; the
//! idempotent producer retries on its own. A record can be lost if the process
//! dies before the broker acknowledged it.

use opsline_events::Envelope;
use opsline_events::ops::LlmUsage;
use opsline_events::topics::{LLM_USAGE, TopicNames};
use opsline_kafka::{OutRecord, Producer};

use crate::UsageSink;

/// Produces usage records to the usage topic.
#[derive(Debug, Clone)]
pub struct KafkaUsageSink {
    producer: Producer,
    topic: String,
    source: String,
}

impl KafkaUsageSink {
    /// A sink producing to the usage topic of `topics`, with `source` (the
    /// component name) in every envelope.
    pub fn new(producer: Producer, topics: &TopicNames, source: impl Into<String>) -> Self {
        Self {
            producer,
            topic: topics.name(&LLM_USAGE),
            source: source.into(),
        }
    }

    /// The full topic name records go to.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

impl UsageSink for KafkaUsageSink {
    fn record(&self, usage: LlmUsage) {
        let key = usage.task.clone();
        let envelope = Envelope::new(self.source.clone(), usage);
        let record = match OutRecord::event(self.topic.clone(), &key, &envelope) {
            Ok(record) => record,
            Err(error) => {
                tracing::warn!(%error, "llm usage record not encoded");
                return;
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let producer = self.producer.clone();
                handle.spawn(async move {
                    if let Err(error) = producer.send(&record).await {
                        tracing::warn!(%error, "llm usage record not produced");
                    }
                });
            }
            // Outside a runtime: enqueue only (librdkafka delivers in the background).
            Err(_) => {
                if let Err(error) = self.producer.enqueue(&record) {
                    tracing::warn!(%error, "llm usage record not enqueued");
                }
            }
        }
    }
}
