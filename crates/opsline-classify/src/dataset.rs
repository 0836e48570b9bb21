//! Reading labelled tickets from CSV files and making deterministic held-out splits.

use std::path::Path;

use serde::Serialize;

use crate::error::{ClassifyError, Result};
use crate::hashing::hash_bytes;

/// Texts and labels read from a CSV file.
#[derive(Debug, Clone, Default)]
pub struct LabeledTexts {
    /// One text per row: the text columns joined by a newline.
    pub texts: Vec<String>,
    /// One label per row (rows without a label are skipped).
    pub labels: Vec<String>,
    /// The text columns actually used (resolved against the header).
    pub text_cols: Vec<String>,
    /// The label column actually used.
    pub label_col: String,
}

/// Finds `name` in `header`: exact match first, then trimmed case-insensitive.
fn find_column(header: &[String], name: &str, path: &Path) -> Result<usize> {
    header
        .iter()
        .position(|column| column == name)
        .or_else(|| {
            header
                .iter()
                .position(|column| column.trim().eq_ignore_ascii_case(name.trim()))
        })
        .ok_or_else(|| ClassifyError::MissingColumn {
            column: name.to_string(),
            path: path.to_path_buf(),
            header: header.to_vec(),
        })
}

fn open_reader(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::io(path, e))?;
    Ok(csv::ReaderBuilder::new().flexible(true).from_reader(file))
}

fn read_header(reader: &mut csv::Reader<std::fs::File>, path: &Path) -> Result<Vec<String>> {
    let header = reader.byte_headers().map_err(|e| ClassifyError::csv(path, e))?;
    Ok(header
        .iter()
        .map(|field| {
            String::from_utf8_lossy(field)
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect())
}

/// Reads `(text, label)` rows from a CSV file with a header.
///
/// An empty `label_col` means the last column; empty `text_cols` means every other column.
/// Invalid UTF-8 is replaced, rows with an empty label are skipped.
pub fn read_labeled_csv(path: impl AsRef<Path>, text_cols: &[String], label_col: &str) -> Result<LabeledTexts> {
    let path = path.as_ref();
    let mut reader = open_reader(path)?;
    let header = read_header(&mut reader, path)?;
    if header.is_empty() {
        return Err(ClassifyError::NotEnoughData(format!(
            "{} has no header",
            path.display()
        )));
    }
    let label_index = if label_col.trim().is_empty() {
        header.len() - 1
    } else {
        find_column(&header, label_col, path)?
    };
    let text_indices: Vec<usize> = if text_cols.is_empty() {
        (0..header.len()).filter(|&i| i != label_index).collect()
    } else {
        text_cols
            .iter()
            .map(|name| find_column(&header, name, path))
            .collect::<Result<_>>()?
    };
    if text_indices.is_empty() {
        return Err(ClassifyError::InvalidArgument(
            "no text column besides the label column".into(),
        ));
    }
    let mut out = LabeledTexts {
        text_cols: text_indices.iter().map(|&i| header[i].clone()).collect(),
        label_col: header[label_index].clone(),
        ..LabeledTexts::default()
    };
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(ClassifyError::csv(path, e)),
        }
        let label = record
            .get(label_index)
            .map(|field| String::from_utf8_lossy(field).trim().to_string())
            .unwrap_or_default();
        if label.is_empty() {
            continue;
        }
        let mut text = String::new();
        for &index in &text_indices {
            if let Some(field) = record.get(index) {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&String::from_utf8_lossy(field));
            }
        }
        out.texts.push(text);
        out.labels.push(label);
    }
    Ok(out)
}

/// Row counts written by [`split_csv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SplitSummary {
    /// Rows written to the training file.
    pub train_rows: usize,
    /// Rows written to the test file.
    pub test_rows: usize,
}

/// Splits a CSV file into train and test files, keeping the header in both.
///
/// A row goes to the test file when a seeded hash of its content falls below
/// `test_fraction`, so the split is deterministic, independent of row order, and
/// identical rows always land on the same side (no train/test leakage of duplicates).
pub fn split_csv(
    path: impl AsRef<Path>,
    test_fraction: f64,
    seed: u64,
    out_train: impl AsRef<Path>,
    out_test: impl AsRef<Path>,
) -> Result<SplitSummary> {
    if !(0.0..=1.0).contains(&test_fraction) {
        return Err(ClassifyError::InvalidArgument(format!(
            "test_fraction must be in [0, 1], got {test_fraction}"
        )));
    }
    let path = path.as_ref();
    let (out_train, out_test) = (out_train.as_ref(), out_test.as_ref());
    let mut reader = open_reader(path)?;
    let header = reader.byte_headers().map_err(|e| ClassifyError::csv(path, e))?.clone();
    let mut train = csv::Writer::from_path(out_train).map_err(|e| ClassifyError::csv(out_train, e))?;
    let mut test = csv::Writer::from_path(out_test).map_err(|e| ClassifyError::csv(out_test, e))?;
    train
        .write_byte_record(&header)
        .map_err(|e| ClassifyError::csv(out_train, e))?;
    test.write_byte_record(&header)
        .map_err(|e| ClassifyError::csv(out_test, e))?;
    let mut summary = SplitSummary {
        train_rows: 0,
        test_rows: 0,
    };
    let mut record = csv::ByteRecord::new();
    let mut key = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(ClassifyError::csv(path, e)),
        }
        key.clear();
        for field in record.iter() {
            key.extend_from_slice(field);
            key.push(0x1f);
        }
        let unit = (hash_bytes(seed, &key) >> 11) as f64 / (1u64 << 53) as f64;
        if unit < test_fraction {
            test.write_byte_record(&record)
                .map_err(|e| ClassifyError::csv(out_test, e))?;
            summary.test_rows += 1;
        } else {
            train
                .write_byte_record(&record)
                .map_err(|e| ClassifyError::csv(out_train, e))?;
            summary.train_rows += 1;
        }
    }
    train.flush().map_err(|e| ClassifyError::io(out_train, e))?;
    test.flush().map_err(|e| ClassifyError::io(out_test, e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_and_splits_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        let mut body = String::from("Short description,Description,Assignment group\n");
        for i in 0..200 {
            body.push_str(&format!("vpn issue {i},cannot connect,GRP_{}\n", i % 3));
        }
        body.push_str("no label row,,\n");
        std::fs::write(&input, body).unwrap();
        let data = read_labeled_csv(&input, &[], "").unwrap();
        assert_eq!(data.texts.len(), 200);
        assert_eq!(data.label_col, "Assignment group");
        assert_eq!(data.texts[0], "vpn issue 0\ncannot connect");
        let one = read_labeled_csv(&input, &["short description".into()], "Assignment group").unwrap();
        assert_eq!(one.texts[0], "vpn issue 0");
        assert!(read_labeled_csv(&input, &["nope".into()], "").is_err());

        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        let first = split_csv(&input, 0.2, 42, &a, &b).unwrap();
        let train_a = std::fs::read_to_string(&a).unwrap();
        let second = split_csv(&input, 0.2, 42, &a, &b).unwrap();
        assert_eq!(first, second);
        assert_eq!(train_a, std::fs::read_to_string(&a).unwrap());
        assert_eq!(first.train_rows + first.test_rows, 201);
        assert!(first.test_rows > 20 && first.test_rows < 70, "{first:?}");
        assert!(split_csv(&input, 1.5, 1, &a, &b).is_err());
    }
}
