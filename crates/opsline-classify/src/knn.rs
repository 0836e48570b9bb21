//! Nearest-neighbour vote over past tickets, an ensemble member of the linear model.
//!
//! The index keeps, for every word feature (uni- and bigrams), the training documents
//! that contain it with their word-block TF-IDF weight (each document re-normalized to
//! unit length over its word features). A query accumulates cosine similarities over
//! the postings of its own words only, so its cost is the total length of those
//! postings, not the number of past tickets. The `k` most similar tickets vote for
//! their label with weight `similarity^2`; the votes, normalized, are a class
//! distribution that [`crate::Model`] mixes with the linear model's probabilities.
//!
//! Words found in more than [`MAX_POSTING_SHARE`] of the documents are not indexed:
//! their IDF makes their share of a cosine small, and skipping them bounds the cost of
//! a query (throughput stays in the thousands per second on one core).

use std::cell::RefCell;

use crate::features::SparseVec;
use crate::model::argmax;

/// Largest share of the documents a word may occur in and still be indexed.
pub(crate) const MAX_POSTING_SHARE: f32 = 0.02;
/// Posting lists are never capped below this many documents.
const MIN_POSTING_CAP: u32 = 64;

thread_local! {
    /// Per-thread query buffers, so prediction allocates almost nothing.
    static SCRATCH: RefCell<KnnScratch> = RefCell::new(KnnScratch::default());
}

/// Inverted index of training documents over word features.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct KnnIndex {
    /// Features with index below this are word features (the only ones indexed).
    pub n_word_features: usize,
    /// Label id of every indexed document.
    pub labels: Vec<u16>,
    /// `starts[f]..starts[f + 1]` is the posting range of feature `f` (length `n_word_features + 1`).
    pub starts: Vec<u32>,
    /// Document ids, grouped by feature.
    pub docs: Vec<u32>,
    /// Normalized weights, parallel to `docs`.
    pub values: Vec<f32>,
}

/// Reusable buffers for queries.
#[derive(Debug, Default)]
pub(crate) struct KnnScratch {
    similarity: Vec<f32>,
    touched: Vec<u32>,
    query: Vec<(u32, f32)>,
}

/// Word part of `x` (indices below `n_word`), scaled to unit length, into `out`.
fn word_part(x: &SparseVec, n_word: usize, out: &mut Vec<(u32, f32)>) {
    out.clear();
    out.extend(
        x.indices
            .iter()
            .zip(&x.values)
            .filter(|(index, _)| (**index as usize) < n_word)
            .map(|(&index, &value)| (index, value)),
    );
    let norm: f32 = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, value) in out.iter_mut() {
            *value /= norm;
        }
    }
}

impl KnnIndex {
    /// Indexes the documents `rows` of `xs` (labels `labels[row]`).
    pub(crate) fn build(xs: &[SparseVec], labels: &[u16], rows: &[usize], n_word_features: usize) -> Self {
        let mut counts = vec![0u32; n_word_features + 1];
        let mut part = Vec::new();
        for &row in rows {
            word_part(&xs[row], n_word_features, &mut part);
            for &(index, _) in &part {
                counts[index as usize + 1] += 1;
            }
        }
        let cap = ((rows.len() as f32 * MAX_POSTING_SHARE) as u32).max(MIN_POSTING_CAP);
        for count in counts.iter_mut() {
            if *count > cap {
                *count = 0;
            }
        }
        let indexed: Vec<bool> = counts.iter().skip(1).map(|&count| count > 0).collect();
        for f in 1..counts.len() {
            counts[f] += counts[f - 1];
        }
        let total = counts.last().copied().unwrap_or(0) as usize;
        let mut fill = counts.clone();
        let mut docs = vec![0u32; total];
        let mut values = vec![0.0f32; total];
        let mut doc_labels = Vec::with_capacity(rows.len());
        for (doc, &row) in rows.iter().enumerate() {
            doc_labels.push(labels[row]);
            word_part(&xs[row], n_word_features, &mut part);
            for &(index, value) in &part {
                if !indexed.get(index as usize).copied().unwrap_or(false) {
                    continue;
                }
                let slot = &mut fill[index as usize];
                docs[*slot as usize] = doc as u32;
                values[*slot as usize] = value;
                *slot += 1;
            }
        }
        Self {
            n_word_features,
            labels: doc_labels,
            starts: counts,
            docs,
            values,
        }
    }

    /// Whether the index holds no document.
    pub(crate) fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Similarity-weighted votes of the `k` nearest documents, normalized to sum 1, into
    /// `out` (length `n_classes`; all zero when no document shares a word with `x`).
    pub(crate) fn votes_into(
        &self,
        x: &SparseVec,
        k: usize,
        n_classes: usize,
        scratch: &mut KnnScratch,
        out: &mut Vec<f32>,
    ) {
        out.clear();
        out.resize(n_classes, 0.0);
        if self.is_empty() || k == 0 {
            return;
        }
        if scratch.similarity.len() < self.labels.len() {
            scratch.similarity.resize(self.labels.len(), 0.0);
        }
        scratch.touched.clear();
        word_part(x, self.n_word_features, &mut scratch.query);
        for &(index, weight) in &scratch.query {
            let (Some(&start), Some(&end)) = (self.starts.get(index as usize), self.starts.get(index as usize + 1))
            else {
                continue;
            };
            let (start, end) = (start as usize, end as usize);
            for (&doc, &value) in self.docs[start..end].iter().zip(&self.values[start..end]) {
                let similarity = &mut scratch.similarity[doc as usize];
                if *similarity == 0.0 {
                    scratch.touched.push(doc);
                }
                *similarity += weight * value;
            }
        }
        let similarity = &mut scratch.similarity;
        let touched = &mut scratch.touched;
        if touched.len() > k {
            touched.select_nth_unstable_by(k - 1, |&a, &b| {
                similarity[b as usize]
                    .total_cmp(&similarity[a as usize])
                    .then(a.cmp(&b))
            });
        }
        let mut total = 0.0f32;
        for &doc in touched.iter().take(k) {
            let s = similarity[doc as usize];
            if let Some(slot) = out.get_mut(usize::from(self.labels[doc as usize])) {
                *slot += s * s;
                total += s * s;
            }
        }
        for &doc in touched.iter() {
            similarity[doc as usize] = 0.0;
        }
        if total > 0.0 {
            for vote in out.iter_mut() {
                *vote /= total;
            }
        }
    }
}

