//! Turning request items into events: validation against the event schema,
//! producing with acknowledgement, dead letters for rejected items, and the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use opsline_events::ops::DeadLetter;
use opsline_events::{Envelope, Event};
use opsline_kafka::{OutRecord, Producer, SendError};
use serde::Serialize;
use uuid::Uuid;

use crate::metrics::{EndpointLabel, GatewayMetrics, RejectLabel, RequestLabel};

/// An item ready to produce.
pub(crate) struct Prepared {
    pub(crate) id: Uuid,
    pub(crate) record: OutRecord,
}

/// An item refused, with the reason.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Rejection {
    /// 1-based line (NDJSON, text) or item (JSON array) number.
    pub(crate) item: usize,
    /// Stable code.
    pub(crate) code: &'static str,
    /// Reason in words.
    pub(crate) reason: String,
    #[serde(skip)]
    pub(crate) raw: Vec<u8>,
}

impl Rejection {
    pub(crate) fn new(item: usize, code: &'static str, reason: impl Into<String>, raw: &[u8]) -> Self {
        Self {
            item,
            code,
            reason: reason.into(),
            raw: raw.to_vec(),
        }
    }
}

/// The answer to an ingest request.
#[derive(Debug, Serialize)]
pub(crate) struct IngestReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    accepted: usize,
    ids: Vec<Uuid>,
    rejected: Vec<Rejection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_from_item: Option<usize>,
}

/// Compiled schema validators of the events the gateway produces.
pub(crate) struct Validators {
    raw_log: jsonschema::Validator,
    raw_ticket: jsonschema::Validator,
    external_alert: jsonschema::Validator,
}

impl Validators {
    pub(crate) fn compile() -> Result<Self, String> {
        let compile = |schema: serde_json::Value| jsonschema::validator_for(&schema).map_err(|e| e.to_string());
        Ok(Self {
            raw_log: compile(opsline_events::schema::event_schema::<opsline_events::logs::RawLog>())?,
            raw_ticket: compile(opsline_events::schema::event_schema::<opsline_events::tickets::RawTicket>())?,
            external_alert: compile(opsline_events::schema::event_schema::<
                opsline_events::external::ExternalAlert,
            >())?,
        })
    }

    fn for_type(&self, event_type: &str) -> &jsonschema::Validator {
        match event_type {
            opsline_events::tickets::RawTicket::TYPE => &self.raw_ticket,
            opsline_events::external::ExternalAlert::TYPE => &self.external_alert,
            _ => &self.raw_log,
        }
    }
}

/// Shared request context.
pub(crate) struct Ingest {
    pub(crate) producer: Producer,
    pub(crate) validators: Validators,
    pub(crate) metrics: GatewayMetrics,
    pub(crate) rejected_topic: String,
    pub(crate) queue_wait: Duration,
    /// Masks credentials before anything is produced (records and dead letters).
    pub(crate) masker: crate::credentials::CredentialMasker,
}

impl Ingest {
    /// Wraps `data` in an envelope (in the current span's trace), validates it against its schema
    /// and encodes it for `topic`.
    pub(crate) fn prepare<T: Event>(
        &self,
        item: usize,
        id: Option<Uuid>,
        topic: &str,
        key: &str,
        data: T,
        raw: &[u8],
    ) -> Result<Prepared, Rejection> {
        let trace = opsline_kafka::record::current_trace_context();
        self.prepare_in_trace(item, id, topic, key, data, raw, trace)
    }

