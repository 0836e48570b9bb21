//! Importing postmortems and runbooks from files.
//!
//! [`import_path`] indexes one file or a directory tree (recursively, in sorted order,
//! skipping hidden entries and symlinked directories):
//!
//! - `*.md`, `*.markdown`: Markdown with optional YAML front matter (see `markdown`).
//! - `*.jsonl`, `*.ndjson`: JSON Lines, one object per line (see `jsonl`).
//!
//! Other files are counted as skipped, and so are folder guides (`README.md`,
//! `README.markdown`, any case), which describe a collection rather than belong to it (a
//! runbook folder's README is no postmortem). Bad lines and odd front matter are reported in
//! [`ImportSummary::problems`] without stopping the import.
//!
//! # Stable ids
//!
//! Markdown: front matter `id`, else `url:<canonical url>`, else the front matter `uuid`,
//! else `path:<path relative to the import root>`. JSON Lines: `url:<canonical url>`, else
//! `<relative path>#<id>`, else `<relative path>#L<line>`.
//!
//! A document's identity is its canonical URL when it has one (scheme, `www.`, Wayback
//! Machine prefix, fragment and trailing slash ignored): the same write-up found in two
//! feeds, or archived under several URLs, is one document (the last one imported wins)
//! instead of duplicate hits.
//! The import root is the directory given, or the parent directory of a single file.
//! Re-importing the same tree therefore upserts the same ids: imports are idempotent.

mod fields;
mod jsonl;
mod markdown;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::document::{DocStatus, SearchDocument};
use crate::error::{Result, SearchError};
use crate::index::SearchIndex;

/// Import settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Status of documents whose source does not say. Defaults to [`DocStatus::Draft`]
    /// (least privilege: only SREs see it) ; pass [`DocStatus::Published`] for public corpora.
    pub default_status: DocStatus,
    /// Commit after this many documents (bounded memory and progress on big imports).
    pub commit_every: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            default_status: DocStatus::Draft,
            commit_every: 10_000,
        }
    }
}

/// Progress reported after each file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProgress {
    /// Files to process in total.
    pub files_total: usize,
    /// Files processed so far.
    pub files_done: usize,
    /// Documents indexed so far.
    pub documents_indexed: usize,
    /// Problems reported so far.
    pub problems: usize,
    /// The file just processed.
    pub current: PathBuf,
}

/// One problem found while importing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// File concerned.
    pub path: PathBuf,
    /// 1-based line for JSON Lines, `None` for a whole file.
    pub line: Option<usize>,
    /// `true` if the record was skipped, `false` for a warning on an indexed document.
    pub skipped: bool,
    /// What was wrong.
    pub message: String,
}

/// Outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Supported files read.
    pub files_read: usize,
    /// Files ignored (unsupported extension).
    pub files_skipped: usize,
    /// Documents upserted.
    pub documents_indexed: usize,
    /// Problems, in file order.
    pub problems: Vec<ImportProblem>,
}

/// Indexes `path` with [`ImportOptions::default`], then commits.
pub fn import_path(index: &SearchIndex, path: &Path, progress: &dyn Fn(ImportProgress)) -> Result<ImportSummary> {
    import_path_with(index, path, &ImportOptions::default(), progress)
}

/// Indexes `path` (file or directory) and commits; see the module docs for formats and ids.
pub fn import_path_with(
    index: &SearchIndex,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Fn(ImportProgress),
) -> Result<ImportSummary> {
    let mut pending = 0usize;
    let mut failure: Option<SearchError> = None;
    let summary = walk_documents(path, options, progress, &mut |doc| {
        if failure.is_some() {
            return false;
        }
        if let Err(e) = index.upsert(doc) {
            failure = Some(e);
            return false;
        }
        pending += 1;
        if pending >= options.commit_every.max(1) {
            pending = 0;
            if let Err(e) = index.commit() {
                failure = Some(e);
                return false;
            }
        }
        true
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    index.commit()?;
    Ok(summary)
}

/// Parses `path` into documents without indexing them (benchmarks, dry runs).
pub fn load_path(path: &Path, options: &ImportOptions) -> Result<(Vec<SearchDocument>, ImportSummary)> {
    let mut docs = Vec::new();
    let summary = walk_documents(path, options, &|_| {}, &mut |doc| {
        docs.push(doc);
        true
    })?;
    Ok((docs, summary))
}

/// Where a file sits relative to the import root.
pub(crate) struct Source<'a> {
    relative: String,
    display: String,
    stem: &'a str,
    default_status: DocStatus,
    path_says_runbook: bool,
}

/// Documents and problems of one file.
#[derive(Default)]
pub(crate) struct SourceOutcome {
    documents: Vec<SearchDocument>,
    problems: Vec<(Option<usize>, bool, String)>,
}

impl SourceOutcome {
    fn warn(&mut self, line: Option<usize>, message: String) {
        self.problems.push((line, false, message));
    }

    fn fail(&mut self, line: Option<usize>, message: String) {
        self.problems.push((line, true, message));
    }
}

#[derive(Clone, Copy)]
enum Format {
    Markdown,
    JsonLines,
}

fn format_of(path: &Path) -> Option<Format> {
    let stem = path.file_stem()?.to_str()?;
    if stem.eq_ignore_ascii_case("readme") {
        return None;
    }
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "md" | "markdown" => Some(Format::Markdown),
        "jsonl" | "ndjson" => Some(Format::JsonLines),
        _ => None,
    }
}

/// Parses every supported file under `path`, handing documents to `sink` (which returns
/// `false` to stop early).
fn walk_documents(
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Fn(ImportProgress),
    sink: &mut dyn FnMut(SearchDocument) -> bool,
) -> Result<ImportSummary> {
    let metadata = std::fs::metadata(path).map_err(|e| SearchError::io(path, e))?;
    let (root, mut files) = if metadata.is_dir() {
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        (path.to_path_buf(), files)
    } else {
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (root, vec![path.to_path_buf()])
    };
    files.sort();
    let files_total = files.len();
    let mut summary = ImportSummary::default();
    for (done, file) in files.iter().enumerate() {
        let Some(format) = format_of(file) else {
            summary.files_skipped += 1;
            continue;
        };
        let text = match std::fs::read(file) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                summary.problems.push(ImportProblem {
                    path: file.clone(),
                    line: None,
                    skipped: true,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        summary.files_read += 1;
        let relative = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let source = Source {
            path_says_runbook: relative.to_ascii_lowercase().contains("runbook"),
            relative,
            display: file.display().to_string(),
            stem: file.file_stem().and_then(|s| s.to_str()).unwrap_or("untitled"),
            default_status: options.default_status,
        };
        let outcome = match format {
            Format::Markdown => markdown::parse_markdown(&text, &source),
            Format::JsonLines => jsonl::parse_jsonl(&text, &source),
        };
        for (line, skipped, message) in outcome.problems {
            summary.problems.push(ImportProblem {
                path: file.clone(),
                line,
                skipped,
                message,
            });
        }
        for doc in outcome.documents {
            if !sink(doc) {
                return Ok(summary);
            }
            summary.documents_indexed += 1;
        }
        progress(ImportProgress {
            files_total,
            files_done: done + 1,
            documents_indexed: summary.documents_indexed,
            problems: summary.problems.len(),
            current: file.clone(),
        });
    }
    Ok(summary)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| SearchError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SearchError::io(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(|e| SearchError::io(&path, e))?;
        if file_type.is_dir() {
            collect_files(&path, out)?;
        } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}
