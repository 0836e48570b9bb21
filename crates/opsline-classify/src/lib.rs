//! Fast local text classifiers for Opsline: ticket routing (topic / assignment group)
//! and chat intents, with no Python and no network at run time.
//!
//! * [`train_from_csv`] trains a [`Model`] (hashed word, subject-word and character
//!   n-grams, sublinear TF-IDF, one-vs-rest linear SVMs whose C is chosen by
//!   cross-validation on the training rows, softmax with a fitted temperature for
//!   calibrated confidences, optionally mixed with a nearest-neighbour vote);
//!   [`Model::save`] / [`Model::load`] persist it; [`train_from_csv_cached`] trains once
//!   per (file, configuration, format) and loads the stored model afterwards.
//! * [`evaluate`] trains on one CSV and reports accuracy, macro-F1, coverage at a
//!   review threshold and throughput on another; [`split_csv`] makes a
//!   deterministic held-out split.
//! * [`IntentClassifier`] classifies helpdesk chat messages into [`Intent`]s with a
//!   guard that keeps `password_reset` precise; [`evaluate_intents`] scores it on a
//!   Rasa NLU YAML file.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod cache;
mod dataset;
mod error;
mod eval;
mod features;
mod hashing;
mod intents;
mod knn;
mod linear;
mod metrics;
mod model;
mod persist;
mod select;

pub use cache::{CacheOutcome, train_from_csv_cached};
pub use dataset::{LabeledTexts, SplitSummary, read_labeled_csv, split_csv};
pub use error::{ClassifyError, Result};
pub use eval::{TicketEvalReport, evaluate, evaluate_model, evaluate_with_config};
pub use features::{FeatureConfig, SparseVec, Vectorizer};
pub use intents::{
    GuardReason, Intent, IntentClassifier, IntentEvalReport, IntentMetrics, IntentPrediction, NluExample,
    evaluate_intents, evaluate_intents_with, load_rasa_nlu, parse_rasa_nlu,
};
pub use metrics::ClassMetrics;
pub use model::{Model, ModelMeta, Prediction, TrainConfig, train, train_from_csv, train_on};
