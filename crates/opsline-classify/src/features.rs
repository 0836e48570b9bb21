//! Text featurization: word n-grams and character n-grams, hashed into a fixed
//! space, then pruned by document frequency, weighted by (sublinear) TF-IDF and
//! L2-normalized per block (words, characters).
//!
//! Hashing keeps featurization allocation-light and the model file free of
//! strings; the fitted [`Vectorizer`] keeps only the buckets seen in at least
//! `min_df` training documents, so the weight matrix stays compact.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{ClassifyError, Result};
use crate::hashing::{PremixedBuildHasher, combine, finalize, fnv_start, fnv_step, hash_bytes};

const WORD_SEED: u64 = 0x5157_4f52_4453;
const CHAR_SEED: u64 = 0x4348_4152_5331;
const HEAD_SEED: u64 = 0x4845_4144_5331;
const WORD_BLOCK: u32 = 0;
const CHAR_BLOCK: u32 = 1;

/// How text is turned into features. One default serves every data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    /// Longest word n-gram (0 disables word features, 2 = unigrams and bigrams).
    pub word_ngram_max: u8,
    /// Shortest character n-gram (inside word boundaries, words padded with spaces).
    pub char_ngram_min: u8,
    /// Longest character n-gram (0 disables character features).
    pub char_ngram_max: u8,
    /// Words longer than this many characters contribute only their first characters to n-grams.
    pub max_word_chars: usize,
    /// Each block (words, characters) hashes into `2^hash_bits` buckets.
    pub hash_bits: u8,
    /// A bucket is kept only if it occurs in at least this many training documents.
    pub min_df: u32,
    /// At most this many buckets are kept (the most frequent in documents).
    pub max_features: usize,
    /// Use `1 + ln(tf)` instead of raw term counts.
    pub sublinear_tf: bool,
    /// Weight of the character block relative to the word block (both are L2-normalized first).
    pub char_weight: f32,
    /// Replace every ASCII digit by `0` (ticket numbers, dates and sizes become shapes).
    pub fold_digits: bool,
    /// The first this many words (usually the subject) also yield position-marked word features.
    pub head_words: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            word_ngram_max: 2,
            char_ngram_min: 2,
            char_ngram_max: 5,
            max_word_chars: 24,
            hash_bits: 21,
            min_df: 2,
            max_features: 600_000,
            sublinear_tf: true,
            char_weight: 1.0,
            fold_digits: true,
            head_words: 8,
        }
    }
}

impl FeatureConfig {
    /// Checks that the settings are within supported ranges.
    pub fn validate(&self) -> Result<()> {
        if !(8..=24).contains(&self.hash_bits) {
            return Err(ClassifyError::InvalidArgument(format!(
                "hash_bits must be in 8..=24, got {}",
                self.hash_bits
            )));
        }
        if self.word_ngram_max > 3 {
            return Err(ClassifyError::InvalidArgument(
                "word_ngram_max must be at most 3".into(),
            ));
        }
        if self.char_ngram_max > 0 && (self.char_ngram_min == 0 || self.char_ngram_min > self.char_ngram_max) {
            return Err(ClassifyError::InvalidArgument(
                "char n-gram range must satisfy 1 <= min <= max".into(),
            ));
        }
        if self.word_ngram_max == 0 && self.char_ngram_max == 0 {
            return Err(ClassifyError::InvalidArgument(
                "at least one of word or character features must be enabled".into(),
            ));
        }
        if !self.char_weight.is_finite() || self.char_weight < 0.0 {
            return Err(ClassifyError::InvalidArgument(
                "char_weight must be a finite non-negative number".into(),
            ));
        }
        Ok(())
    }
}

/// A sparse, L2-normalized feature vector (indices into the fitted vocabulary).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    /// Feature indices (unique).
    pub indices: Vec<u32>,
    /// Feature values, parallel to `indices`.
    pub values: Vec<f32>,
}

impl SparseVec {
    /// Squared L2 norm.
    pub fn norm_sq(&self) -> f32 {
        self.values.iter().map(|v| v * v).sum()
    }
}

