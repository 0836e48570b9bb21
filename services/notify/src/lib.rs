//! # opsline-notify: incident notifications
//!
//! Consumes incident revisions (`opsline.incidents.v1`) and tells the tools people work in
//! when an incident **opens, changes severity, is acknowledged or resolves**:
//! Slack (one thread per incident, an Acknowledge button, the parent kept up to date),
//! Microsoft Teams (Workflows webhook, Adaptive Card), PagerDuty (Events API v2),
//! Opsgenie (Alert API) and signed generic webhooks ([`sinks`]). Routing rules pick the
//! targets by service, severity level and team; quiet hours hold or drop low severities;
//! maintenance windows silence a service ([`rules`]).
//!
//! # Delivery guarantee
//!
//! **At least once per target and transition, never blocking the pipeline.** Each target has
//! its own task and bounded queue ([`delivery`]); a notification is retried with backoff
//! (honouring `Retry-After`), then dead-lettered with the reason to `opsline.incidents.v1.dlq`;
//! a full queue dead-letters at once. An incident revision's offset is committed only once every
//! notification it brought was sent or dead-lettered. What each target was told (and the Slack
//! thread `ts`) is written to the compacted `opsline.notify.state.v1` and read back at start,
//! so a revision that changes nothing, or a replay after a restart, sends nothing.
//!
//! # Modules
//! - [`config`]: settings; [`error`]: the error type;
//! - [`rules`], [`transitions`]: the decisions (pure);
//! - [`sinks`]: each tool's wire format; [`delivery`]: queues, retries, dead letters;
//! - [`state`]: told states and commit holds; [`processor`]: the Kafka processor; [`app`]: the service.

pub mod app;
pub mod config;
pub mod delivery;
pub mod error;
mod metrics;
pub mod processor;
pub mod rules;
pub mod sinks;
pub mod state;
pub mod transitions;

pub use app::{Notify, NotifyHandle};
pub use config::{NotifyConfig, RuleConfig, TargetConfig, TargetKind};
