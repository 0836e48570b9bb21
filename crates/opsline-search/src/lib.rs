//! Postmortem and runbook search for Opsline, built on tantivy.
//!
//! The crate owns one search index of Markdown postmortems and runbooks and everything
//! around it:
//!
//! - [`SearchDocument`]: the document model (kind, status, service, severity, dates, tags,
//!   team restriction, url or source path).
//! - [`SearchIndex`]: open or create an index (on disk or in memory), idempotent
//!   [`SearchIndex::upsert`], [`SearchIndex::delete`], [`SearchIndex::commit`],
//!   [`SearchIndex::get`], [`SearchIndex::search`] and [`SearchIndex::similar`].
//! - [`query`]: the query language (phrases, `AND`/`OR`/`NOT`, `+`/`-`, field filters and
//!   date ranges), compiled to tantivy queries.
//! - [`access`]: the [`Viewer`] / [`Role`] access matrix, enforced as a filter clause inside
//!   every tantivy query the crate runs.
//! - [`import`]: [`import_path`] for Markdown files with YAML front matter and JSON Lines.
//! - [`bench`]: the 100k-document benchmark ([`bench::bench`]) against a naive linear scan.
//!
//! The index is a derived view: it can always be rebuilt by replaying documents (for example
//! from Kafka) through [`SearchIndex::upsert`], because ids are stable and upserts idempotent.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod bench;
pub mod document;
pub mod error;
pub mod import;
pub mod index;
pub mod query;
mod schema;
mod search;
mod text;
mod visible;

pub use access::{Role, Viewer};
pub use document::{DocKind, DocStatus, SearchDocument};
pub use error::{Result, SearchError};
pub use import::{ImportOptions, ImportProblem, ImportProgress, ImportSummary, import_path, import_path_with};
pub use index::{IndexConfig, SearchIndex};
pub use search::{MAX_PAGE_LIMIT, MAX_PAGE_OFFSET, Page, SearchHit, SearchResults, SimilarTo};
pub use text::html_escape;
