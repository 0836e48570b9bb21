//! Accuracy with LLM refinement ([`crate::refine`]): every data set is mined as in
//! [`super::evaluate_dirs`], then templates are refined, largest first, within a budget of
//! model calls per 1,000 lines, and every line is labelled with its template's refined text
//! when the proposal was accepted (its mined text otherwise). Both tables are scored with the
//! same Loghub-2.0 metrics.
//!
//! This is the batch form of what a service does online (refine a template once it is seen,
//! within a call budget, and publish the accepted text as a template update): the choice of
//! templates here looks at final template sizes, which a service only learns over time.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::{DatasetScores, EvalError, MeanScores, correct_single_template, find_datasets, score};
use crate::refine::{Outcome, RefineStats, Refiner, TemplateModel};
use crate::{Miner, MinerConfig};

/// How refinement is run in the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RefineOptions {
    /// Model calls allowed per 1,000 lines of each data set.
    pub calls_per_1000: f64,
    /// Sample lines per template (shown to the model and checked).
    pub samples: usize,
}

impl Default for RefineOptions {
    fn default() -> Self {
        Self {
            calls_per_1000: 20.0,
            samples: crate::refine::DEFAULT_SAMPLES,
        }
    }
}

/// Scores of one data set without and with refinement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefinedScores {
    /// Without refinement.
    pub plain: DatasetScores,
    /// With refinement.
    pub refined: DatasetScores,
    /// Live templates after mining.
    pub templates: usize,
    /// Refinement counts.
    pub stats: RefineStats,
    /// Accepted refinements: (mined text, refined text, lines of the template).
    pub accepted: Vec<(String, String, usize)>,
}

/// The refinement report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefinedReport {
    /// Per data set.
    pub datasets: BTreeMap<String, RefinedScores>,
    /// Mean without refinement.
    pub plain_mean: MeanScores,
    /// Mean with refinement.
    pub refined_mean: MeanScores,
    /// Lines scored, all data sets.
    pub lines: usize,
    /// Model calls, all data sets.
    pub calls: usize,
    /// Accepted proposals, all data sets.
    pub accepted: usize,
}

/// Per line of one mined file: final template id, mined text and content (header removed).
struct Mined {
    ids: Vec<u64>,
    texts: HashMap<u64, String>,
    contents: Vec<String>,
}

fn mine(lines: &[&[u8]], config: &MinerConfig) -> Result<Mined, EvalError> {
    let mut miner = Miner::new(config.clone())?;
    let mut ids = Vec::with_capacity(lines.len());
    let mut contents = Vec::with_capacity(lines.len());
    for line in lines {
        let parsed = miner.ingest_ref(line);
        ids.push(parsed.template_id);
        contents.push(parsed.content.to_string());
    }
    // As in `mine_lines`: lines of a split template find their part; merged ids resolve.
    for (id, line) in ids.iter_mut().zip(lines) {
        if miner.split_into(*id).is_some() {
            *id = miner.ingest(line).template_id;
        }
    }
    let mut texts = HashMap::new();
    for id in &mut ids {
        if let Some(t) = miner.template(*id) {
            *id = t.id;
            texts.entry(t.id).or_insert_with(|| t.text.to_string());
        }
    }
    Ok(Mined { ids, texts, contents })
}

/// Scores `predicted` (raw template text per line) against the truth rows.
fn score_rows(truth: &[(usize, String)], predicted: &[String]) -> DatasetScores {
    let (mut t, mut p) = (Vec::new(), Vec::new());
    for (i, tpl) in truth {
        if let Some(pred) = predicted.get(*i) {
            t.push(tpl.clone());
            p.push(correct_single_template(pred));
        }
    }
    let s = score(&t, &p);
    DatasetScores {
        ga: s.ga,
        pa: s.pa,
        fga: s.fga,
        fta: s.fta,
        lines: t.len(),
    }
}