/// Reusable buffers for featurization (avoids per-document allocations).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    normalized: String,
    spans: Vec<(usize, usize)>,
    offsets: Vec<usize>,
    buckets: Vec<u32>,
    /// Per-feature term counts (all zero between calls).
    counts: Vec<u16>,
    /// Features seen in the current text, with "is a character n-gram".
    touched: Vec<(u32, bool)>,
}

thread_local! {
    /// Per-thread featurization buffers, so prediction allocates almost nothing.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Lower-cases `text` into `scratch.normalized` as ` word word ` and records word spans.
fn tokenize(text: &str, fold_digits: bool, scratch: &mut Scratch) {
    scratch.normalized.clear();
    scratch.spans.clear();
    scratch.normalized.push(' ');
    let mut start: Option<usize> = None;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if start.is_none() {
                start = Some(scratch.normalized.len());
            }
            if fold_digits && ch.is_ascii_digit() {
                scratch.normalized.push('0');
            } else {
                scratch.normalized.extend(ch.to_lowercase());
            }
        } else if let Some(word_start) = start.take() {
            scratch.spans.push((word_start, scratch.normalized.len()));
            scratch.normalized.push(' ');
        }
    }
    if let Some(word_start) = start {
        scratch.spans.push((word_start, scratch.normalized.len()));
        scratch.normalized.push(' ');
    }
}

/// Hashes every feature of `text` into `scratch.buckets` (unsorted, with repeats).
pub(crate) fn raw_buckets(text: &str, config: &FeatureConfig, scratch: &mut Scratch) {
    tokenize(text, config.fold_digits, scratch);
    scratch.buckets.clear();
    let bits = u32::from(config.hash_bits);
    let mask = (1u64 << bits) - 1;
    let word_bucket = |hash: u64| ((hash & mask) as u32) | (WORD_BLOCK << bits);
    let char_bucket = |hash: u64| ((hash & mask) as u32) | (CHAR_BLOCK << bits);
    let mut history = [0u64; 2];
    for (position, &(start, end)) in scratch.spans.iter().enumerate() {
        let Some(word) = scratch.normalized.get(start..end) else {
            continue;
        };
        let word_hash = hash_bytes(WORD_SEED, word.as_bytes());
        if config.word_ngram_max >= 1 {
            scratch.buckets.push(word_bucket(word_hash));
        }
        if config.word_ngram_max >= 2 && position >= 1 {
            scratch.buckets.push(word_bucket(combine(history[0], word_hash)));
        }
        if config.word_ngram_max >= 3 && position >= 2 {
            let trigram = combine(combine(history[1], history[0]), word_hash);
            scratch.buckets.push(word_bucket(trigram));
        }
        if position < config.head_words {
            scratch.buckets.push(word_bucket(combine(HEAD_SEED, word_hash)));
        }
        history = [word_hash, history[0]];
        if config.char_ngram_max == 0 {
            continue;
        }
        // Padded word: the separator before and after it (always a space).
        let Some(padded) = scratch.normalized.get(start - 1..end + 1) else {
            continue;
        };
        scratch.offsets.clear();
        scratch.offsets.extend(
            padded
                .char_indices()
                .map(|(offset, _)| offset)
                .take(config.max_word_chars + 1),
        );
        let last = if scratch.offsets.len() > config.max_word_chars {
            // Truncated word: the n-grams end where the first dropped character starts.
            scratch.offsets.pop().unwrap_or(0)
        } else {
            padded.len()
        };
        scratch.offsets.push(last);
        let n_chars = scratch.offsets.len() - 1;
        let bytes = padded.as_bytes();
        // Every n-gram starting at character `start` extends the previous one by one
        // character, so its FNV state is updated incrementally.
        let (min_n, max_n) = (usize::from(config.char_ngram_min), usize::from(config.char_ngram_max));
        for start in 0..n_chars {
            let mut state = fnv_start(CHAR_SEED);
            for n in 1..=max_n.min(n_chars - start) {
                let from = scratch.offsets[start + n - 1];
                let to = scratch.offsets[start + n];
                for &byte in &bytes[from..to] {
                    state = fnv_step(state, byte);
                }
                if n >= min_n {
                    scratch.buckets.push(char_bucket(finalize(state)));
                }
            }
        }
    }
}

