//! The idempotent producer.
//!
//! [`Producer::enqueue`] never blocks: a full local queue is reported at once
//! as [`SendError::QueueFull`] (the gateway turns it into HTTP 503). The
//! returned [`PendingDelivery`] resolves when the broker acknowledged the
//! record with `acks=all`, or failed it after `message.timeout.ms`. Delivery reports are
//! read by one thread per producer that sleeps while idle (see [`crate::delivery`]).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::util::Timeout;
use tokio::sync::oneshot;

use crate::KafkaSetupError;
use crate::config::KafkaConfig;
use crate::delivery::{DeliveryContext, DeliveryReceiver, Poller};
use crate::metrics::KafkaMetrics;
use crate::record::OutRecord;

/// Where the broker stored a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// Why a record was not delivered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The local producer queue is full; retry later (HTTP 503).
    #[error("producer queue is full")]
    QueueFull,
    /// The broker or client failed the record.
    #[error("kafka error: {0}")]
    Kafka(String),
    /// The producer was dropped before delivery was known.
    #[error("delivery outcome lost: producer closed")]
    Canceled,
    /// The broker or client refused the record for good (too large, invalid): resending the
    /// same bytes cannot succeed, so the caller dead-letters instead of retrying.
    #[error("record refused: {0}")]
    Rejected(String),
}

impl SendError {
    /// The error for a failed produce: [`SendError::Rejected`] when the error is about the
    /// record itself, else [`SendError::Kafka`] (retried).
    pub fn of(error: &KafkaError) -> Self {
        match error.rdkafka_error_code() {
            Some(
                RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidTopic,
            ) => Self::Rejected(error.to_string()),
            _ => Self::Kafka(error.to_string()),
        }
    }
}

impl SendError {
    /// A short stable code for metrics and dead letters.
    pub fn code(&self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::Kafka(_) => "kafka_error",
            Self::Canceled => "canceled",
            Self::Rejected(_) => "rejected",
        }
    }
}

/// An enqueued record whose acknowledgement is pending.
#[must_use = "a pending delivery must be awaited to know the record is durable"]
pub struct PendingDelivery {
    receiver: DeliveryReceiver,
    topic: String,
    metrics: KafkaMetrics,
}

impl PendingDelivery {
    /// Waits for the broker's acknowledgement.
    pub async fn wait(self) -> Result<Delivered, SendError> {
        match self.receiver.await {
            Ok(Ok((partition, offset))) => {
                self.metrics
                    .produced
                    .get_or_create(&KafkaMetrics::topic(&self.topic))
                    .inc();
                Ok(Delivered { partition, offset })
            }
            Ok(Err(error)) => {
                let error = SendError::of(&error);
                self.metrics
                    .produce_errors
                    .get_or_create(&KafkaMetrics::topic_code(&self.topic, error.code()))
                    .inc();
                Err(error)
            }
            Err(_canceled) => Err(SendError::Canceled),
        }
    }
}

/// A cheaply clonable idempotent producer.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<BaseProducer<DeliveryContext>>,
    /// Stops the delivery-report thread when the last clone is dropped.
    _poller: Arc<Poller>,
    metrics: KafkaMetrics,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl Producer {
    /// Creates the producer (no network traffic until the first send).
    pub fn new(config: &KafkaConfig, metrics: &KafkaMetrics) -> Result<Self, KafkaSetupError> {
        let inner: Arc<BaseProducer<DeliveryContext>> = Arc::new(
            config
                .producer_config()?
                .create_with_context(DeliveryContext::default())?,
        );
        let poller = Poller::start(Arc::clone(&inner)).map_err(KafkaSetupError::Thread)?;
        Ok(Self {
            inner,
            _poller: Arc::new(poller),
            metrics: metrics.clone(),
        })
    }

    /// Enqueues `record` without waiting; fails at once with `QueueFull` when the queue is full.
    pub fn enqueue(&self, record: &OutRecord) -> Result<PendingDelivery, SendError> {
        let (sender, receiver) = oneshot::channel();
        let mut base_record: BaseRecord<'_, [u8], [u8], _> =
            BaseRecord::with_opaque_to(&record.topic, Box::new(sender)).headers(record.owned_headers());
        if let Some(key) = &record.key {
            base_record = base_record.key(key.as_slice());
        }
        if let Some(payload) = &record.payload {
            base_record = base_record.payload(payload.as_slice());
        }
        match self.inner.send(base_record) {
            Ok(()) => Ok(PendingDelivery {
                receiver,
                topic: record.topic.clone(),
                metrics: self.metrics.clone(),
            }),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => Err(SendError::QueueFull),
            Err((error, _)) => {
                let error = SendError::of(&error);
                let code = match error {
                    SendError::Rejected(_) => "rejected",
                    _ => "enqueue",
                };
                self.metrics
                    .produce_errors
                    .get_or_create(&KafkaMetrics::topic_code(&record.topic, code))
                    .inc();
                Err(error)
            }
        }
    }

    /// Enqueues `record`, waiting for queue space for up to `queue_wait`, and returns the pending delivery.
    pub async fn enqueue_waiting(
        &self,
        record: &OutRecord,
        queue_wait: Duration,
    ) -> Result<PendingDelivery, SendError> {
        let deadline = tokio::time::Instant::now() + queue_wait;
        loop {
            match self.enqueue(record) {
                Err(SendError::QueueFull) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                other => return other,
            }
        }
    }

    /// Sends `record` and waits for the acknowledgement.
    pub async fn send(&self, record: &OutRecord) -> Result<Delivered, SendError> {
        self.enqueue_waiting(record, Duration::from_secs(30))
            .await?
            .wait()
            .await
    }

    /// Waits up to `timeout` for every queued record to be delivered.
    pub fn flush(&self, timeout: Duration) -> Result<(), SendError> {
        self.inner
            .flush(Timeout::After(timeout))
            .map_err(|e| SendError::Kafka(e.to_string()))
    }

    /// Whether the broker answers a metadata request within two seconds, asked on this
    /// producer's own connection (no new client per check).
    pub async fn broker_reachable(&self) -> bool {
        let client = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            client
                .client()
                .fetch_metadata(None, Timeout::After(Duration::from_secs(2)))
                .is_ok()
        })
        .await
        .unwrap_or(false)
    }

    /// Records waiting in the local queue.
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight_count()
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::error::{KafkaError, RDKafkaErrorCode};

    use super::SendError;

    #[test]
    fn a_record_refused_for_good_is_not_retried() {
        for code in [
            RDKafkaErrorCode::MessageSizeTooLarge,
            RDKafkaErrorCode::MessageBatchTooLarge,
            RDKafkaErrorCode::InvalidRecord,
        ] {
            let error = SendError::of(&KafkaError::MessageProduction(code));
            assert!(matches!(error, SendError::Rejected(_)), "{code:?}: {error}");
        }
        for code in [
            RDKafkaErrorCode::BrokerTransportFailure,
            RDKafkaErrorCode::NotLeaderForPartition,
            RDKafkaErrorCode::RequestTimedOut,
            RDKafkaErrorCode::TopicAuthorizationFailed,
        ] {
            let error = SendError::of(&KafkaError::MessageProduction(code));
            assert!(matches!(error, SendError::Kafka(_)), "{code:?}: {error}");
        }
    }
}
