//! A cache of trained models: a model trained from a CSV file is written once under a name
//! derived from what determines it (the file's bytes, the [`TrainConfig`], the model format and
//! this crate's version) and loaded from there afterwards, so a restart of `opsline up` does not
//! train again. A corrupt or unreadable cache entry is retrained and rewritten, never trusted.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{ClassifyError, Result};
use crate::model::{Model, TrainConfig, train_from_csv};

/// Where a cached model came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The model was loaded from this cache file; nothing was trained.
    Loaded(PathBuf),
    /// The model was trained and written to this cache file.
    Trained(PathBuf),
    /// The model was trained but could not be written (the reason); the next start trains again.
    TrainedNotSaved(String),
}

/// Loads the model trained from `csv` with `config` from `cache_dir`, or trains it and stores it there.
pub fn train_from_csv_cached(csv: &Path, config: &TrainConfig, cache_dir: &Path) -> Result<(Model, CacheOutcome)> {
    let entry = cache_dir.join(format!("tickets-{}.model", cache_key(csv, config)?));
    if entry.is_file()
        && let Ok(model) = Model::load(&entry)
    {
        return Ok((model, CacheOutcome::Loaded(entry)));
    }
    let model = train_from_csv(csv, config)?;
    let outcome = match std::fs::create_dir_all(cache_dir)
        .map_err(|e| ClassifyError::io(cache_dir, e))
        .and_then(|()| model.save(&entry))
    {
        Ok(()) => CacheOutcome::Trained(entry),
        Err(error) => CacheOutcome::TrainedNotSaved(error.to_string()),
    };
    Ok((model, outcome))
}

/// The first 16 bytes (hex) of sha256 over the training file, the configuration and the versions.
fn cache_key(csv: &Path, config: &TrainConfig) -> Result<String> {
    let bytes = std::fs::read(csv).map_err(|e| ClassifyError::io(csv, e))?;
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(crate::persist::MAGIC);
    hasher.update(serde_json::to_vec(config)?);
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(&bytes);
    let digest = hasher.finalize();
    Ok(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_csv(dir: &Path, extra: &str) -> PathBuf {
        let path = dir.join("history.csv");
        let mut body = String::from("text,queue\n");
        for i in 0..30 {
            body.push_str(&format!(
                "vpn tunnel down {i},network\nprinter paper jam {i},hardware\n"
            ));
        }
        body.push_str(extra);
        std::fs::write(&path, body).unwrap();
        path
    }

    #[test]
    fn second_call_loads_and_a_changed_file_or_config_trains_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let csv = write_csv(dir.path(), "");
        let config = TrainConfig {
            text_cols: vec!["text".into()],
            label_col: "queue".into(),
            ..TrainConfig::default()
        };
        let (first, outcome) = train_from_csv_cached(&csv, &config, &cache).unwrap();
        let CacheOutcome::Trained(entry) = outcome else {
            panic!("expected Trained, got {outcome:?}")
        };
        let (second, outcome) = train_from_csv_cached(&csv, &config, &cache).unwrap();
        assert_eq!(outcome, CacheOutcome::Loaded(entry.clone()));
        assert_eq!(first.predict("vpn down").label, second.predict("vpn down").label);

        // A corrupt entry is retrained, not trusted.
        std::fs::write(&entry, b"garbage").unwrap();
        let (_, outcome) = train_from_csv_cached(&csv, &config, &cache).unwrap();
        assert_eq!(outcome, CacheOutcome::Trained(entry.clone()));

        // Another file or another configuration is another entry.
        let changed = write_csv(dir.path(), "disk full,storage\n");
        let (_, outcome) = train_from_csv_cached(&changed, &config, &cache).unwrap();
        assert!(matches!(outcome, CacheOutcome::Trained(ref other) if other != &entry));
        let other_config = TrainConfig {
            c: 2.0,
            ..config.clone()
        };
        let (_, outcome) = train_from_csv_cached(&changed, &other_config, &cache).unwrap();
        assert!(matches!(outcome, CacheOutcome::Trained(_)));
    }
}
