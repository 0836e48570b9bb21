//! Loghub-2.0 accuracy metrics over per-line template labels: GA and FGA
//! (`logparser/utils/evaluator.py`), PA (`PA_calculator.py`) and FTA (`template_level_analysis.py`).

use std::collections::HashMap;

/// The four scores for one data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Grouping accuracy: share of lines whose ground-truth group is predicted exactly.
    pub ga: f64,
    /// Parsing accuracy: share of lines whose predicted template equals the ground truth.
    pub pa: f64,
    /// F1 over groups (a group is correct when it matches a ground-truth group exactly).
    pub fga: f64,
    /// F1 over templates (a predicted group is correct when its lines all have one ground-truth
    /// template and it equals the predicted template).
    pub fta: f64,
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
}

/// Computes the scores; `truth[i]` and `predicted[i]` are the templates of line `i`.
/// Lines with an empty ground truth are skipped, as Loghub-2.0 drops null templates.
pub fn score(truth: &[String], predicted: &[String]) -> Scores {
    let pairs: Vec<(&str, &str)> = truth
        .iter()
        .zip(predicted.iter())
        .filter(|(t, _)| !t.is_empty())
        .map(|(t, p)| (t.as_str(), p.as_str()))
        .collect();
    let n = pairs.len();
    if n == 0 {
        return Scores {
            ga: 0.0,
            pa: 0.0,
            fga: 0.0,
            fta: 0.0,
        };
    }
    let mut pred_sizes: HashMap<&str, usize> = HashMap::new();
    let mut by_truth: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut by_pred: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut pa_hits = 0usize;
    for &(t, p) in &pairs {
        *pred_sizes.entry(p).or_default() += 1;
        by_truth.entry(t).or_default().push(p);
        by_pred.entry(p).or_default().push(t);
        if t == p {
            pa_hits += 1;
        }
    }
    let mut accurate_events = 0usize;
    let mut accurate_groups = 0usize;
    for preds in by_truth.values() {
        let first = preds[0];
        if preds.iter().all(|p| *p == first) && pred_sizes.get(first) == Some(&preds.len()) {
            accurate_events += preds.len();
            accurate_groups += 1;
        }
    }
    let mut correct_templates = 0usize;
    for (p, truths) in &by_pred {
        if truths.iter().all(|t| t == p) {
            correct_templates += 1;
        }
    }
    let (np, nt) = (by_pred.len() as f64, by_truth.len() as f64);
    Scores {
        ga: accurate_events as f64 / n as f64,
        pa: pa_hits as f64 / n as f64,
        fga: f1(accurate_groups as f64 / np, accurate_groups as f64 / nt),
        fta: f1(correct_templates as f64 / np, correct_templates as f64 / nt),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn perfect_parse_scores_one() {
        let t = s(&["a <*>", "a <*>", "b"]);
        let r = score(&t, &t);
        assert_eq!((r.ga, r.pa, r.fga, r.fta), (1.0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn over_merged_groups_lose_accuracy() {
        let t = s(&["a <*>", "a <*>", "b"]);
        let p = s(&["<*>", "<*>", "<*>"]);
        let r = score(&t, &p);
        assert_eq!(r.ga, 0.0);
        assert_eq!(r.pa, 0.0);
        assert_eq!(r.fga, 0.0);
    }

    #[test]
    fn correct_groups_with_wrong_text_count_for_ga_only() {
        let t = s(&["a <*>", "a <*>", "b"]);
        let p = s(&["a x", "a x", "b"]);
        let r = score(&t, &p);
        assert_eq!(r.ga, 1.0);
        assert!((r.pa - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(r.fga, 1.0);
        assert!((r.fta - 0.5).abs() < 1e-9);
    }
}
