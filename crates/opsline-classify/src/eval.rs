//! Ticket classifier evaluation: train on one CSV, measure on another.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::dataset::read_labeled_csv;
use crate::error::{ClassifyError, Result};
use crate::metrics::{ClassMetrics, score};
use crate::model::{Model, TrainConfig, train};

/// Results of a train/test evaluation of the ticket classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketEvalReport {
    /// Share of test tickets whose predicted label is right.
    pub accuracy: f64,
    /// Unweighted mean F1 over the classes seen in gold or predicted labels.
    pub macro_f1: f64,
    /// Share of test tickets with confidence >= `threshold` (routed without human review).
    pub coverage: f64,
    /// Accuracy on the auto-routed tickets only (0 when none).
    pub auto_accuracy: f64,
    /// The human-review threshold used for `coverage` and `auto_accuracy`.
    pub threshold: f32,
    /// Classification throughput on one thread (featurization included, training excluded).
    pub tickets_per_s: f64,
    /// Per-class precision, recall, F1, support.
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// Rows used for training.
    pub train_rows: usize,
    /// Rows evaluated.
    pub test_rows: usize,
    /// Training wall-clock time in seconds.
    pub train_seconds: f64,
    /// Accuracy on the model's internal validation slice.
    pub validation_accuracy: Option<f64>,
    /// Softmax temperature the model fitted.
    pub temperature: f32,
    /// Features kept by the model.
    pub n_features: usize,
    /// Size of the saved model in bytes.
    pub model_bytes: usize,
    /// Expected calibration error over 10 confidence bins (lower is better calibrated).
    pub expected_calibration_error: f64,
    /// SVM regularization the model chose by cross-validation on its training rows.
    #[serde(default)]
    pub c: f32,
    /// Neighbours in the nearest-neighbour vote the model chose (0 = none).
    #[serde(default)]
    pub knn_k: usize,
    /// Weight of the nearest-neighbour vote the model chose on its validation slice.
    #[serde(default)]
    pub knn_weight: f32,
    /// Validation accuracy of the linear model alone.
    #[serde(default)]
    pub validation_linear_accuracy: Option<f64>,
}

/// Trains with the default [`TrainConfig`] on `train_csv` and evaluates on `test_csv`.
pub fn evaluate(
    train_csv: impl AsRef<Path>,
    test_csv: impl AsRef<Path>,
    text_cols: &[String],
    label_col: &str,
    threshold: f32,
) -> Result<TicketEvalReport> {
    let config = TrainConfig {
        text_cols: text_cols.to_vec(),
        label_col: label_col.to_string(),
        ..TrainConfig::default()
    };
    evaluate_with_config(train_csv, test_csv, &config, threshold)
}

/// Like [`evaluate`] with an explicit configuration (columns are taken from `config`).
pub fn evaluate_with_config(
    train_csv: impl AsRef<Path>,
    test_csv: impl AsRef<Path>,
    config: &TrainConfig,
    threshold: f32,
) -> Result<TicketEvalReport> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ClassifyError::InvalidArgument(format!(
            "threshold must be in [0, 1], got {threshold}"
        )));
    }
    let train_data = read_labeled_csv(train_csv, &config.text_cols, &config.label_col)?;
    let config = TrainConfig {
        text_cols: train_data.text_cols.clone(),
        label_col: train_data.label_col.clone(),
        ..config.clone()
    };
    let model = train(&train_data.texts, &train_data.labels, &config)?;
    let test_data = read_labeled_csv(test_csv, &config.text_cols, &config.label_col)?;
    evaluate_model(
        &model,
        &test_data.texts,
        &test_data.labels,
        threshold,
        train_data.texts.len(),
    )
}

