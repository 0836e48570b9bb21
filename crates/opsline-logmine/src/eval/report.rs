//! Score tables: per data set and mean, rendered as aligned text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

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

impl MeanScores {
    /// The unweighted mean of the given scores (all zero for none).
    pub fn of<'a>(scores: impl IntoIterator<Item = &'a DatasetScores>) -> Self {
        let mut sum = Self {
            ga: 0.0,
            pa: 0.0,
            fga: 0.0,
            fta: 0.0,
        };
        let mut n = 0usize;
        for s in scores {
            sum.ga += s.ga;
            sum.pa += s.pa;
            sum.fga += s.fga;
            sum.fta += s.fta;
            n += 1;
        }
        if n > 0 {
            let n = n as f64;
            sum.ga /= n;
            sum.pa /= n;
            sum.fga /= n;
            sum.fta /= n;
        }
        sum
    }
}

impl EvalReport {
    /// A report with the mean of the given per-data-set scores.
    pub fn new(datasets: BTreeMap<String, DatasetScores>) -> Self {
        let mean = MeanScores::of(datasets.values());
        Self { datasets, mean }
    }

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
