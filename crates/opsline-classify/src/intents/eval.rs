//! Evaluation of the intent classifier on a Rasa NLU file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Intent, IntentClassifier, load_rasa_nlu};
use crate::error::{ClassifyError, Result};
use crate::metrics::score;

/// Precision, recall and support of one intent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntentMetrics {
    /// Correct / predicted (0 when never predicted).
    pub precision: f64,
    /// Correct / gold.
    pub recall: f64,
    /// Gold examples.
    pub support: usize,
}

/// Results of evaluating the intent classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentEvalReport {
    /// Share of examples classified correctly.
    pub accuracy: f64,
    /// Metrics for every intent (all six, even with no support).
    pub per_intent: BTreeMap<String, IntentMetrics>,
    /// `confusion[gold][predicted]` counts (every intent on both axes).
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Examples evaluated.
    pub examples: usize,
    /// Examples whose intent the safety guard changed.
    pub guard_overrides: usize,
    /// Gold examples misclassified (text, gold, predicted), for error analysis.
    pub errors: Vec<(String, String, String)>,
}

/// Evaluates the built-in classifier on a Rasa NLU YAML file.
pub fn evaluate_intents(path: impl AsRef<Path>) -> Result<IntentEvalReport> {
    evaluate_intents_with(&IntentClassifier::builtin()?, path)
}

/// Evaluates `classifier` on a Rasa NLU YAML file (names outside the list count as `other`).
pub fn evaluate_intents_with(classifier: &IntentClassifier, path: impl AsRef<Path>) -> Result<IntentEvalReport> {
    let examples = load_rasa_nlu(path)?;
    if examples.is_empty() {
        return Err(ClassifyError::NotEnoughData(
            "the evaluation file has no examples".into(),
        ));
    }
    let mut pairs = Vec::with_capacity(examples.len());
    let mut guard_overrides = 0;
    let mut errors = Vec::new();
    for example in &examples {
        let gold = Intent::from_name(&example.intent);
        let prediction = classifier.classify(&example.text);
        guard_overrides += usize::from(prediction.guard.is_some());
        if prediction.intent != gold {
            errors.push((
                example.text.clone(),
                gold.as_str().to_string(),
                prediction.intent.as_str().to_string(),
            ));
        }
        pairs.push((gold.as_str(), prediction.intent.as_str()));
    }
    let scores = score(pairs.iter().copied());
    let mut per_intent = BTreeMap::new();
    let mut confusion = BTreeMap::new();
    for gold in Intent::ALL {
        let metrics = scores.per_class.get(gold.as_str());
        per_intent.insert(
            gold.as_str().to_string(),
            IntentMetrics {
                precision: metrics.map_or(0.0, |m| m.precision),
                recall: metrics.map_or(0.0, |m| m.recall),
                support: metrics.map_or(0, |m| m.support),
            },
        );
        let row: BTreeMap<String, usize> = Intent::ALL
            .iter()
            .map(|predicted| {
                let count = scores
                    .confusion
                    .get(gold.as_str())
                    .and_then(|r| r.get(predicted.as_str()))
                    .copied()
                    .unwrap_or(0);
                (predicted.as_str().to_string(), count)
            })
            .collect();
        confusion.insert(gold.as_str().to_string(), row);
    }
    Ok(IntentEvalReport {
        accuracy: scores.accuracy,
        per_intent,
        confusion,
        examples: examples.len(),
        guard_overrides,
        errors,
    })
}

impl IntentEvalReport {
    /// Human-readable report: accuracy, per-intent metrics and the confusion matrix.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "examples {} | accuracy {:.4} | guard overrides {}",
            self.examples, self.accuracy, self.guard_overrides
        );
        let _ = writeln!(out, "{:15}  precision  recall  support", "intent");
        for intent in Intent::ALL {
            if let Some(m) = self.per_intent.get(intent.as_str()) {
                let _ = writeln!(
                    out,
                    "{:15}  {:9.3}  {:6.3}  {:7}",
                    intent.as_str(),
                    m.precision,
                    m.recall,
                    m.support
                );
            }
        }
        let short = ["reset", "t_stat", "s_stat", "open", "human", "other"];
        let _ = write!(out, "confusion (rows gold, columns predicted)\n{:15}", "");
        for name in short {
            let _ = write!(out, " {name:>6}");
        }
        let _ = writeln!(out);
        for gold in Intent::ALL {
            let _ = write!(out, "{:15}", gold.as_str());
            for predicted in Intent::ALL {
                let count = self
                    .confusion
                    .get(gold.as_str())
                    .and_then(|row| row.get(predicted.as_str()))
                    .copied()
                    .unwrap_or(0);
                let _ = write!(out, " {count:>6}");
            }
            let _ = writeln!(out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_a_small_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eval.yml");
        std::fs::write(
            &path,
            "nlu:\n- intent: password_reset\n  examples: |\n    - i forgot my password\n- intent: greet\n  examples: |\n    - hello there\n",
        )
        .unwrap();
        let report = evaluate_intents(&path).unwrap();
        assert_eq!(report.examples, 2);
        assert_eq!(report.per_intent.len(), 6);
        assert_eq!(report.per_intent["other"].support, 1);
        assert!(report.render_text().contains("confusion"));
        let json = serde_json::to_value(&report).unwrap();
        assert!(json["per_intent"]["password_reset"]["precision"].is_number());
        assert!(json["confusion"]["other"].is_object());
    }

    fn eval_set_path() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/intents.yml")
    }

    fn normalized(text: &str) -> String {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn eval_set_is_large_and_disjoint_from_training_set() {
        let eval = load_rasa_nlu(eval_set_path()).unwrap();
        assert!(eval.len() >= 200, "{}", eval.len());
        let training = crate::intents::parse_rasa_nlu(crate::intents::BUILTIN_TRAINING_SET, "builtin").unwrap();
        let seen: std::collections::HashSet<String> = training.iter().map(|e| normalized(&e.text)).collect();
        let shared: Vec<&str> = eval
            .iter()
            .filter(|e| seen.contains(&normalized(&e.text)))
            .map(|e| e.text.as_str())
            .collect();
        assert!(shared.is_empty(), "{shared:?}");
    }

    #[test]
    fn password_reset_stays_precise_on_eval_set() {
        // Safety regression test: a false password reset is a security problem.
        let report = evaluate_intents(eval_set_path()).unwrap();
        let reset = report.per_intent["password_reset"];
        assert!(reset.precision >= 0.98, "{}", report.render_text());
    }
}
