//! Accuracy evaluation on LogHub 2k data sets (file I/O lives here, never in the miner).
//!
//! For every data set directory holding `<Name>_2k.log` and `<Name>_2k.log_structured.csv`
//! (the Loghub-2.0 `_structured_corrected.csv` ground truth is preferred when present), the raw
//! `.log` is mined line by line exactly as the service does (header included, a fresh miner
//! with the default configuration per data set; see [`crate::Miner`]). Predicted and ground-truth templates both go
//! through Loghub-2.0's template normalisation ([`correct_single_template`]) and are scored with
//! Loghub-2.0's GA, PA, FGA and FTA, which key groups by template text.

mod dataset;
mod loo;
mod metrics;
mod normalize;
mod refined;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::MinerConfig;
pub use dataset::{Dataset, Labels, LoadedDataset, find_datasets, mine_file};
pub use loo::{FoldChoice, LooReport, SettingGrid, leave_one_out};
pub use metrics::{Scores, score};
pub use normalize::correct_single_template;
pub use refined::{RefineOptions, RefinedReport, RefinedScores, evaluate_dirs_refined};
pub use report::{DatasetScores, EvalReport, MeanScores};

/// Errors while evaluating.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file or directory could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A ground-truth CSV could not be parsed.
    #[error("parsing {path}: {source}")]
    Csv {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// A ground-truth CSV lacks a needed column.
    #[error("{path}: missing column {column}")]
    MissingColumn {
        /// The path.
        path: PathBuf,
        /// The column name.
        column: &'static str,
    },
    /// No data set was found under the given directories.
    #[error("no LogHub data set (<Name>_2k.log + <Name>_2k.log_structured.csv) under {0:?}")]
    NoDatasets(Vec<PathBuf>),
    /// The miner could not be built.
    #[error("miner: {0}")]
    Miner(#[from] crate::MinerError),
}

/// Evaluates every data set found in `dirs` (each a data set directory or a parent of several)
/// with the default configuration.
pub fn evaluate_dirs(dirs: &[PathBuf]) -> Result<EvalReport, EvalError> {
    evaluate_dirs_with(dirs, &MinerConfig::default())
}

/// [`evaluate_dirs`] with a given configuration.
pub fn evaluate_dirs_with(dirs: &[PathBuf], config: &MinerConfig) -> Result<EvalReport, EvalError> {
    let mut datasets = BTreeMap::new();
    for d in find_datasets(dirs)? {
        datasets.insert(d.name.clone(), d.load()?.score(config)?);
    }
    Ok(EvalReport::new(datasets))
}
