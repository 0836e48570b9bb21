//! Accuracy evaluation on LogHub 2k data sets (file I/O lives here, never in the miner).
//!
//! For every data set directory holding `<Name>_2k.log` and `<Name>_2k.log_structured.csv`
//! (the Loghub-2.0 `_structured_corrected.csv` ground truth is preferred when present), the raw
//! `.log` is mined line by line exactly as the service does (header included, a fresh [`Miner`]
//! with the default configuration per data set). Predicted and ground-truth templates both go
//! through Loghub-2.0's template normalisation ([`correct_single_template`]) and are scored with
//! Loghub-2.0's GA, PA, FGA and FTA, which key groups by template text.

mod metrics;
mod normalize;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Miner, MinerConfig};
pub use metrics::{Scores, score};
pub use normalize::correct_single_template;

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

/// Scores of one data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DatasetScores {
    /// Grouping accuracy.
    pub ga: f64,
    /// Parsing accuracy.
    pub pa: f64,
    /// F1 of group accuracy.
    pub fga: f64,
    /// F1 of template accuracy.
    pub fta: f64,
    /// Lines evaluated.
    pub lines: usize,
}

/// Mean scores over data sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanScores {
    /// Mean grouping accuracy.
    pub ga: f64,
    /// Mean parsing accuracy.
    pub pa: f64,
    /// Mean FGA.
    pub fga: f64,
    /// Mean FTA.
    pub fta: f64,
}

/// Evaluation report: per data set (by name) and the unweighted mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Scores per data set name.
    pub datasets: BTreeMap<String, DatasetScores>,
    /// Mean over data sets.
    pub mean: MeanScores,
}

impl EvalReport {
    /// An aligned text table, one row per data set and a final mean row.
    pub fn render_text(&self) -> String {
        let width = self
            .datasets
            .keys()
            .map(String::len)
            .chain(std::iter::once(7))
            .max()
            .unwrap_or(7);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}",
            "dataset", "lines", "GA", "PA", "FGA", "FTA"
        );
        for (name, s) in &self.datasets {
            let _ = writeln!(
                out,
                "{:<width$}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}  {:>6.4}",
                name, s.lines, s.ga, s.pa, s.fga, s.fta
            );
        }
        let m = &self.mean;
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}  {:>6.4}",
            "mean", "", m.ga, m.pa, m.fga, m.fta
        );
        out
    }
}

/// One discovered data set.
#[derive(Debug, Clone)]
struct Dataset {
    name: String,
    log: PathBuf,
    truth: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EvalError + '_ {
    move |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The data set in `dir` itself, if any.
fn dataset_in(dir: &Path) -> Result<Option<Dataset>, EvalError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in &entries {
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(name) = file.strip_suffix("_2k.log") else {
            continue;
        };
        let corrected = dir.join(format!("{file}_structured_corrected.csv"));
        let plain = dir.join(format!("{file}_structured.csv"));
        let truth = if corrected.is_file() {
            corrected
        } else if plain.is_file() {
            plain
        } else {
            continue;
        };
        return Ok(Some(Dataset {
            name: name.to_string(),
            log: path.clone(),
            truth,
        }));
    }
    Ok(None)
}

fn discover(dirs: &[PathBuf]) -> Result<Vec<Dataset>, EvalError> {
    let mut found = Vec::new();
    for dir in dirs {
        if let Some(d) = dataset_in(dir)? {
            found.push(d);
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        subs.sort();
        for sub in subs {
            if let Some(d) = dataset_in(&sub)? {
                found.push(d);
            }
        }
    }
    Ok(found)
}

/// Reads `LineId` → `EventTemplate` from a structured CSV; returns templates indexed by line.
fn read_truth(path: &Path) -> Result<Vec<(usize, String)>, EvalError> {
    let csv_err = |source| EvalError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let headers = reader.headers().map_err(csv_err)?.clone();
    let col = |name: &'static str| {
        headers.iter().position(|h| h == name).ok_or(EvalError::MissingColumn {
            path: path.to_path_buf(),
            column: name,
        })
    };
    let (id_col, tpl_col) = (col("LineId")?, col("EventTemplate")?);
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let id = record
            .get(id_col)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as usize);
        let tpl = record.get(tpl_col).unwrap_or("").to_string();
        out.push((id, tpl));
    }
    Ok(out)
}

/// Mines one raw log file with a fresh default miner; returns the template text per line.
pub fn mine_file(path: &Path, config: &MinerConfig) -> Result<Vec<String>, EvalError> {
    let data = std::fs::read(path).map_err(io_err(path))?;
    let mut miner = Miner::new(config.clone())?;
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.ends_with(b"\n") {
        lines.pop();
    }
    let mut ids: Vec<u64> = lines.iter().map(|line| miner.ingest(line).template_id).collect();
    // Lines of a template that was later split belong to one of its parts: mining them again
    // finds it (it only changes counts).
    for (id, line) in ids.iter_mut().zip(&lines) {
        if miner.split_into(*id).is_some() {
            *id = miner.ingest(line).template_id;
        }
    }
    // Label every line with its template's final text, as a batch parser's output would.
    Ok(ids
        .into_iter()
        .map(|id| miner.template(id).map(|t| t.text.to_string()).unwrap_or_default())
        .collect())
}

fn evaluate_one(d: &Dataset) -> Result<DatasetScores, EvalError> {
    let predicted_raw = mine_file(&d.log, &MinerConfig::default())?;
    let truth_rows = read_truth(&d.truth)?;
    let mut truth = Vec::with_capacity(truth_rows.len());
    let mut predicted = Vec::with_capacity(truth_rows.len());
    for (line_id, tpl) in truth_rows {
        let Some(p) = line_id.checked_sub(1).and_then(|i| predicted_raw.get(i)) else {
            continue;
        };
        truth.push(correct_single_template(&tpl));
        predicted.push(correct_single_template(p));
    }
    let s = score(&truth, &predicted);
    Ok(DatasetScores {
        ga: s.ga,
        pa: s.pa,
        fga: s.fga,
        fta: s.fta,
        lines: truth.len(),
    })
}

/// Evaluates every data set found in `dirs` (each a data set directory or a parent of several).
pub fn evaluate_dirs(dirs: &[PathBuf]) -> Result<EvalReport, EvalError> {
    let found = discover(dirs)?;
    if found.is_empty() {
        return Err(EvalError::NoDatasets(dirs.to_vec()));
    }
    let mut datasets = BTreeMap::new();
    for d in &found {
        datasets.insert(d.name.clone(), evaluate_one(d)?);
    }
    let n = datasets.len() as f64;
    let mean_of = |f: fn(&DatasetScores) -> f64| datasets.values().map(f).sum::<f64>() / n;
    let mean = MeanScores {
        ga: mean_of(|s| s.ga),
        pa: mean_of(|s| s.pa),
        fga: mean_of(|s| s.fga),
        fta: mean_of(|s| s.fta),
    };
    Ok(EvalReport { datasets, mean })
}
