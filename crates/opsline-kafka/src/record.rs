//! Records in and out of Kafka, their headers, and trace context propagation.
//!
//! Every produced record carries the W3C `traceparent` of the span that
//! produced it (header `traceparent`), the event type (`opsline-event-type`)
//! and `content-type: application/json`. Consumers start their processing
//! span as a child of the incoming `traceparent`, so one trace follows a
//! record from the gateway across every service.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use opsline_events::{Envelope, Event, TraceContext};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Header holding the W3C trace parent.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Header holding the event type.
pub const EVENT_TYPE_HEADER: &str = "opsline-event-type";

/// A record to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct OutRecord {
    /// Destination topic (full name).
    pub topic: String,
    /// Partition key.
    pub key: Option<Vec<u8>>,
    /// Payload bytes (`None` is a tombstone on compacted topics).
    pub payload: Option<Vec<u8>>,
    /// Headers.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl OutRecord {
    /// A record with the given payload and no headers.
    pub fn new(topic: impl Into<String>, key: Option<&str>, payload: Vec<u8>) -> Self {
        Self {
            topic: topic.into(),
            key: key.map(|k| k.as_bytes().to_vec()),
            payload: Some(payload),
            headers: Vec::new(),
        }
    }

    /// Serializes `envelope` as JSON and adds the event-type and content-type headers,
    /// and the envelope's trace context (or the current span's) as `traceparent`.
    pub fn event<T: Event>(
        topic: impl Into<String>,
        key: &str,
        envelope: &Envelope<T>,
    ) -> Result<Self, serde_json::Error> {
        let payload = envelope.to_json()?;
        let mut record = Self::new(topic, Some(key), payload);
        record
            .headers
            .push((EVENT_TYPE_HEADER.to_owned(), T::TYPE.as_bytes().to_vec()));
        record
            .headers
            .push(("content-type".to_owned(), b"application/json".to_vec()));
        match &envelope.trace {
            Some(trace) => record
                .headers
                .push((TRACEPARENT_HEADER.to_owned(), trace.traceparent.as_bytes().to_vec())),
            None => record.inject_current_trace(),
        }
        Ok(record)
    }

    /// Adds `traceparent` (and `tracestate`) headers for the current span, if it is traced.
    pub fn inject_current_trace(&mut self) {
        let context = tracing::Span::current().context();
        let mut injector = HeaderInjector(&mut self.headers);
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut injector));
    }

    pub(crate) fn owned_headers(&self) -> OwnedHeaders {
        let mut headers = OwnedHeaders::new_with_capacity(self.headers.len());
        for (key, value) in &self.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        headers
    }
}

/// The trace context of the current span, for an envelope's `trace` field.
pub fn current_trace_context() -> Option<TraceContext> {
    let mut headers = Vec::new();
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(&mut headers))
    });
    let lookup = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    lookup(TRACEPARENT_HEADER).map(|traceparent| TraceContext {
        traceparent,
        tracestate: lookup("tracestate"),
    })
}

struct HeaderInjector<'a>(&'a mut Vec<(String, Vec<u8>)>);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value.into_bytes()));
    }
}

/// A consumed record, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct InRecord {
    /// Source topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Payload bytes.
    pub payload: Option<Vec<u8>>,
    /// Headers (values lossily decoded are available through [`InRecord::header`]).
    pub headers: Vec<(String, Vec<u8>)>,
    /// Broker or producer timestamp in milliseconds, if any.
    pub timestamp_ms: Option<i64>,
}

impl InRecord {
    pub(crate) fn from_message(message: &BorrowedMessage<'_>) -> Self {
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec).unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
            timestamp_ms: message.timestamp().to_millis(),
        }
    }

    /// The first header named `name`, as lossy UTF-8.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// The payload, or an empty slice for a tombstone.
    pub fn payload_bytes(&self) -> &[u8] {
        self.payload.as_deref().unwrap_or_default()
    }

    /// Parses the payload as an envelope of `T`.
    pub fn envelope<T: Event>(&self) -> Result<Envelope<T>, opsline_events::envelope::EnvelopeError> {
        Envelope::from_json(self.payload_bytes())
    }

    /// Makes `span` a child of the trace in this record's headers, if any.
    pub fn set_parent_of(&self, span: &tracing::Span) {
        let map: HashMap<String, String> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapExtractor(&map)));
        let _ = span.set_parent(context);
    }
}

struct MapExtractor<'a>(&'a HashMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}
