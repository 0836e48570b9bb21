//! Choosing the SVM regularization on the training rows only.
//!
//! Every candidate `C` is scored by k-fold cross-validation accuracy over the training
//! rows (small data sets, where one held-out slice would be too noisy), or on the
//! model's validation slice (large data sets, where it already holds thousands of rows
//! and k refits would make training slow). Ties keep the earlier candidate, so the
//! candidate list is ordered by preference.

use crate::features::SparseVec;
use crate::linear::LinearModel;
use crate::model::argmax;

/// Data sets with at most this many rows are cross-validated; larger ones use the validation slice.
pub(crate) const MAX_ROWS_FOR_KFOLD: usize = 20_000;

/// The chosen regularization and the accuracy that chose it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CChoice {
    /// Inverse regularization strength.
    pub c: f32,
    /// Held-out accuracy of `c` (cross-validated or on the validation slice).
    pub accuracy: f64,
    /// Folds used (1 = the validation slice).
    pub folds: usize,
}

/// Counts correct predictions of `model` on `rows`.
fn correct_on(model: &LinearModel, xs: &[SparseVec], labels: &[u16], rows: &[usize]) -> usize {
    let mut scores = Vec::new();
    rows.iter()
        .filter(|&&row| {
            model.scores_into(&xs[row], &mut scores);
            argmax(&scores) == usize::from(labels[row])
        })
        .count()
}

/// Picks the candidate `C` with the best held-out accuracy.
///
/// `order` is every row in a shuffled order, `validation_rows` / `fit_rows` its split into
/// the validation slice and the rest; `fit(c, rows)` trains a model on `rows`.
pub(crate) fn choose_c(
    candidates: &[f32],
    folds: usize,
    xs: &[SparseVec],
    labels: &[u16],
    order: &[usize],
    (validation_rows, fit_rows): (&[usize], &[usize]),
    fit: impl Fn(f32, &[usize]) -> LinearModel,
) -> Option<CChoice> {
    let candidates: Vec<f32> = candidates
        .iter()
        .copied()
        .filter(|c| c.is_finite() && *c > 0.0)
        .collect();
    let use_kfold = folds >= 2 && order.len() <= MAX_ROWS_FOR_KFOLD && order.len() >= folds * 2;
    if candidates.len() < 2 || (!use_kfold && validation_rows.is_empty()) {
        return None;
    }
    let mut best: Option<CChoice> = None;
    for &c in &candidates {
        let (correct, total, used_folds) = if use_kfold {
            let mut correct = 0;
            for fold in 0..folds {
                let mut held = Vec::with_capacity(order.len() / folds + 1);
                let mut kept = Vec::with_capacity(order.len());
                for (position, &row) in order.iter().enumerate() {
                    if position % folds == fold {
                        held.push(row);
                    } else {
                        kept.push(row);
                    }
                }
                correct += correct_on(&fit(c, &kept), xs, labels, &held);
            }
            (correct, order.len(), folds)
        } else {
            let model = fit(c, fit_rows);
            (
                correct_on(&model, xs, labels, validation_rows),
                validation_rows.len(),
                1,
            )
        };
        let accuracy = correct as f64 / total.max(1) as f64;
        if best.is_none_or(|b| accuracy > b.accuracy) {
            best = Some(CChoice {
                c,
                accuracy,
                folds: used_folds,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linear::{SvmParams, train_one_vs_rest};

    #[test]
    fn picks_a_candidate_by_cross_validation() {
        let xs: Vec<SparseVec> = (0..40)
            .map(|i| SparseVec {
                indices: vec![(i % 2) as u32, 2],
                values: vec![0.9, 0.1],
            })
            .collect();
        let labels: Vec<u16> = (0..40).map(|i| (i % 2) as u16).collect();
        let order: Vec<usize> = (0..40).collect();
        let fit = |c: f32, rows: &[usize]| {
            let params = SvmParams {
                c,
                max_epochs: 20,
                tolerance: 0.1,
                seed: 1,
                threads: 1,
            };
            train_one_vs_rest(&xs, &labels, rows, 2, 3, None, params)
        };
        let split = order.split_at(4);
        let choice = choose_c(&[0.5, 1.0], 3, &xs, &labels, &order, split, fit).unwrap();
        assert_eq!(choice.c, 0.5, "ties keep the first candidate");
        assert_eq!(choice.folds, 3);
        assert!((choice.accuracy - 1.0).abs() < 1e-9);
        assert!(choose_c(&[0.5], 3, &xs, &labels, &order, split, fit).is_none());
    }
}
