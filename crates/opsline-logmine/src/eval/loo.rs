//! Leave-one-out evaluation: every data-driven choice is made without the system it is scored on.
//!
//! Each setting of a small grid (similarity threshold × tree depth) is scored on every data set
//! once. For each held-out data set, the setting with the best mean GA + FTA over the *other*
//! data sets is chosen (ties go to the grid's first setting, the default configuration), and
//! the held-out data set is scored with that setting only. The mean of those held-out scores is
//! the estimate of accuracy on a system the configuration has never seen.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::{DatasetScores, EvalError, EvalReport, find_datasets};
use crate::MinerConfig;

/// The settings leave-one-out may choose from. The default configuration is always the first
/// candidate, so a grid that never beats it on the other systems reproduces the plain table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingGrid {
    /// Candidate values of [`MinerConfig::similarity_threshold`].
    pub similarity_thresholds: Vec<f64>,
    /// Candidate values of [`MinerConfig::tree_depth`].
    pub tree_depths: Vec<usize>,
}

impl Default for SettingGrid {
    fn default() -> Self {
        Self {
            similarity_thresholds: vec![0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
            tree_depths: vec![1, 2, 3],
        }
    }
}

impl SettingGrid {
    /// A grid with one setting: the default configuration (no data-driven choice at all).
    pub fn default_only() -> Self {
        let d = MinerConfig::default();
        Self {
            similarity_thresholds: vec![d.similarity_threshold],
            tree_depths: vec![d.tree_depth],
        }
    }

    /// Every configuration of the grid, the default configuration first.
    pub fn configs(&self) -> Vec<MinerConfig> {
        let base = MinerConfig::default();
        let mut out = vec![base.clone()];
        for &t in &self.similarity_thresholds {
            for &d in &self.tree_depths {
                let c = MinerConfig {
                    similarity_threshold: t,
                    tree_depth: d,
                    ..base.clone()
                };
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }
}

/// What one fold chose and how the held-out data set scored with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldChoice {
    /// The chosen similarity threshold.
    pub similarity_threshold: f64,
    /// The chosen tree depth.
    pub tree_depth: usize,
    /// Whether the choice equals the default configuration.
    pub is_default: bool,
    /// Mean GA + FTA of the chosen setting on the other data sets (the selection objective).
    pub train_objective: f64,
    /// Scores of the held-out data set with the chosen setting.
    pub held_out: DatasetScores,
}

/// Leave-one-out report: per held-out data set, the choice and its score, and the mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LooReport {
    /// The grid searched.
    pub grid: SettingGrid,
    /// Per held-out data set.
    pub folds: BTreeMap<String, FoldChoice>,
    /// The held-out scores as an ordinary table (per data set and mean).
    pub table: EvalReport,
}

impl LooReport {
    /// An aligned text table: held-out scores and the chosen setting per data set, then the mean.
    pub fn render_text(&self) -> String {
        let width = self
            .folds
            .keys()
            .map(String::len)
            .chain(std::iter::once(7))
            .max()
            .unwrap_or(7);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>5}  {:>5}  {:>7}",
            "held out", "lines", "GA", "PA", "FGA", "FTA", "sim", "depth", "default"
        );
        for (name, f) in &self.folds {
            let s = &f.held_out;
            let _ = writeln!(
                out,
                "{:<width$}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}  {:>6.4}  {:>5.2}  {:>5}  {:>7}",
                name,
                s.lines,
                s.ga,
                s.pa,
                s.fga,
                s.fta,
                f.similarity_threshold,
                f.tree_depth,
                if f.is_default { "yes" } else { "no" }
            );
        }
        let m = &self.table.mean;
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}  {:>6.4}",
            "mean", "", m.ga, m.pa, m.fga, m.fta
        );
        out
    }
}

