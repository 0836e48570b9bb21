//! The Opsline postmortem service.
//!
//! - [`timeline`]: the deterministic, numbered timeline of a resolved incident.
//! - [`draft`]: the [`draft::Drafter`] trait, the deterministic drafter, the citation check
//!   and the Markdown document.
//! - [`auth`]: API tokens stored as SHA-256 hashes ([`auth::hash_token`]).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod draft;
pub mod timeline;