/// Evaluates an already trained model on texts and gold labels.
pub fn evaluate_model<S: AsRef<str>>(
    model: &Model,
    texts: &[S],
    labels: &[S],
    threshold: f32,
    train_rows: usize,
) -> Result<TicketEvalReport> {
    if texts.is_empty() || texts.len() != labels.len() {
        return Err(ClassifyError::InvalidArgument(
            "test set is empty or texts and labels differ in length".into(),
        ));
    }
    let started = Instant::now();
    let predictions: Vec<_> = texts.iter().map(|t| model.predict(t.as_ref())).collect();
    let elapsed = started.elapsed().as_secs_f64();
    let scores = score(
        labels
            .iter()
            .zip(&predictions)
            .map(|(gold, p)| (gold.as_ref(), p.label.as_str())),
    );
    let mut auto = 0usize;
    let mut auto_correct = 0usize;
    let mut bins = [(0usize, 0.0f64, 0usize); 10];
    for (gold, prediction) in labels.iter().zip(&predictions) {
        let correct = gold.as_ref() == prediction.label;
        if prediction.confidence >= threshold {
            auto += 1;
            auto_correct += usize::from(correct);
        }
        let bin = ((prediction.confidence * 10.0) as usize).min(9);
        bins[bin].0 += 1;
        bins[bin].1 += f64::from(prediction.confidence);
        bins[bin].2 += usize::from(correct);
    }
    let n = texts.len() as f64;
    let expected_calibration_error = bins
        .iter()
        .filter(|bin| bin.0 > 0)
        .map(|&(count, confidence_sum, correct)| {
            (confidence_sum / count as f64 - correct as f64 / count as f64).abs() * count as f64 / n
        })
        .sum();
    Ok(TicketEvalReport {
        accuracy: scores.accuracy,
        macro_f1: scores.macro_f1,
        coverage: auto as f64 / n,
        auto_accuracy: if auto == 0 {
            0.0
        } else {
            auto_correct as f64 / auto as f64
        },
        threshold,
        tickets_per_s: n / elapsed.max(1e-9),
        per_class: scores.per_class,
        train_rows,
        test_rows: texts.len(),
        train_seconds: model.meta().train_seconds,
        validation_accuracy: model.meta().validation_accuracy,
        temperature: model.meta().temperature,
        n_features: model.meta().n_features,
        model_bytes: model.to_bytes()?.len(),
        expected_calibration_error,
        c: model.meta().c,
        knn_k: model.meta().knn_k,
        knn_weight: model.meta().knn_weight,
        validation_linear_accuracy: model.meta().validation_linear_accuracy,
    })
}

impl TicketEvalReport {
    /// Human-readable summary with a per-class table.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "train rows {} | test rows {} | features {} | model {:.1} MiB | train {:.1}s | temperature {:.3}",
            self.train_rows,
            self.test_rows,
            self.n_features,
            self.model_bytes as f64 / 1_048_576.0,
            self.train_seconds,
            self.temperature
        );
        let _ = writeln!(
            out,
            "accuracy {:.4} | macro-F1 {:.4} | validation accuracy {} | ECE {:.4}",
            self.accuracy,
            self.macro_f1,
            self.validation_accuracy
                .map_or("n/a".to_string(), |v| format!("{v:.4}")),
            self.expected_calibration_error
        );
        let _ = writeln!(
            out,
            "chosen C {} | linear validation accuracy {} | neighbour vote k {} weight {:.2}",
            self.c,
            self.validation_linear_accuracy
                .map_or("n/a".to_string(), |v| format!("{v:.4}")),
            self.knn_k,
            self.knn_weight
        );
        let _ = writeln!(
            out,
            "threshold {:.2}: coverage {:.4}, auto-routed accuracy {:.4}",
            self.threshold, self.coverage, self.auto_accuracy
        );
        let _ = writeln!(out, "throughput {:.0} tickets/s (one thread)", self.tickets_per_s);
        let width = self.per_class.keys().map(|k| k.len()).max().unwrap_or(5).max(5);
        let _ = writeln!(out, "{:width$}  precision  recall     f1  support", "class");
        for (class, m) in &self.per_class {
            let _ = writeln!(
                out,
                "{class:width$}  {:9.3}  {:6.3}  {:5.3}  {:7}",
                m.precision, m.recall, m.f1, m.support
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_on_small_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut body = String::from("Document,Topic_group\n");
        for i in 0..40 {
            body.push_str(&format!("printer toner jam {i},Hardware\n"));
            body.push_str(&format!("grant access folder {i},Access\n"));
        }
        std::fs::write(&path, body).unwrap();
        let report = evaluate(&path, &path, &["Document".into()], "Topic_group", 0.5).unwrap();
        assert!(report.accuracy > 0.9, "{}", report.render_text());
        assert_eq!(report.test_rows, 80);
        let json = serde_json::to_value(&report).unwrap();
        for key in [
            "accuracy",
            "macro_f1",
            "coverage",
            "auto_accuracy",
            "tickets_per_s",
            "per_class",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert!(report.render_text().contains("Hardware"));
        assert!(evaluate(&path, &path, &[], "", 1.5).is_err());
    }
}
