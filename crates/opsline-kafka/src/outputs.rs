//! Delivering one input's outputs: wait for each acknowledgement, resend what failed with
//! backoff, and dead-letter the input when the broker refuses an output for good.
//!
//! A dead letter (`<input topic>.dlq`) carries the reason and the input's original bytes; one
//! the broker refuses in turn (too large) is sent without the bytes, which stay in the input
//! topic at the offset it cites.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use base64::Engine;
use opsline_events::ops::DeadLetter;
use opsline_events::{Envelope, TopicNames};

use crate::producer::{PendingDelivery, Producer, SendError};
use crate::record::{InRecord, OutRecord};

/// Why an input is dead-lettered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reason<'a> {
    /// A short stable code.
    pub code: &'a str,
    /// What went wrong, in words.
    pub message: &'a str,
    /// Whether retrying might have helped.
    pub retryable: bool,
}

/// The dead letter of `record` (with its bytes when `with_payload`).
pub(crate) fn dead_letter(component: &str, record: &InRecord, reason: &Reason<'_>, with_payload: bool) -> OutRecord {
    let data = DeadLetter {
        original_topic: record.topic.clone(),
        partition: Some(record.partition),
        offset: Some(record.offset),
        consumer: component.to_owned(),
        error_code: reason.code.to_owned(),
        reason: reason.message.to_owned(),
        retryable: reason.retryable,
        key: record.key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned()),
        payload_base64: if with_payload {
            base64::engine::general_purpose::STANDARD.encode(record.payload_bytes())
        } else {
            String::new()
        },
        headers: record
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect(),
        failed_at: jiff::Timestamp::now(),
    };
    let envelope = Envelope::new(component.to_owned(), data);
    let topic = TopicNames::dead_letter(&record.topic);
    let key = record
        .key
        .as_ref()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .unwrap_or_default();
    OutRecord::event(topic.clone(), &key, &envelope)
        .unwrap_or_else(|_| OutRecord::new(topic, Some(&key), record.payload_bytes().to_vec()))
}

/// Delivers the dead letter of `record`; one the broker refuses (too large) goes again
/// without the original bytes, which stay in the input topic at the cited offset.
pub(crate) async fn deliver_dead_letter(
    producer: &Producer,
    component: &str,
    record: &InRecord,
    reason: &Reason<'_>,
    backoff: ExponentialBuilder,
) -> Result<(), SendError> {
    let letter = dead_letter(component, record, reason, true);
    let enqueued = producer.enqueue_waiting(&letter, Duration::from_secs(5)).await;
    match deliver_all(producer, vec![(letter, enqueued)], backoff).await {
        Err(SendError::Rejected(_)) => {
            let letter = dead_letter(component, record, reason, false);
            let enqueued = producer.enqueue_waiting(&letter, Duration::from_secs(5)).await;
            deliver_all(producer, vec![(letter, enqueued)], backoff).await
        }
        other => other,
    }
}

/// Waits for every output; resends failed ones with backoff. A record refused for good is
/// not resent; the other outputs are still awaited and the refusal is returned.
pub(crate) async fn deliver_all(
    producer: &Producer,
    pending: Vec<(OutRecord, Result<PendingDelivery, SendError>)>,
    backoff: ExponentialBuilder,
) -> Result<(), SendError> {
    let mut rejected = None;
    for (record, enqueued) in pending {
        let mut attempt = match enqueued {
            Ok(delivery) => delivery.wait().await,
            Err(error) => Err(error),
        };
        let mut delays = backoff.build();
        while let Err(error) = &attempt {
            if let SendError::Rejected(_) = error {
                break;
            }
            let Some(delay) = delays.next() else { break };
            tracing::warn!(topic = %record.topic, %error, ?delay, "resending output");
            tokio::time::sleep(delay).await;
            attempt = match producer.enqueue_waiting(&record, Duration::from_secs(5)).await {
                Ok(delivery) => delivery.wait().await,
                Err(error) => Err(error),
            };
        }
        match attempt {
            Err(error @ SendError::Rejected(_)) => rejected = rejected.or(Some(error)),
            other => {
                other?;
            }
        }
    }
    rejected.map_or(Ok(()), Err)
}
