//! The LLM usage ledger sink: each [`LlmUsage`] the gateway reports is enqueued
//! on the usage topic (keyed by task) without waiting.
//!
//! Delivery: best effort (the idempotent producer retries; a full producer
//! queue drops the record with a warning). TODO: replace with
//! `opsline_llm::KafkaUsageSink` once the LLM gateway crate provides it.

use opsline_events::Envelope;
use opsline_events::ops::LlmUsage;
use opsline_kafka::{OutRecord, Producer};
use opsline_llm::UsageSink;

/// Writes usage records to the ledger topic.
#[derive(Debug, Clone)]
pub struct LedgerSink {
    producer: Producer,
    topic: String,
}

impl LedgerSink {
    /// A sink producing to `topic` (the full name of the usage topic).
    pub fn new(producer: Producer, topic: String) -> Self {
        Self { producer, topic }
    }
}

impl UsageSink for LedgerSink {
    fn record(&self, usage: LlmUsage) {
        let key = usage.task.clone();
        let envelope = Envelope::new(crate::processor::COMPONENT, usage);
        match OutRecord::event(self.topic.clone(), &key, &envelope) {
            Ok(record) => {
                if let Err(error) = self.producer.enqueue(&record) {
                    tracing::warn!(%error, "usage record not enqueued");
                }
            }
            Err(error) => tracing::warn!(%error, "usage record not encoded"),
        }
    }
}