/// Leave-one-out evaluation of the data sets in `dirs` over `grid` (see the module docs).
pub fn leave_one_out(dirs: &[PathBuf], grid: &SettingGrid) -> Result<LooReport, EvalError> {
    let datasets = find_datasets(dirs)?
        .iter()
        .map(|d| d.load())
        .collect::<Result<Vec<_>, _>>()?;
    let configs = grid.configs();
    // scores[c][d]: configuration c on data set d.
    let mut scores: Vec<Vec<DatasetScores>> = Vec::with_capacity(configs.len());
    for config in &configs {
        scores.push(datasets.iter().map(|d| d.score(config)).collect::<Result<_, _>>()?);
    }
    Ok(choose(grid, &configs, &scores, &names(&datasets)))
}

fn names(datasets: &[super::LoadedDataset]) -> Vec<String> {
    datasets.iter().map(|d| d.name.clone()).collect()
}

/// The selection itself, on precomputed scores (`scores[config][dataset]`).
fn choose(grid: &SettingGrid, configs: &[MinerConfig], scores: &[Vec<DatasetScores>], names: &[String]) -> LooReport {
    let default = MinerConfig::default();
    let mut folds = BTreeMap::new();
    for (held, name) in names.iter().enumerate() {
        let mut best: Option<(usize, f64)> = None;
        for (c, row) in scores.iter().enumerate() {
            let others: Vec<&DatasetScores> = row
                .iter()
                .enumerate()
                .filter(|&(d, _)| d != held)
                .map(|(_, s)| s)
                .collect();
            let n = others.len().max(1) as f64;
            let objective = others.iter().map(|s| s.ga + s.fta).sum::<f64>() / n;
            // Strictly better only: ties keep the earlier setting (the default comes first).
            if best.is_none_or(|(_, b)| objective > b + 1e-12) {
                best = Some((c, objective));
            }
        }
        let Some((c, objective)) = best else { continue };
        let (Some(config), Some(held_out)) = (configs.get(c), scores.get(c).and_then(|r| r.get(held))) else {
            continue;
        };
        folds.insert(
            name.clone(),
            FoldChoice {
                similarity_threshold: config.similarity_threshold,
                tree_depth: config.tree_depth,
                is_default: *config == default,
                train_objective: objective,
                held_out: *held_out,
            },
        );
    }
    let table = EvalReport::new(folds.iter().map(|(n, f)| (n.clone(), f.held_out)).collect());
    LooReport {
        grid: grid.clone(),
        folds,
        table,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn s(ga: f64, fta: f64) -> DatasetScores {
        DatasetScores {
            ga,
            pa: 0.0,
            fga: 0.0,
            fta,
            lines: 10,
        }
    }

    fn setup() -> (SettingGrid, Vec<MinerConfig>, Vec<String>) {
        let grid = SettingGrid {
            similarity_thresholds: vec![0.5, 0.7],
            tree_depths: vec![2],
        };
        let configs = grid.configs();
        let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        (grid, configs, names)
    }

    #[test]
    fn the_held_out_set_never_influences_its_own_choice() {
        let (grid, configs, names) = setup();
        assert_eq!(configs.len(), 2);
        // Setting 1 is far better on `a` only; `a`'s fold must still pick the default, which
        // wins on `b` and `c`, while the other folds see `a`'s gain and pick setting 1.
        let scores = vec![
            vec![s(0.1, 0.1), s(0.9, 0.9), s(0.9, 0.9)],
            vec![s(1.0, 1.0), s(0.8, 0.8), s(0.8, 0.8)],
        ];
        let r = choose(&grid, &configs, &scores, &names);
        assert!(r.folds["a"].is_default);
        assert_eq!(r.folds["a"].held_out.ga, 0.1);
        assert!(!r.folds["b"].is_default);
        assert_eq!(r.folds["b"].similarity_threshold, 0.7);
        assert_eq!(r.folds["b"].held_out.ga, 0.8);
        assert!((r.table.mean.ga - (0.1 + 0.8 + 0.8) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ties_keep_the_default_so_a_flat_grid_reproduces_the_plain_table() {
        let (grid, configs, names) = setup();
        let row = vec![s(0.9, 0.7), s(0.8, 0.6), s(1.0, 0.5)];
        let r = choose(&grid, &configs, &[row.clone(), row.clone()], &names);
        assert!(r.folds.values().all(|f| f.is_default));
        let plain = EvalReport::new(names.iter().cloned().zip(row).collect());
        assert_eq!(r.table, plain);
    }
}
