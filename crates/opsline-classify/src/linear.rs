//! Linear multi-class model and its calibration.
//!
//! Training uses one-vs-rest L2-regularized L2-loss linear SVMs solved by dual
//! coordinate descent (Hsieh et al., ICML 2008, the LIBLINEAR default solver),
//! with a seeded visiting order so results are reproducible. Scores are turned
//! into probabilities by a softmax whose temperature is fitted on held-out rows
//! (minimum negative log-likelihood).

use crate::features::SparseVec;
use crate::hashing::SplitMix64;

/// Solver settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SvmParams {
    /// Inverse regularization strength.
    pub c: f32,
    /// Upper bound on passes over the data per class.
    pub max_epochs: u32,
    /// Stop when the projected-gradient spread falls below this.
    pub tolerance: f32,
    /// Seed of the visiting order.
    pub seed: u64,
    /// Worker threads used to train classes in parallel (results do not depend on it).
    pub threads: usize,
}

/// Weights of a multi-class linear model, stored feature-major (`weights[f * n_classes + k]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LinearModel {
    pub n_features: usize,
    pub n_classes: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

impl LinearModel {
    /// Computes one score per class into `out`.
    pub(crate) fn scores_into(&self, x: &SparseVec, out: &mut Vec<f32>) {
        out.clear();
        out.extend_from_slice(&self.bias);
        let k = self.n_classes;
        for (&index, &value) in x.indices.iter().zip(&x.values) {
            let start = index as usize * k;
            let Some(row) = self.weights.get(start..start + k) else {
                continue;
            };
            for (score, weight) in out.iter_mut().zip(row) {
                *score += weight * value;
            }
        }
    }
}

/// Trains one binary SVM (targets are +1 / -1) on the rows `rows` of `xs`.
fn train_binary(
    xs: &[SparseVec],
    rows: &[usize],
    positive: &[bool],
    n_features: usize,
    scale: Option<&[f32]>,
    params: SvmParams,
) -> (Vec<f32>, f32) {
    let scaled = |index: u32, value: f32| match scale {
        Some(factors) => value * factors.get(index as usize).copied().unwrap_or(1.0),
        None => value,
    };
    let mut weights = vec![0.0f32; n_features];
    let mut bias = 0.0f32;
    let diag = 0.5 / params.c.max(1e-6);
    let mut alpha = vec![0.0f32; rows.len()];
    let q_diag: Vec<f32> = rows
        .iter()
        .map(|&row| {
            let x = &xs[row];
            let norm: f32 = x
                .indices
                .iter()
                .zip(&x.values)
                .map(|(&i, &v)| scaled(i, v).powi(2))
                .sum();
            norm + 1.0 + diag
        })
        .collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = SplitMix64::new(params.seed);
    for _ in 0..params.max_epochs.max(1) {
        rng.shuffle(&mut order);
        let mut max_pg = f32::NEG_INFINITY;
        let mut min_pg = f32::INFINITY;
        for &slot in &order {
            let x = &xs[rows[slot]];
            let y = if positive[slot] { 1.0 } else { -1.0 };
            let mut margin = bias;
            for (&index, &value) in x.indices.iter().zip(&x.values) {
                margin += weights[index as usize] * scaled(index, value);
            }
            let gradient = y * margin - 1.0 + diag * alpha[slot];
            let projected = if alpha[slot] == 0.0 {
                gradient.min(0.0)
            } else {
                gradient
            };
            max_pg = max_pg.max(projected);
            min_pg = min_pg.min(projected);
            if projected.abs() > 1e-12 {
                let old = alpha[slot];
                alpha[slot] = (old - gradient / q_diag[slot]).max(0.0);
                let step = (alpha[slot] - old) * y;
                for (&index, &value) in x.indices.iter().zip(&x.values) {
                    weights[index as usize] += step * scaled(index, value);
                }
                bias += step;
            }
        }
        if max_pg - min_pg <= params.tolerance {
            break;
        }
    }
    // Fold the feature scaling into the weights so scoring needs no scale vector.
    if let Some(factors) = scale {
        for (weight, factor) in weights.iter_mut().zip(factors) {
            *weight *= factor;
        }
    }
    (weights, bias)
}

/// Trains a one-vs-rest model on `rows` of `xs` with class ids `labels[row]`.
pub(crate) fn train_one_vs_rest(
    xs: &[SparseVec],
    labels: &[u16],
    rows: &[usize],
    n_classes: usize,
    n_features: usize,
    class_scales: Option<&[Vec<f32>]>,
    params: SvmParams,
) -> LinearModel {
    let classes: Vec<usize> = (0..n_classes).collect();
    let threads = params.threads.clamp(1, n_classes.max(1));
    let chunk = n_classes.div_ceil(threads).max(1);
    let train_class = |class: usize| {
        let positive: Vec<bool> = rows.iter().map(|&row| usize::from(labels[row]) == class).collect();
        let class_params = SvmParams {
            seed: params.seed ^ (class as u64).wrapping_mul(0x9e37_79b9),
            ..params
        };
        let scale = class_scales.and_then(|scales| scales.get(class)).map(Vec::as_slice);
        train_binary(xs, rows, &positive, n_features, scale, class_params)
    };
    let per_class: Vec<(Vec<f32>, f32)> = if threads == 1 {
        classes.iter().map(|&class| train_class(class)).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = classes
                .chunks(chunk)
                .map(|group| {
                    let train_class = &train_class;
                    scope.spawn(move || group.iter().map(|&c| train_class(c)).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| handle.join().unwrap_or_default())
                .collect()
        })
    };
    let mut weights = vec![0.0f32; n_features * n_classes];
    let mut bias = vec![0.0f32; n_classes];
    for (class, (class_weights, class_bias)) in per_class.into_iter().enumerate() {
        bias[class] = class_bias;
        for (feature, weight) in class_weights.into_iter().enumerate() {
            weights[feature * n_classes + class] = weight;
        }
    }
    LinearModel {
        n_features,
        n_classes,
        weights,
        bias,
    }
}

