//! Compact binary model files.
//!
//! Layout (little-endian): magic `OPSLCLF1`, `u32` metadata length, metadata as
//! JSON (labels, columns, date, sizes, validation metrics, configuration),
//! `u32` feature count, `u32` class count, the kept hash buckets (`u32`), their
//! IDF (`f32`), the class biases (`f32`), the weight matrix (`f32`, feature-major),
//! then (format 2, magic `OPSLCLF2`) the nearest-neighbour index: `u32` word-feature
//! count, `u32` document count, `u32` posting count, document labels (`u32`), posting
//! starts (`u32`, word-feature count + 1), posting documents (`u32`) and weights (`f32`);
//! and a trailing 64-bit checksum of everything before it. Format 1 files (no index)
//! still load.

use std::path::Path;

use crate::error::{ClassifyError, Result};
use crate::features::Vectorizer;
use crate::hashing::hash_bytes;
use crate::knn::KnnIndex;
use crate::linear::LinearModel;
use crate::model::{Model, ModelMeta};

/// The magic of the current model file format (also part of the model cache key).
pub(crate) const MAGIC: &[u8; 8] = b"OPSLCLF2";
const MAGIC_V1: &[u8; 8] = b"OPSLCLF1";
const CHECKSUM_SEED: u64 = 0x4f50_534c;

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_f32s(out: &mut Vec<u8>, values: &[f32]) {
    for value in values {
        out.extend_from_slice(&value.to_le_bytes());
    }
}

/// Reads fixed-size little-endian values from a byte slice.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self
            .position
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| "file is truncated".to_string())?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn u32(&mut self) -> std::result::Result<u32, String> {
        let mut buffer = [0u8; 4];
        buffer.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(buffer))
    }

    fn u32s(&mut self, n: usize) -> std::result::Result<Vec<u32>, String> {
        let bytes = self.take(n.checked_mul(4).ok_or("size overflow")?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn f32s(&mut self, n: usize) -> std::result::Result<Vec<f32>, String> {
        Ok(self.u32s(n)?.into_iter().map(f32::from_bits).collect())
    }
}

/// Reads and checks the nearest-neighbour section.
fn read_knn(cursor: &mut Cursor<'_>, n_features: usize, n_classes: usize) -> std::result::Result<KnnIndex, String> {
    let n_word_features = cursor.u32()? as usize;
    let n_docs = cursor.u32()? as usize;
    let n_postings = cursor.u32()? as usize;
    if n_docs == 0 && n_postings == 0 && n_word_features == 0 {
        return Ok(KnnIndex::default());
    }
    if n_word_features > n_features {
        return Err("index has more word features than the model".into());
    }
    let labels = cursor
        .u32s(n_docs)?
        .into_iter()
        .map(|label| u16::try_from(label).ok().filter(|&l| usize::from(l) < n_classes))
        .collect::<Option<Vec<u16>>>()
        .ok_or("index label out of range")?;
    let starts = cursor.u32s(n_word_features + 1)?;
    let docs = cursor.u32s(n_postings)?;
    let values = cursor.f32s(n_postings)?;
    let ordered = starts.windows(2).all(|w| w[0] <= w[1]);
    if !ordered || starts.last().map(|&s| s as usize) != Some(n_postings) || starts.first() != Some(&0) {
        return Err("index posting ranges are inconsistent".into());
    }
    if docs.iter().any(|&doc| doc as usize >= n_docs) {
        return Err("index document out of range".into());
    }
    Ok(KnnIndex {
        n_word_features,
        labels,
        starts,
        docs,
        values,
    })
}

impl Model {
    /// Serializes the model to bytes (see the module documentation for the layout).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let meta = serde_json::to_vec(&self.meta)?;
        let n_features = self.vectorizer.n_features();
        let n_classes = self.linear.n_classes;
        let mut out = Vec::with_capacity(32 + meta.len() + 4 * (n_features * (n_classes + 2)));
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, meta.len() as u32);
        out.extend_from_slice(&meta);
        put_u32(&mut out, n_features as u32);
        put_u32(&mut out, n_classes as u32);
        for &bucket in self.vectorizer.buckets() {
            put_u32(&mut out, bucket);
        }
        put_f32s(&mut out, self.vectorizer.idf());
        put_f32s(&mut out, &self.linear.bias);
        put_f32s(&mut out, &self.linear.weights);
        let knn = &self.knn;
        // An empty index is written as three zeros.
        put_u32(&mut out, if knn.is_empty() { 0 } else { knn.n_word_features as u32 });
        put_u32(&mut out, knn.labels.len() as u32);
        put_u32(&mut out, knn.docs.len() as u32);
        for &label in &knn.labels {
            put_u32(&mut out, u32::from(label));
        }
        if !knn.is_empty() {
            for &value in knn.starts.iter().chain(&knn.docs) {
                put_u32(&mut out, value);
            }
            put_f32s(&mut out, &knn.values);
        }
        let checksum = hash_bytes(CHECKSUM_SEED, &out);
        out.extend_from_slice(&checksum.to_le_bytes());
        Ok(out)
    }

    /// Parses a model from bytes written by [`Model::to_bytes`]; `origin` names the source in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        let bad = |reason: String| ClassifyError::BadModel {
            path: origin.to_path_buf(),
            reason,
        };
        let magic = bytes.get(..MAGIC.len());
        if bytes.len() < MAGIC.len() + 8 || (magic != Some(MAGIC) && magic != Some(MAGIC_V1)) {
            return Err(bad("not an opsline-classify model (bad magic)".into()));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let mut stored = [0u8; 8];
        stored.copy_from_slice(tail);
        if u64::from_le_bytes(stored) != hash_bytes(CHECKSUM_SEED, body) {
            return Err(bad("checksum mismatch (corrupt file)".into()));
        }
        let mut cursor = Cursor {
            bytes: body,
            position: MAGIC.len(),
        };
        let meta_len = cursor.u32().map_err(bad)? as usize;
        let meta: ModelMeta = serde_json::from_slice(cursor.take(meta_len).map_err(bad)?)?;
        let n_features = cursor.u32().map_err(bad)? as usize;
        let n_classes = cursor.u32().map_err(bad)? as usize;
        if n_classes != meta.labels.len() || n_features != meta.n_features {
            return Err(bad("sizes disagree with metadata".into()));
        }
        let buckets = cursor.u32s(n_features).map_err(bad)?;
        let idf = cursor.f32s(n_features).map_err(bad)?;
        let bias = cursor.f32s(n_classes).map_err(bad)?;
        let weight_count = n_features
            .checked_mul(n_classes)
            .ok_or_else(|| bad("size overflow".into()))?;
        let weights = cursor.f32s(weight_count).map_err(bad)?;
        let knn = if magic == Some(MAGIC) {
            read_knn(&mut cursor, n_features, n_classes).map_err(bad)?
        } else {
            KnnIndex::default()
        };
        if cursor.position != body.len() {
            return Err(bad("trailing bytes".into()));
        }
        let vectorizer = Vectorizer::from_parts(meta.config.features.clone(), buckets, idf)?;
        Ok(Self {
            meta,
            vectorizer,
            linear: LinearModel {
                n_features,
                n_classes,
                weights,
                bias,
            },
            knn,
        })
    }

    /// Writes the model to a file, atomically: a temporary file next to it is renamed over it, so
    /// a reader (or a crash) never sees half a model.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(format!(".tmp-{}", std::process::id()));
        let temporary = std::path::PathBuf::from(temporary);
        std::fs::write(&temporary, self.to_bytes()?).map_err(|e| ClassifyError::io(&temporary, e))?;
        std::fs::rename(&temporary, path).map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            ClassifyError::io(path, e)
        })
    }

    /// Reads a model from a file written by [`Model::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| ClassifyError::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }
}