/// A fitted featurizer: the kept buckets and their IDF weights.
#[derive(Debug, Clone)]
pub struct Vectorizer {
    config: FeatureConfig,
    buckets: Vec<u32>,
    idf: Vec<f32>,
    lookup: HashMap<u32, u32, PremixedBuildHasher>,
}

impl Vectorizer {
    /// Learns the vocabulary (buckets with enough document frequency) and IDF from `texts`.
    pub fn fit<S: AsRef<str>>(texts: &[S], config: &FeatureConfig) -> Result<Self> {
        config.validate()?;
        let bits = u32::from(config.hash_bits);
        let mut document_frequency = vec![0u32; 2usize << bits];
        let mut scratch = Scratch::default();
        for text in texts {
            raw_buckets(text.as_ref(), config, &mut scratch);
            scratch.buckets.sort_unstable();
            scratch.buckets.dedup();
            for &bucket in &scratch.buckets {
                if let Some(count) = document_frequency.get_mut(bucket as usize) {
                    *count += 1;
                }
            }
        }
        let min_df = config.min_df.max(1);
        let mut kept: Vec<(u32, u32)> = document_frequency
            .iter()
            .enumerate()
            .filter(|&(_, &df)| df >= min_df)
            .map(|(bucket, &df)| (bucket as u32, df))
            .collect();
        if kept.len() > config.max_features {
            kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            kept.truncate(config.max_features);
            kept.sort_unstable_by_key(|&(bucket, _)| bucket);
        }
        if kept.is_empty() {
            return Err(ClassifyError::NotEnoughData(
                "no feature occurs in enough training documents".into(),
            ));
        }
        let n_docs = texts.len() as f32;
        let buckets = kept.iter().map(|&(bucket, _)| bucket).collect();
        let idf = kept
            .iter()
            .map(|&(_, df)| ((1.0 + n_docs) / (1.0 + df as f32)).ln() + 1.0)
            .collect();
        Self::from_parts(config.clone(), buckets, idf)
    }

    /// Rebuilds a vectorizer from persisted parts.
    pub(crate) fn from_parts(config: FeatureConfig, buckets: Vec<u32>, idf: Vec<f32>) -> Result<Self> {
        config.validate()?;
        if buckets.len() != idf.len() {
            return Err(ClassifyError::InvalidArgument(
                "bucket and idf arrays differ in length".into(),
            ));
        }
        let mut lookup = HashMap::with_capacity_and_hasher(buckets.len(), PremixedBuildHasher);
        for (index, &bucket) in buckets.iter().enumerate() {
            lookup.insert(bucket, index as u32);
        }
        Ok(Self {
            config,
            buckets,
            idf,
            lookup,
        })
    }

    /// The configuration this vectorizer was fitted with.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Number of features (columns of the model's weight matrix).
    pub fn n_features(&self) -> usize {
        self.buckets.len()
    }

    /// Number of word features; they come first in feature-index order (word buckets sort first).
    pub(crate) fn n_word_features(&self) -> usize {
        let bits = u32::from(self.config.hash_bits);
        self.buckets.partition_point(|&bucket| bucket >> bits == WORD_BLOCK)
    }

    /// Kept buckets, in feature-index order.
    pub(crate) fn buckets(&self) -> &[u32] {
        &self.buckets
    }