/// Naive-Bayes log-count ratios per class (Wang & Manning 2012, "NBSVM"), computed on
/// binarized features of `rows`: `r_k = ln((a + p_k) / |a + p_k|_1) - ln((a + q_k) / |a + q_k|_1)`
/// where `p_k` counts documents of class k containing a feature and `q_k` the others.
pub(crate) fn nb_log_count_ratios(
    xs: &[SparseVec],
    labels: &[u16],
    rows: &[usize],
    n_classes: usize,
    n_features: usize,
) -> Vec<Vec<f32>> {
    let alpha = 1.0f32;
    let mut per_class = vec![vec![0.0f32; n_features]; n_classes];
    let mut total = vec![0.0f32; n_features];
    for &row in rows {
        let class = usize::from(labels[row]);
        for &index in &xs[row].indices {
            let index = index as usize;
            if let (Some(count), Some(all)) = (
                per_class.get_mut(class).and_then(|c| c.get_mut(index)),
                total.get_mut(index),
            ) {
                *count += 1.0;
                *all += 1.0;
            }
        }
    }
    per_class
        .into_iter()
        .map(|counts| {
            let p_norm: f32 = counts.iter().map(|c| c + alpha).sum();
            let q_norm: f32 = counts.iter().zip(&total).map(|(c, t)| t - c + alpha).sum();
            counts
                .iter()
                .zip(&total)
                .map(|(c, t)| ((c + alpha) / p_norm).ln() - ((t - c + alpha) / q_norm).ln())
                .collect()
        })
        .collect()
}

/// Softmax of `scores / temperature` into `out` (same length).
pub(crate) fn softmax(scores: &[f32], temperature: f32, out: &mut Vec<f32>) {
    out.clear();
    let t = temperature.max(1e-4);
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    out.extend(scores.iter().map(|&s| ((s - max) / t).exp()));
    let sum: f32 = out.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        for p in out.iter_mut() {
            *p /= sum;
        }
    }
}

/// Mean negative log-likelihood of the true classes under softmax(scores / t).
fn mean_nll(scores: &[Vec<f32>], labels: &[u16], temperature: f32) -> f64 {
    let mut total = 0.0f64;
    let mut probabilities = Vec::new();
    for (row, &label) in scores.iter().zip(labels) {
        softmax(row, temperature, &mut probabilities);
        let p = probabilities.get(usize::from(label)).copied().unwrap_or(0.0);
        total -= f64::from(p.max(1e-9)).ln();
    }
    total / scores.len().max(1) as f64
}

/// Fits the softmax temperature minimizing NLL on held-out `scores` (golden-section search on ln t).
pub(crate) fn fit_temperature(scores: &[Vec<f32>], labels: &[u16]) -> f32 {
    if scores.is_empty() {
        return 1.0;
    }
    let golden = 0.618_034f64;
    let (mut low, mut high) = ((0.005f64).ln(), (20.0f64).ln());
    let objective = |log_t: f64| mean_nll(scores, labels, log_t.exp() as f32);
    let mut a = high - golden * (high - low);
    let mut b = low + golden * (high - low);
    let (mut fa, mut fb) = (objective(a), objective(b));
    for _ in 0..40 {
        if fa < fb {
            high = b;
            b = a;
            fb = fa;
            a = high - golden * (high - low);
            fa = objective(a);
        } else {
            low = a;
            a = b;
            fa = fb;
            b = low + golden * (high - low);
            fb = objective(b);
        }
    }
    (((low + high) / 2.0).exp()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vec_of(pairs: &[(u32, f32)]) -> SparseVec {
        SparseVec {
            indices: pairs.iter().map(|p| p.0).collect(),
            values: pairs.iter().map(|p| p.1).collect(),
        }
    }

    #[test]
    fn separable_problem_is_learned() {
        let xs = vec![
            vec_of(&[(0, 1.0)]),
            vec_of(&[(0, 0.9), (2, 0.1)]),
            vec_of(&[(1, 1.0)]),
            vec_of(&[(1, 0.8), (2, 0.2)]),
        ];
        let labels = [0u16, 0, 1, 1];
        let params = SvmParams {
            c: 1.0,
            max_epochs: 50,
            tolerance: 0.01,
            seed: 1,
            threads: 2,
        };
        let model = train_one_vs_rest(&xs, &labels, &[0, 1, 2, 3], 2, 3, None, params);
        let mut scores = Vec::new();
        model.scores_into(&vec_of(&[(0, 1.0)]), &mut scores);
        assert!(scores[0] > scores[1]);
        model.scores_into(&vec_of(&[(1, 1.0)]), &mut scores);
        assert!(scores[1] > scores[0]);
        let single = train_one_vs_rest(
            &xs,
            &labels,
            &[0, 1, 2, 3],
            2,
            3,
            None,
            SvmParams { threads: 1, ..params },
        );
        assert_eq!(single, model);
    }

    #[test]
    fn temperature_sharpens_confident_scores() {
        let scores = vec![vec![1.0, -1.0], vec![-1.0, 1.0], vec![0.9, -0.8]];
        let labels = [0u16, 1, 0];
        let t = fit_temperature(&scores, &labels);
        assert!(t < 1.0, "{t}");
        let mut p = Vec::new();
        softmax(&[2.0, 1.0, f32::NEG_INFINITY], 1.0, &mut p);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