#[cfg(test)]
mod tests {
    use crate::knn::KnnIndex;
    use crate::model::{TrainConfig, train};

    #[test]
    fn save_load_round_trip_and_corruption() {
        let texts: Vec<String> = (0..40)
            .map(|i| {
                if i % 2 == 0 {
                    format!("vpn down {i}")
                } else {
                    format!("printer jam {i}")
                }
            })
            .collect();
        let labels: Vec<String> = (0..40)
            .map(|i| {
                if i % 2 == 0 {
                    "Network".to_string()
                } else {
                    "Hardware".to_string()
                }
            })
            .collect();
        let model = train(&texts, &labels, &TrainConfig::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        model.save(&path).unwrap();
        let loaded = crate::Model::load(&path).unwrap();
        assert_eq!(loaded.meta, model.meta);
        assert_eq!(loaded.predict("vpn is down"), model.predict("vpn is down"));

        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(crate::Model::load(&path).is_err());
        std::fs::write(&path, b"OPSL").unwrap();
        assert!(crate::Model::load(&path).is_err());
    }

    #[test]
    fn neighbour_index_round_trips() {
        let texts: Vec<String> = (0..40).map(|i| format!("vpn {} down {i}", i % 3)).collect();
        let labels: Vec<String> = (0..40).map(|i| format!("L{}", i % 3)).collect();
        let mut model = train(&texts, &labels, &TrainConfig::default()).unwrap();
        let vectors: Vec<_> = texts.iter().map(|t| model.vectorizer.transform(t)).collect();
        let ids: Vec<u16> = (0..40).map(|i| (i % 3) as u16).collect();
        let rows: Vec<usize> = (0..40).collect();
        model.knn = KnnIndex::build(&vectors, &ids, &rows, model.vectorizer.n_word_features());
        model.meta.knn_k = 5;
        model.meta.knn_weight = 0.5;
        assert!(!model.knn.is_empty());
        let bytes = model.to_bytes().unwrap();
        let loaded = crate::Model::from_bytes(&bytes, std::path::Path::new("mem")).unwrap();
        assert_eq!(loaded.knn, model.knn);
        assert_eq!(loaded.predict("vpn 1 down"), model.predict("vpn 1 down"));
    }
}