/// Evaluates every data set in `dirs` with and without refinement by `model`.
pub fn evaluate_dirs_refined<M: TemplateModel>(
    dirs: &[PathBuf],
    config: &MinerConfig,
    model: &mut M,
    options: RefineOptions,
    mut progress: impl FnMut(&str, &RefinedScores),
) -> Result<RefinedReport, EvalError> {
    let mut datasets = BTreeMap::new();
    for d in find_datasets(dirs)? {
        let loaded = d.load()?;
        let lines = loaded.raw_lines();
        let mined = mine(&lines, config)?;
        // Template sizes and their first distinct lines.
        let mut members: HashMap<u64, (usize, Vec<usize>)> = HashMap::new();
        for (i, &id) in mined.ids.iter().enumerate() {
            let (count, samples) = members.entry(id).or_default();
            *count += 1;
            let content = &mined.contents[i];
            if samples.len() < options.samples && !samples.iter().any(|&s| mined.contents[s] == *content) {
                samples.push(i);
            }
        }
        let mut order: Vec<(u64, usize)> = members.iter().map(|(&id, (count, _))| (id, *count)).collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let budget = (lines.len() as f64 * options.calls_per_1000 / 1000.0).floor() as usize;
        let mut refiner = Refiner::new(&mut *model, options.samples);
        let mut accepted = Vec::new();
        for &(id, count) in order.iter().take(budget) {
            let (Some(text), Some((_, samples))) = (mined.texts.get(&id), members.get(&id)) else {
                continue;
            };
            let samples: Vec<&str> = samples.iter().map(|&i| mined.contents[i].as_str()).collect();
            if let Outcome::Accepted(new) = refiner.refine(id, text, &samples) {
                accepted.push((text.clone(), new.clone(), count));
            }
        }
        let label = |refined: bool| -> Vec<String> {
            mined
                .ids
                .iter()
                .map(|id| match refiner.outcome(*id) {
                    Some(Outcome::Accepted(new)) if refined => new.clone(),
                    _ => mined.texts.get(id).cloned().unwrap_or_default(),
                })
                .collect()
        };
        let scores = RefinedScores {
            plain: score_rows(loaded.truth(), &label(false)),
            refined: score_rows(loaded.truth(), &label(true)),
            templates: order.len(),
            stats: refiner.stats().clone(),
            accepted,
        };
        progress(&d.name, &scores);
        datasets.insert(d.name.clone(), scores);
    }
    let lines = datasets.values().map(|s| s.refined.lines).sum();
    Ok(RefinedReport {
        plain_mean: MeanScores::of(datasets.values().map(|s| &s.plain)),
        refined_mean: MeanScores::of(datasets.values().map(|s| &s.refined)),
        calls: datasets.values().map(|s| s.stats.calls).sum(),
        accepted: datasets.values().map(|s| s.stats.accepted).sum(),
        lines,
        datasets,
    })
}

impl RefinedReport {
    /// Model calls per 1,000 lines over all data sets.
    pub fn calls_per_1000(&self) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            self.calls as f64 * 1000.0 / self.lines as f64
        }
    }

    /// The refined table (with the plain FTA and PA beside it) and the call count.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<10}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>8}  {:>8}  {:>5}  {:>8}  {:>9}",
            "dataset", "lines", "GA", "PA", "FGA", "FTA", "plain PA", "plainFTA", "calls", "accepted", "templates"
        );
        for (name, s) in &self.datasets {
            let r = &s.refined;
            let _ = writeln!(
                out,
                "{:<10}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}  {:>6.4}  {:>8.4}  {:>8.4}  {:>5}  {:>8}  {:>9}",
                name,
                r.lines,
                r.ga,
                r.pa,
                r.fga,
                r.fta,
                s.plain.pa,
                s.plain.fta,
                s.stats.calls,
                s.stats.accepted,
                s.templates
            );
        }
        let (m, p) = (&self.refined_mean, &self.plain_mean);
        let _ = writeln!(
            out,
            "{:<10}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}  {:>6.4}  {:>8.4}  {:>8.4}  {:>5}  {:>8}",
            "mean", "", m.ga, m.pa, m.fga, m.fta, p.pa, p.fta, self.calls, self.accepted
        );
        let _ = writeln!(
            out,
            "plain mean GA {:.4} PA {:.4} FGA {:.4} FTA {:.4}; model calls per 1,000 lines: {:.2}",
            p.ga,
            p.pa,
            p.fga,
            p.fta,
            self.calls_per_1000()
        );
        let mut rejected: BTreeMap<&str, usize> = BTreeMap::new();
        let mut failed = 0;
        for s in self.datasets.values() {
            for (why, n) in &s.stats.rejected {
                *rejected.entry(why).or_default() += n;
            }
            failed += s.stats.failed;
        }
        let _ = writeln!(out, "rejected: {rejected:?}; failed calls: {failed}");
        out
    }
}
