//! The Opsline postmortem service.
//!
//! Reads resolved incidents (`opsline.incidents.v1`) and their alerts (`opsline.alerts.v1`),
//! drafts a postmortem for each (a deterministic, cited timeline and the Google SRE template
//! sections; marked "Draft, needs review"), publishes it to the compacted
//! `opsline.postmortems.v1` topic keyed by a postmortem id derived from the incident id, and
//! indexes every postmortem revision and the runbooks for search.
//!
//! - [`timeline`]: the deterministic, numbered timeline of a resolved incident.
//! - [`draft`]: the [`draft::Drafter`] trait, the deterministic drafter, the citation check
//!   and the Markdown document.
//! - [`auth`]: API tokens stored as SHA-256 hashes ([`auth::hash_token`]), roles and teams
//!   (the shared `opsline-auth` crate, also used by the console).
//! - [`store`]: the read model (latest revisions and the search index), rebuilt from Kafka.
//! - [`review`]: edits by people (sections, prompts, comments, action items) as revisions.
//! - [`web`]: the JSON API and the server-rendered page.
//! - [`app`]: the service ([`PostmortemService`]): topic plan, consumers, workers, API.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
/// API tokens, roles and teams: the shared sign-in crate (`opsline-auth`), re-exported.
pub use opsline_auth as auth;
pub mod config;
pub mod draft;
pub mod error;
mod holds;
mod metrics;
mod narrative;
mod processor;
pub mod review;
pub mod store;
pub mod timeline;
pub mod web;

pub use app::PostmortemService;
pub use auth::{TokenConfig, hash_token};
pub use config::PostmortemConfig;
pub use draft::{Drafter, postmortem_id};
pub use error::PostmortemError;
/// The time type of events and timelines (re-exported for callers that build events).
pub use jiff::Timestamp;
/// The roles a token can have (re-exported from the search crate, which enforces them).
pub use opsline_search::{Role, Viewer};
