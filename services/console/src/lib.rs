//! The Opsline operations console: one place where SREs and the helpdesk see and act.
//!
//! Follows the incidents (compacted), alerts, routed and triaged tickets, LLM usage and
//! self-service audit topics into bounded in-memory views ([`views`]; the service is ready once they caught up) and serves them as JSON APIs
//! with filters and pagination ([`api`], [`query`], [`lists`]) and as server-rendered pages
//! usable without JavaScript ([`web`]): the incidents home, the incident page and the
//! helpdesk queue. Incident actions are forwarded to the log service, which owns the
//! incident state; a re-route is produced here as a new routed revision plus a feedback
//! record ([`actions`]). Cited raw-log records are read back and redacted ([`records`]);
//! similar postmortems come from the postmortem service ([`similar`]); the automation's figures
//! per use case ([`usage`], shared with `opsline report`) and the log lines received per service
//! (counted by the log service, [`volume`]) feed the insights ([`insights`]). Sign-in and roles are the shared `opsline-auth` tokens.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod actions;
pub mod api;
pub mod app;
pub mod buckets;
pub mod config;
pub mod error;
pub mod insights;
pub mod lists;
pub mod query;
pub mod records;
pub mod replicas;
pub mod similar;
pub mod state;
pub mod usage;
pub mod views;
pub mod volume;
pub mod web;

pub use app::{Console, ConsoleHandle};
pub use config::ConsoleConfig;
pub use error::ConsoleError;
