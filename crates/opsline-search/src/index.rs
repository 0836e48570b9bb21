//! [`SearchIndex`]: lifecycle of the tantivy index (open/create, upsert, delete, commit, get).
//!
//! Writes become visible to searches after [`SearchIndex::commit`]. The writer is shared
//! behind a mutex so one `SearchIndex` can serve concurrent readers and a single ingest loop.
//!
//! # Writer memory budget
//!
//! The writer buffers documents in RAM before flushing a segment. [`IndexConfig`] sets the
//! total budget (default [`DEFAULT_WRITER_MEMORY_BYTES`] = 64 MiB) and the number of indexing
//! threads (default: available cores, at most 4). Tantivy needs at least 15 MB per thread,
//! so the thread count is lowered when the budget is too small for it.

use std::path::Path;
use std::sync::Mutex;

use tantivy::directory::MmapDirectory;
use tantivy::indexer::UserOperation;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use crate::document::SearchDocument;
use crate::error::{Result, SearchError};
use crate::schema::{self, IndexFields};

/// Default total memory budget of the index writer (64 MiB).
pub const DEFAULT_WRITER_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// Tantivy's minimum memory budget per indexing thread.
pub const MIN_WRITER_MEMORY_PER_THREAD: usize = 15_000_000;
/// Upper bound on indexing threads.
const MAX_WRITER_THREADS: usize = 4;

/// Index writer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexConfig {
    /// Total RAM the writer may buffer before flushing a segment, in bytes (shared by all
    /// indexing threads). Raised to [`MIN_WRITER_MEMORY_PER_THREAD`] if lower.
    pub writer_memory_bytes: usize,
    /// Indexing threads; `0` means "available cores, at most 4".
    pub writer_threads: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            writer_memory_bytes: DEFAULT_WRITER_MEMORY_BYTES,
            writer_threads: 0,
        }
    }
}

impl IndexConfig {
    /// The `(threads, total bytes)` actually used, honouring tantivy's per-thread minimum.
    pub fn effective(&self) -> (usize, usize) {
        let budget = self.writer_memory_bytes.max(MIN_WRITER_MEMORY_PER_THREAD);
        let wanted = if self.writer_threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(MAX_WRITER_THREADS)
        } else {
            self.writer_threads
        };
        let affordable = (budget / MIN_WRITER_MEMORY_PER_THREAD).max(1);
        (wanted.clamp(1, affordable), budget)
    }
}

/// The postmortem and runbook index.
pub struct SearchIndex {
    pub(crate) fields: IndexFields,
    pub(crate) reader: IndexReader,
    writer: Mutex<IndexWriter>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("num_docs", &self.num_docs())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index if needed,
    /// with the default [`IndexConfig`].
    pub fn open_or_create(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_or_create_with(dir, IndexConfig::default())
    }

    /// Like [`SearchIndex::open_or_create`] with an explicit writer configuration.
    pub fn open_or_create_with(dir: impl AsRef<Path>, config: IndexConfig) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        let directory = MmapDirectory::open(dir).map_err(|e| SearchError::Directory {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let (schema, _) = schema::build_schema();
        let index = Index::open_or_create(directory, schema).map_err(schema_error)?;
        Self::from_index(index, config)
    }

    /// A fresh index held in RAM (tests, benchmarks, short-lived tools).
    pub fn in_memory() -> Result<Self> {
        Self::in_memory_with(IndexConfig::default())
    }

    /// Like [`SearchIndex::in_memory`] with an explicit writer configuration.
    pub fn in_memory_with(config: IndexConfig) -> Result<Self> {
        let (schema, _) = schema::build_schema();
        Self::from_index(Index::create_in_ram(schema), config)
    }

    fn from_index(index: Index, config: IndexConfig) -> Result<Self> {
        schema::register_analyzers(&index);
        let fields = schema::fields_of(&index.schema())?;
        let (threads, budget) = config.effective();
        let writer = index.writer_with_num_threads(threads, budget)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            fields,
            reader,
            writer: Mutex::new(writer),
        })
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::WriterPoisoned)?;
        f(&mut writer)
    }

    /// Adds `doc`, replacing any document with the same id (delete by id, then add, as one
    /// operation group). Re-indexing the same document is idempotent. Visible after
    /// [`SearchIndex::commit`]. Keyword fields are normalised (see
    /// [`SearchDocument::normalized`]).
    pub fn upsert(&self, doc: SearchDocument) -> Result<()> {
        doc.validate()?;
        let doc = doc.normalized();
        let tantivy_doc = schema::to_tantivy(&self.fields, &doc);
        let id_term = Term::from_field_text(self.fields.id, &doc.id);
        self.with_writer(|writer| {
            writer.run([UserOperation::Delete(id_term), UserOperation::Add(tantivy_doc)])?;
            Ok(())
        })
    }

    /// Deletes the document with `id` (no-op if absent). Visible after commit.
    pub fn delete(&self, id: &str) -> Result<()> {
        let id_term = Term::from_field_text(self.fields.id, id);
        self.with_writer(|writer| {
            writer.delete_term(id_term);
            Ok(())
        })
    }

    /// Removes every document (before a full rebuild by replay). Visible after commit.
    pub fn clear(&self) -> Result<()> {
        self.with_writer(|writer| {
            writer.delete_all_documents()?;
            Ok(())
        })
    }

    /// Persists pending writes and makes them visible to searches.
    pub fn commit(&self) -> Result<()> {
        self.with_writer(|writer| {
            writer.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Number of committed, live documents (all of them, regardless of any viewer; for
    /// operators and metrics, never for end users).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

fn schema_error(error: tantivy::TantivyError) -> SearchError {
    match error {
        tantivy::TantivyError::SchemaError(message) => SearchError::SchemaMismatch(message),
        other => SearchError::Index(other),
    }
}
