//! Error type shared by every part of the crate.

use std::path::PathBuf;

/// Everything that can go wrong while training, evaluating, saving or loading a classifier.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// A file could not be read or written.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file could not be parsed or written.
    #[error("CSV error in {path}: {source}")]
    Csv {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// A configured column is missing from a CSV header.
    #[error("column {column:?} not found in {path} (header: {header:?})")]
    MissingColumn {
        /// The column asked for.
        column: String,
        /// The file involved.
        path: PathBuf,
        /// The columns that the file does have.
        header: Vec<String>,
    },
    /// The training data cannot produce a classifier (no rows, a single label, ...).
    #[error("not enough training data: {0}")]
    NotEnoughData(String),
    /// A model file is truncated, corrupt or of an unknown version.
    #[error("invalid model file {path}: {reason}")]
    BadModel {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A YAML (Rasa NLU) document could not be parsed.
    #[error("invalid YAML in {source_name}: {message}")]
    Yaml {
        /// The file name or a description of the in-memory source.
        source_name: String,
        /// The parser's message.
        message: String,
    },
    /// A caller passed an argument outside its domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// JSON (de)serialization of model metadata failed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, ClassifyError>;

impl ClassifyError {
    /// Wraps an I/O error together with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a CSV error together with the path it concerns.
    pub(crate) fn csv(path: impl Into<PathBuf>, source: csv::Error) -> Self {
        Self::Csv {
            path: path.into(),
            source,
        }
    }
}
