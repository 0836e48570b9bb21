//! Classification metrics shared by ticket and intent evaluation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Correct predictions of the class / all predictions of the class (0 when never predicted).
    pub precision: f64,
    /// Correct predictions of the class / gold rows of the class.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Gold rows of the class.
    pub support: usize,
    /// Rows predicted as the class.
    pub predicted: usize,
}

/// Accuracy, macro-F1 and per-class metrics of a set of predictions.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Scores {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// `confusion[gold][predicted]` counts.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Computes metrics over `(gold, predicted)` pairs; classes are the union of both sides
/// (as scikit-learn does for macro averages).
pub(crate) fn score<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Scores {
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut support: BTreeMap<&str, usize> = BTreeMap::new();
    let mut predicted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut correct: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0usize;
    let mut total_correct = 0usize;
    for (gold, guess) in pairs {
        total += 1;
        *support.entry(gold).or_default() += 1;
        *predicted.entry(guess).or_default() += 1;
        *confusion
            .entry(gold.to_string())
            .or_default()
            .entry(guess.to_string())
            .or_default() += 1;
        if gold == guess {
            total_correct += 1;
            *correct.entry(gold).or_default() += 1;
        }
    }
    let mut per_class = BTreeMap::new();
    for &class in support.keys().chain(predicted.keys()) {
        let hits = correct.get(class).copied().unwrap_or(0);
        let gold = support.get(class).copied().unwrap_or(0);
        let guessed = predicted.get(class).copied().unwrap_or(0);
        let precision = ratio(hits, guessed);
        let recall = ratio(hits, gold);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        per_class.insert(
            class.to_string(),
            ClassMetrics {
                precision,
                recall,
                f1,
                support: gold,
                predicted: guessed,
            },
        );
    }
    let macro_f1 = if per_class.is_empty() {
        0.0
    } else {
        per_class.values().map(|m| m.f1).sum::<f64>() / per_class.len() as f64
    };
    Scores {
        accuracy: ratio(total_correct, total),
        macro_f1,
        per_class,
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_metrics() {
        let scores = score([("a", "a"), ("a", "b"), ("b", "b"), ("c", "b")]);
        assert!((scores.accuracy - 0.5).abs() < 1e-9);
        let b = scores.per_class["b"];
        assert_eq!(b.support, 1);
        assert_eq!(b.predicted, 3);
        assert!((b.precision - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(scores.per_class["c"].f1, 0.0);
        assert_eq!(scores.confusion["a"]["b"], 1);
        assert!(score([]).per_class.is_empty());
    }
}