    /// [`Self::prepare`] with the trace the event continues given by the caller (the sender's
    /// own trace, e.g. an OpenTelemetry log record's trace and span ids).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn prepare_in_trace<T: Event>(
        &self,
        item: usize,
        id: Option<Uuid>,
        topic: &str,
        key: &str,
        data: T,
        raw: &[u8],
        trace: Option<opsline_events::TraceContext>,
    ) -> Result<Prepared, Rejection> {
        let mut envelope = Envelope::new("gateway", data).with_trace(trace);
        if let Some(id) = id {
            envelope.id = id;
        }
        let value =
            serde_json::to_value(&envelope).map_err(|e| Rejection::new(item, "encode_failed", e.to_string(), raw))?;
        if let Some(error) = self.validators.for_type(T::TYPE).iter_errors(&value).next() {
            let path = error.instance_path().to_string();
            return Err(Rejection::new(
                item,
                "schema_violation",
                format!("{path}: {error}"),
                raw,
            ));
        }
        let record = OutRecord::event(topic, key, &envelope)
            .map_err(|e| Rejection::new(item, "encode_failed", e.to_string(), raw))?;
        Ok(Prepared {
            id: envelope.id,
            record,
        })
    }

    fn dead_letter(&self, endpoint: &'static str, rejection: &Rejection) -> Option<OutRecord> {
        let letter = DeadLetter {
            original_topic: endpoint.to_owned(),
            partition: None,
            offset: None,
            consumer: "gateway".to_owned(),
            error_code: rejection.code.to_owned(),
            reason: {
                let mut reason = rejection.reason.clone();
                self.masker.mask(endpoint, &mut reason);
                reason
            },
            retryable: false,
            key: None,
            payload_base64: base64::engine::general_purpose::STANDARD
                .encode(self.masker.mask_bytes(endpoint, &rejection.raw)),
            headers: Default::default(),
            failed_at: jiff::Timestamp::now(),
        };
        OutRecord::event(self.rejected_topic.clone(), endpoint, &Envelope::new("gateway", letter)).ok()
    }

    /// Produces every prepared item, dead-letters rejected ones, waits for acknowledgements and answers
    /// with the gateway's JSON report.
    pub(crate) async fn publish(
        self: Arc<Self>,
        endpoint: &'static str,
        items: Vec<Result<Prepared, Rejection>>,
    ) -> Response {
        let outcome = self.clone().deliver(endpoint, items).await;
        let (status, error, reason) = outcome.verdict();
        self.count_request(endpoint, status);
        let report = IngestReport {
            error,
            reason,
            accepted: outcome.delivered.len(),
            ids: outcome.delivered,
            rejected: outcome.rejected,
            retry_from_item: outcome.retry_from_item,
        };
        let mut response = (status, Json(report)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }

    /// Counts one answered request of `endpoint`.
    pub(crate) fn count_request(&self, endpoint: &'static str, status: StatusCode) {
        self.metrics
            .requests
            .get_or_create(&RequestLabel {
                endpoint,
                status: status.as_u16(),
            })
            .inc();
    }

    /// Produces every prepared item and dead-letters rejected ones; returns once Kafka
    /// acknowledged (or refused) every produced record. The caller answers.
    pub(crate) async fn deliver(
        self: Arc<Self>,
        endpoint: &'static str,
        items: Vec<Result<Prepared, Rejection>>,
    ) -> Delivered {
        let mut pending = Vec::new();
        let mut rejected = Vec::new();
        let mut dead_letters = Vec::new();
        let mut retry_from_item = None;
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Ok(prepared) => match self.producer.enqueue_waiting(&prepared.record, self.queue_wait).await {
                    Ok(delivery) => pending.push((prepared.id, delivery)),
                    Err(SendError::QueueFull) => {
                        retry_from_item = Some(index + 1);
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "enqueue failed");
                        retry_from_item = Some(index + 1);
                        break;
                    }
                },
                Err(rejection) => {
                    self.metrics
                        .rejected
                        .get_or_create(&RejectLabel {
                            endpoint,
                            code: rejection.code,
                        })
                        .inc();
                    if let Some(letter) = self.dead_letter(endpoint, &rejection) {
                        if let Ok(delivery) = self.producer.enqueue(&letter) {
                            dead_letters.push(delivery);
                        }
                    }
                    rejected.push(rejection);
                }
            }
        }
        let (ids, outcomes): (Vec<Uuid>, Vec<_>) = pending.into_iter().unzip();
        let results = futures::future::join_all(outcomes.into_iter().map(|d| d.wait())).await;
        for letter in futures::future::join_all(dead_letters.into_iter().map(|d| d.wait())).await {
            if let Err(error) = letter {
                tracing::warn!(%error, "rejected record not written to the dead-letter topic");
            }
        }
        let mut delivered = Vec::with_capacity(ids.len());
        let mut failure = None;
        for (id, result) in ids.into_iter().zip(results) {
            match result {
                Ok(_) => delivered.push(id),
                Err(error) => failure = Some(error.to_string()),
            }
        }
        self.metrics
            .accepted
            .get_or_create(&EndpointLabel { endpoint })
            .inc_by(delivered.len() as u64);
        Delivered {
            delivered,
            rejected,
            retry_from_item,
            failure,
        }
    }
}

/// What [`Ingest::deliver`] did with a request's items.
#[derive(Debug)]
pub(crate) struct Delivered {
    /// Event ids Kafka acknowledged.
    pub(crate) delivered: Vec<Uuid>,
    /// Items refused (each dead-lettered).
    pub(crate) rejected: Vec<Rejection>,
    /// 1-based item from which nothing was produced (the producer queue was full).
    pub(crate) retry_from_item: Option<usize>,
    /// The last error of a record Kafka did not acknowledge.
    pub(crate) failure: Option<String>,
}

impl Delivered {
    /// The HTTP status, error code and reason the request gets.
    pub(crate) fn verdict(&self) -> (StatusCode, Option<&'static str>, Option<String>) {
        if self.retry_from_item.is_some() {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("overloaded"),
                Some("producer queue is full; resend the items from retry_from_item".to_owned()),
            )
        } else if let Some(error) = &self.failure {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("unavailable"),
                Some(format!(
                    "not acknowledged by Kafka: {error}; resend the items not listed in ids"
                )),
            )
        } else if self.delivered.is_empty() && !self.rejected.is_empty() {
            (
                StatusCode::BAD_REQUEST,
                Some("invalid_input"),
                Some(format!("all {} items were rejected; see rejected", self.rejected.len())),
            )
        } else if self.delivered.is_empty() {
            (
                StatusCode::BAD_REQUEST,
                Some("empty_body"),
                Some("no records in the request body".to_owned()),
            )
        } else {
            (StatusCode::ACCEPTED, None, None)
        }
    }
}
