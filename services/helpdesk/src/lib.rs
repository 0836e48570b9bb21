//! # opsline-helpdesk: routed tickets in the helpdesks teams run
//!
//! Connects Opsline to a team's helpdesk. For **Request Tracker** (RT 5, REST 2):
//! - **write-back** ([`processor`], [`rt::writeback`]): every routed revision sets the RT
//!   ticket's queue (at or above `rt.min_confidence`; below, it stays in the triage queue),
//!   its priority, and Opsline's note (summary, suggested reply, citations, linked incident)
//!   in a custom field updated in place, plus one private comment ([`rt::state`] explains why);
//! - **intake** ([`rt::intake`]): new tickets of the triage queue are polled and posted to the
//!   gateway's `/v1/tickets` (ids `rt:<number>`);
//! - **feedback** ([`rt::feedback`]): a person's re-route in RT is published on the feedback topic.
//!
//! **Jira Service Management, ServiceNow and Zendesk** ([`saas`]) get each revision's group,
//! priority and a private note (their tickets reach Opsline through the gateway with a key named
//! after the connector's prefix). Every connector implements [`sink::HelpdeskSink`]; all HTTP goes through the workspace's
//! `OutboundClient` ([`sink::Api`]: auth header, `backon` retries, `Retry-After` on 429).
//!
//! # Delivery guarantee
//!
//! **At least once, idempotent in the helpdesk.** A routed revision's offset is committed only
//! after its write-back is done or dead-lettered (`<routed topic>.dlq` with the reason); the
//! state kept on each RT ticket makes a replay change nothing (older revisions are ignored, the
//! comment is posted once, a person's re-route is never undone). Intake and feedback are at
//! least once, with their high-water marks kept in RT itself.
//!
//! # Modules
//! - [`config`]: settings; [`error`]: the error type; [`metrics`]: metrics;
//! - [`sink`]: the sink trait, the shared HTTP calls and the note;
//! - [`rt`]: Request Tracker; [`saas`]: Jira, ServiceNow, Zendesk; [`processor`]: the Kafka consumer; [`app`]: the runnable service.

pub mod app;
pub mod config;
pub mod error;
pub mod metrics;
pub mod processor;
pub mod rt;
pub mod saas;
pub mod sink;

pub use app::Helpdesk;
pub use config::{HelpdeskConfig, RtConfig};
pub use error::HelpdeskError;
