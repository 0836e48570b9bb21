//! LogHub data sets on disk: discovery, ground truth, and labelling every line with a miner.

use std::path::{Path, PathBuf};

use super::{DatasetScores, EvalError, correct_single_template, score};
use crate::{Miner, MinerConfig};

/// One discovered data set: a raw `<Name>_2k.log` and its structured ground-truth CSV.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The data set name (`HDFS` for `HDFS_2k.log`).
    pub name: String,
    /// The raw log file.
    pub log: PathBuf,
    /// The ground truth (`_structured_corrected.csv` when present, else `_structured.csv`).
    pub truth: PathBuf,
}

/// A data set read into memory, ready to be mined with any configuration.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    /// The data set name.
    pub name: String,
    /// The raw log file's bytes.
    data: Vec<u8>,
    /// (0-based line index, normalised ground-truth template) per ground-truth row.
    truth: Vec<(usize, String)>,
}

/// Per-line templates of one data set: ground truth and prediction, both normalised.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// The raw content of each scored line (the whole log line).
    pub lines: Vec<String>,
    /// Ground-truth template per scored line.
    pub truth: Vec<String>,
    /// Predicted template per scored line.
    pub predicted: Vec<String>,
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EvalError + '_ {
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

/// Every data set in `dirs` (each a data set directory or a parent of several), in order.
pub fn find_datasets(dirs: &[PathBuf]) -> Result<Vec<Dataset>, EvalError> {
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
    if found.is_empty() {
        return Err(EvalError::NoDatasets(dirs.to_vec()));
    }
    Ok(found)
}

/// Reads `LineId` → `EventTemplate` from a structured CSV.
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

/// The lines of a raw log (split on `\n`, without a trailing empty line).
fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.ends_with(b"\n") {
        lines.pop();
    }
    lines
}

/// Mines raw lines with a fresh miner; returns the template text per line.
fn mine_lines(lines: &[&[u8]], config: &MinerConfig) -> Result<Vec<String>, EvalError> {
    let mut miner = Miner::new(config.clone())?;
    let mut ids: Vec<u64> = lines.iter().map(|line| miner.ingest(line).template_id).collect();
    // Lines of a template that was later split belong to one of its parts: mining them again
    // finds it (it only changes counts).
    for (id, line) in ids.iter_mut().zip(lines) {
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

/// Mines one raw log file with a fresh miner; returns the template text per line.
pub fn mine_file(path: &Path, config: &MinerConfig) -> Result<Vec<String>, EvalError> {
    let data = std::fs::read(path).map_err(io_err(path))?;
    mine_lines(&split_lines(&data), config)
}

impl Dataset {
    /// Reads the log and the ground truth (normalised) into memory.
    pub fn load(&self) -> Result<LoadedDataset, EvalError> {
        let data = std::fs::read(&self.log).map_err(io_err(&self.log))?;
        let truth = read_truth(&self.truth)?
            .into_iter()
            .filter_map(|(line_id, tpl)| Some((line_id.checked_sub(1)?, correct_single_template(&tpl))))
            .collect();
        Ok(LoadedDataset {
            name: self.name.clone(),
            data,
            truth,
        })
    }
}

impl LoadedDataset {
    /// The raw log's lines.
    pub(super) fn raw_lines(&self) -> Vec<&[u8]> {
        split_lines(&self.data)
    }

    /// (0-based line index, normalised ground-truth template) per ground-truth row.
    pub(super) fn truth(&self) -> &[(usize, String)] {
        &self.truth
    }

    /// Mines the log with a fresh miner built from `config` and pairs every ground-truth line
    /// with its predicted template (both normalised).
    pub fn labels(&self, config: &MinerConfig) -> Result<Labels, EvalError> {
        let lines = split_lines(&self.data);
        let predicted_raw = mine_lines(&lines, config)?;
        let mut out = Labels::default();
        for (i, tpl) in &self.truth {
            let (Some(p), Some(line)) = (predicted_raw.get(*i), lines.get(*i)) else {
                continue;
            };
            out.lines.push(String::from_utf8_lossy(line).into_owned());
            out.truth.push(tpl.clone());
            out.predicted.push(correct_single_template(p));
        }
        Ok(out)
    }

    /// GA, PA, FGA and FTA of a fresh miner built from `config`.
    pub fn score(&self, config: &MinerConfig) -> Result<DatasetScores, EvalError> {
        let labels = self.labels(config)?;
        let s = score(&labels.truth, &labels.predicted);
        Ok(DatasetScores {
            ga: s.ga,
            pa: s.pa,
            fga: s.fga,
            fta: s.fta,
            lines: labels.truth.len(),
        })
    }
}