    /// IDF weights, in feature-index order.
    pub(crate) fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// Featurizes one text (reusing per-thread buffers).
    pub fn transform(&self, text: &str) -> SparseVec {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.transform_with(text, &mut scratch),
            Err(_) => self.transform_with(text, &mut Scratch::default()),
        })
    }

    /// Featurizes one text using caller-provided buffers.
    pub(crate) fn transform_with(&self, text: &str, scratch: &mut Scratch) -> SparseVec {
        raw_buckets(text, &self.config, scratch);
        let bits = u32::from(self.config.hash_bits);
        if scratch.counts.len() < self.buckets.len() {
            scratch.counts.resize(self.buckets.len(), 0);
        }
        scratch.touched.clear();
        for &bucket in &scratch.buckets {
            let Some(&index) = self.lookup.get(&bucket) else {
                continue;
            };
            let Some(count) = scratch.counts.get_mut(index as usize) else {
                continue;
            };
            if *count == 0 {
                scratch.touched.push((index, bucket >> bits != WORD_BLOCK));
            }
            *count = count.saturating_add(1);
        }
        let mut out = SparseVec {
            indices: Vec::with_capacity(scratch.touched.len()),
            values: Vec::with_capacity(scratch.touched.len()),
        };
        let mut block_sq = [0.0f32; 2];
        for &(index, is_char) in &scratch.touched {
            let slot = index as usize;
            let count = f32::from(scratch.counts[slot]);
            scratch.counts[slot] = 0;
            let tf = if self.config.sublinear_tf {
                1.0 + count.ln()
            } else {
                count
            };
            let value = tf * self.idf.get(slot).copied().unwrap_or(1.0);
            block_sq[usize::from(is_char)] += value * value;
            out.indices.push(index);
            out.values.push(value);
        }
        let weights = [1.0, self.config.char_weight];
        let mut total = 0.0;
        let mut scale = [0.0f32; 2];
        for block in 0..2 {
            if block_sq[block] > 0.0 {
                scale[block] = weights[block] / block_sq[block].sqrt();
                total += weights[block] * weights[block];
            }
        }
        if total > 0.0 {
            let overall = 1.0 / total.sqrt();
            for (value, &(_, is_char)) in out.values.iter_mut().zip(&scratch.touched) {
                *value *= scale[usize::from(is_char)] * overall;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_pads_and_lowercases() {
        let mut scratch = Scratch::default();
        tokenize("VPN down: ticket #123!", true, &mut scratch);
        assert_eq!(scratch.normalized, " vpn down ticket 000 ");
        assert_eq!(scratch.spans.len(), 4);
    }

    #[test]
    fn incremental_char_hashes_match_direct_hashes() {
        let config = FeatureConfig::default();
        let mut scratch = Scratch::default();
        raw_buckets("Wifi", &config, &mut scratch);
        let mask = (1u64 << config.hash_bits) - 1;
        for gram in [" w", "wif", "ifi ", " wifi"] {
            let expected = ((hash_bytes(CHAR_SEED, gram.as_bytes()) & mask) as u32) | (CHAR_BLOCK << config.hash_bits);
            assert!(scratch.buckets.contains(&expected), "{gram}");
        }
        // 1 word + 1 head word + (5 + 4 + 3 + 2) char n-grams of " wifi " (6 chars).
        assert_eq!(scratch.buckets.len(), 1 + 1 + 5 + 4 + 3 + 2);
    }

    #[test]
    fn transform_is_normalized_and_ignores_unknown_features() {
        let texts = ["reset my password", "reset my vpn token", "printer is jammed"];
        let config = FeatureConfig {
            min_df: 1,
            ..FeatureConfig::default()
        };
        let vectorizer = Vectorizer::fit(&texts, &config).unwrap();
        let vector = vectorizer.transform("Reset my PASSWORD please");
        assert!((vector.norm_sq() - 1.0).abs() < 1e-4);
        let empty = vectorizer.transform("   ");
        assert!(empty.indices.is_empty());
        let unknown = vectorizer.transform("zzzqqq");
        assert!(unknown.values.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn handles_non_ascii_and_long_words() {
        let vectorizer = Vectorizer::fit(
            &["überprüfung des kontos", "密码重置"],
            &FeatureConfig {
                min_df: 1,
                ..FeatureConfig::default()
            },
        )
        .unwrap();
        let long = "x".repeat(500);
        let vector = vectorizer.transform(&format!("Überprüfung {long} 密码"));
        assert!(!vector.indices.is_empty());
    }
}