/// The chosen ensemble setting and its accuracy on the validation rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MixChoice {
    /// Neighbours that vote.
    pub k: usize,
    /// Weight of the votes in the mixture (0 = linear model alone).
    pub weight: f32,
    /// Validation accuracy of the mixture.
    pub accuracy: f64,
}

/// Picks the neighbour count and mixture weight with the best accuracy on held-out rows.
///
/// `probabilities[i]` are the linear model's calibrated probabilities for `rows[i]`, whose gold
/// label is `gold[i]`; `index` must not contain `rows`. Ties keep the earlier (smaller) setting,
/// and a weight of zero is always a candidate, so the vote is used only where it helps.
pub(crate) fn choose_mix(
    index: &KnnIndex,
    xs: &[SparseVec],
    rows: &[usize],
    gold: &[u16],
    probabilities: &[Vec<f32>],
    ks: &[usize],
    weights: &[f32],
) -> MixChoice {
    let n_classes = probabilities.first().map_or(0, Vec::len);
    let n = rows.len().max(1) as f64;
    let linear_correct = probabilities
        .iter()
        .zip(gold)
        .filter(|(p, g)| argmax(p) == usize::from(**g))
        .count();
    let mut best = MixChoice {
        k: 0,
        weight: 0.0,
        accuracy: linear_correct as f64 / n,
    };
    let mut scratch = KnnScratch::default();
    let mut votes = Vec::new();
    let mut mixed = Vec::new();
    for &k in ks {
        let mut correct = vec![0usize; weights.len()];
        for ((&row, p), &g) in rows.iter().zip(probabilities).zip(gold) {
            index.votes_into(&xs[row], k, n_classes, &mut scratch, &mut votes);
            for (slot, &weight) in weights.iter().enumerate() {
                mixed.clear();
                mixed.extend_from_slice(p);
                mix(&mut mixed, &votes, weight);
                correct[slot] += usize::from(argmax(&mixed) == usize::from(g));
            }
        }
        for (slot, &weight) in weights.iter().enumerate() {
            let accuracy = correct[slot] as f64 / n;
            if weight > 0.0 && accuracy > best.accuracy {
                best = MixChoice { k, weight, accuracy };
            }
        }
    }
    best
}

impl KnnIndex {
    /// Mixes the votes of the `k` nearest documents into `probabilities` with `weight`.
    pub(crate) fn mix_into(&self, x: &SparseVec, k: usize, weight: f32, probabilities: &mut [f32]) {
        if weight <= 0.0 || k == 0 || self.is_empty() {
            return;
        }
        SCRATCH.with(|cell| {
            let mut votes = Vec::with_capacity(probabilities.len());
            match cell.try_borrow_mut() {
                Ok(mut scratch) => self.votes_into(x, k, probabilities.len(), &mut scratch, &mut votes),
                Err(_) => self.votes_into(x, k, probabilities.len(), &mut KnnScratch::default(), &mut votes),
            }
            mix(probabilities, &votes, weight);
        });
    }
}

/// Mixes calibrated linear probabilities with kNN votes: `(1 - w) * p + w * votes`.
/// When the votes are all zero (no shared word), the linear probabilities are kept.
pub(crate) fn mix(probabilities: &mut [f32], votes: &[f32], weight: f32) {
    if weight <= 0.0 || votes.iter().all(|&v| v == 0.0) {
        return;
    }
    for (p, &v) in probabilities.iter_mut().zip(votes) {
        *p = (1.0 - weight) * *p + weight * v;
    }
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
    fn nearest_documents_vote() {
        let xs = vec![
            vec_of(&[(0, 1.0), (5, 1.0)]),
            vec_of(&[(0, 0.8), (1, 0.6)]),
            vec_of(&[(2, 1.0)]),
            vec_of(&[(2, 0.6), (3, 0.8)]),
        ];
        let labels = [0u16, 0, 1, 1];
        let index = KnnIndex::build(&xs, &labels, &[0, 1, 2, 3], 4);
        let mut scratch = KnnScratch::default();
        let mut votes = Vec::new();
        index.votes_into(&vec_of(&[(0, 1.0)]), 2, 2, &mut scratch, &mut votes);
        assert!((votes[0] - 1.0).abs() < 1e-5, "{votes:?}");
        index.votes_into(&vec_of(&[(3, 1.0), (9, 1.0)]), 1, 2, &mut scratch, &mut votes);
        assert_eq!(votes, vec![0.0, 1.0]);
        index.votes_into(&vec_of(&[(7, 1.0)]), 3, 2, &mut scratch, &mut votes);
        assert_eq!(votes, vec![0.0, 0.0]);
        let mut p = vec![0.9, 0.1];
        mix(&mut p, &votes, 0.5);
        assert_eq!(p, vec![0.9, 0.1]);
        mix(&mut p, &[0.0, 1.0], 0.5);
        assert!((p[1] - 0.55).abs() < 1e-6);
    }
}
