//! Typed errors of the search crate.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;

/// Everything that can go wrong while indexing, querying or importing.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The underlying tantivy index failed (I/O, corrupted segment, lock held, ...).
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// Opening the on-disk index directory failed.
    #[error("cannot open index directory {path}: {message}")]
    Directory {
        /// The directory that could not be opened.
        path: PathBuf,
        /// Why it could not be opened.
        message: String,
    },
    /// The existing index on disk was built with a different schema.
    #[error("index schema mismatch (built by another version?): {0}")]
    SchemaMismatch(String),
    /// The query string could not be parsed.
    #[error("invalid query: {0}")]
    Query(#[from] crate::query::QueryError),
    /// A document failed validation before indexing.
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    /// A document asked for by id does not exist or is not visible to the viewer.
    #[error("document not found: {0}")]
    NotFound(String),
    /// A file system operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The index writer lock was poisoned by a panic in another thread.
    #[error("index writer lock poisoned")]
    WriterPoisoned,
    /// Serializing a report failed.
    #[error("serialization error: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl SearchError {
    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SearchError::Io {
            path: path.into(),
            source,
        }
    }
}
