//! The Opsline ingest gateway.
//!
//! - `POST /v1/logs`: NDJSON records (`application/x-ndjson`, `application/json`),
//!   raw lines (`text/plain` with `service` and `source` query parameters), or an
//!   OpenTelemetry OTLP/HTTP logs export (`application/x-protobuf`, OTLP/JSON; gzip).
//! - Syslog (RFC 5424, RFC 3164) over TCP, TLS and UDP when `[gateway.syslog]` names
//!   listeners (see [`syslog`]).
//! - `POST /v1/tickets`: one JSON ticket, or a JSON array of tickets.
//! - `POST /v1/alerts/alertmanager`: Prometheus Alertmanager's (and Grafana's) webhook.
//! - `POST /v1/chat/slack`, `POST /v1/chat/webhook`: signed chat messages (see [`chat`]).
//! - `GET /healthz`, `GET /readyz`, `GET /metrics`.
//!
//! # Ingest keys and limits
//!
//! `/v1/logs`, `/v1/tickets` and `/v1/alerts/alertmanager` take a source's key as
//! `Authorization: Bearer <key>` ([`keys`]); with no key configured they answer 401. Each key
//! has endpoints, services and a rate limit (429); bodies in flight are bounded (503), and
//! every request by a timeout (408). Syslog carries no key: its listeners are loopback unless
//! configured otherwise, and a TLS listener can ask for client certificates (see [`syslog`]).
//!
//! # Delivery guarantee
//!
//! A record is answered `202 Accepted` (its id listed in `ids`) only after
//! the broker acknowledged it with `acks=all` on the idempotent producer:
//! nothing accepted is lost. Bad records are rejected one by one with a code
//! and a reason (the good records beside them are accepted), and a copy of
//! each rejected record goes to the `opsline.ingest.rejected.v1` topic as a
//! dead letter with the original bytes. When the producer queue stays full
//! the gateway answers `503` with what it did accept so far.

pub mod app;
pub mod chat;
pub mod config;
mod credentials;
pub mod error;
mod guard;
mod ingest;
pub mod keys;
mod metrics;
mod routes;
pub mod syslog;

pub use app::{Gateway, GatewayHandle};
pub use chat::ChatConfig;
pub use config::{AlertmanagerConfig, GatewayConfig};
pub use error::GatewayError;
pub use keys::{IngestEndpoint, IngestKeyConfig, hash_key};
pub use syslog::{SyslogAddrs, SyslogConfig};
