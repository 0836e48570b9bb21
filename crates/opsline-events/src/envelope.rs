//! The envelope every Opsline event travels in.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// The timestamp of a `sample()` value: `second` after the epoch (the epoch if out of range).
pub(crate) fn sample_time(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A payload type that travels on the bus inside an [`Envelope`].
///
/// Each implementation names its wire `type`, its schema version and a
/// representative sample (used by the contract tests and as the schema's
/// `examples` entry).
pub trait Event: Serialize + DeserializeOwned + JsonSchema + Clone + PartialEq + std::fmt::Debug {
    /// The wire value of the envelope's `type` field, e.g. `log.raw`.
    const TYPE: &'static str;
    /// The version of this payload's schema; bumped on breaking changes.
    const SCHEMA_VERSION: u32 = 1;
    /// The schema file stem under `schemas/`, e.g. `log.raw.v1`.
    fn schema_file_stem() -> String {
        format!("{}.v{}", Self::TYPE, Self::SCHEMA_VERSION)
    }
    /// A realistic sample payload.
    fn sample() -> Self;
}

/// W3C trace context carried with an event so a trace survives the bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceContext {
    /// The W3C `traceparent` value, e.g. `00-<trace id>-<span id>-01`.
    #[schemars(regex(pattern = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"))]
    pub traceparent: String,
    /// The W3C `tracestate` value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
}

/// The common wrapper of every event: identity, type, version, time, origin and trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Envelope<T> {
    /// Unique event id (UUID v7, time-ordered). Consumers deduplicate on it.
    pub id: Uuid,
    /// The payload type, e.g. `log.raw` (see [`Event::TYPE`]).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload's schema version (see [`Event::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// When the fact the event reports happened (RFC 3339, UTC).
    pub occurred_at: Timestamp,
    /// The component that produced the event, e.g. `gateway` or `triage`.
    pub source: String,
    /// Trace context of the work that produced the event, if it was traced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceContext>,
    /// The typed payload.
    pub data: T,
}

/// A fresh time-ordered event id (UUID v7).
pub fn new_event_id() -> Uuid {
    Uuid::now_v7()
}

impl<T: Event> Envelope<T> {
    /// Wraps `data` in a new envelope with a fresh id, occurring now.
    pub fn new(source: impl Into<String>, data: T) -> Self {
        Self {
            id: new_event_id(),
            event_type: T::TYPE.to_owned(),
            schema_version: T::SCHEMA_VERSION,
            occurred_at: Timestamp::now(),
            source: source.into(),
            trace: None,
            data,
        }
    }

    /// Sets the trace context.
    pub fn with_trace(mut self, trace: Option<TraceContext>) -> Self {
        self.trace = trace;
        self
    }

    /// Serializes the envelope to JSON bytes.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Parses an envelope from JSON bytes and checks its `type` and version.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let envelope: Self = serde_json::from_slice(bytes)?;
        if envelope.event_type != T::TYPE {
            return Err(EnvelopeError::WrongType {
                expected: T::TYPE,
                found: envelope.event_type,
            });
        }
        if envelope.schema_version != T::SCHEMA_VERSION {
            return Err(EnvelopeError::WrongVersion {
                expected: T::SCHEMA_VERSION,
                found: envelope.schema_version,
            });
        }
        Ok(envelope)
    }

    /// A deterministic sample envelope around [`Event::sample`].
    pub fn sample() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_1a2b_3c4d_5e6f),
            event_type: T::TYPE.to_owned(),
            schema_version: T::SCHEMA_VERSION,
            occurred_at: Timestamp::from_second(1_732_345_200).unwrap_or(Timestamp::UNIX_EPOCH),
            source: "gateway".to_owned(),
            trace: Some(TraceContext {
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                tracestate: None,
            }),
            data: T::sample(),
        }
    }
}

/// Why bytes could not be read as a given envelope.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The bytes are not valid JSON for the envelope and payload.
    #[error("invalid event JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The envelope carries another event type.
    #[error("wrong event type: expected {expected}, found {found}")]
    WrongType {
        /// The type the reader expected.
        expected: &'static str,
        /// The type found in the envelope.
        found: String,
    },
    /// The envelope carries another schema version.
    #[error("unsupported schema version: expected {expected}, found {found}")]
    WrongVersion {
        /// The version the reader supports.
        expected: u32,
        /// The version found in the envelope.
        found: u32,
    },
}
