//! Benchmark of the search index on a synthetic corpus derived from a real one.
//!
//! [`bench`] replicates the documents found under `corpus_dir` to `docs` variations (see
//! `synth`), indexes them into `index_dir` (measuring documents/s and size on disk), then runs
//! `queries` generated queries (single terms, several terms, phrases, field filters, date
//! ranges, booleans) through [`SearchIndex::search`] (top 10 with snippets, access filter on)
//! and through a naive linear scan over the same documents, reporting latency percentiles.
//! Nothing here asserts on time: the numbers are measured and reported.

mod naive;
mod synth;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::access::{Role, Viewer};
use crate::document::DocStatus;
use crate::error::{Result, SearchError};
use crate::import::{ImportOptions, load_path};
use crate::index::{IndexConfig, SearchIndex};
use crate::query::parse;
use crate::search::Page;

/// The latency goal for p99 search latency on the 100k-document corpus, in microseconds.
pub const P99_TARGET_MICROS: u64 = 10_000;
/// Wall-clock budget of the naive scan; queries past it are not run (reported).
pub const NAIVE_BUDGET: Duration = Duration::from_secs(120);
/// Seed of the generators (runs are reproducible).
const SEED: u64 = 0x0b5e_11e5;

/// Latency distribution of a set of queries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    /// Queries measured.
    pub count: usize,
    /// Median, µs.
    pub p50_us: u64,
    /// 90th percentile, µs.
    pub p90_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Slowest, µs.
    pub max_us: u64,
    /// Mean, µs.
    pub mean_us: u64,
}

impl LatencyStats {
    fn from_micros(mut samples: Vec<u64>) -> Self {
        if samples.is_empty() {
            return LatencyStats::default();
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        LatencyStats {
            count: samples.len(),
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            max_us: samples[samples.len() - 1],
            mean_us: samples.iter().sum::<u64>() / samples.len() as u64,
        }
    }
}

/// Everything [`bench`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Real documents the corpus was derived from.
    pub base_documents: usize,
    /// Documents indexed.
    pub documents: usize,
    /// Indexing threads and writer memory budget used.
    pub writer_threads: usize,
    /// Writer memory budget, bytes.
    pub writer_memory_bytes: usize,
    /// Wall-clock indexing time including the final commit, seconds.
    pub index_seconds: f64,
    /// Indexing throughput.
    pub index_docs_per_sec: f64,
    /// Size of the index directory after commit, bytes.
    pub index_bytes: u64,
    /// Queries run through the index.
    pub queries: usize,
    /// Index search latency (parse + search + count + top 10 + snippets).
    pub search: LatencyStats,
    /// Index search latency per query family.
    pub search_by_family: BTreeMap<String, LatencyStats>,
    /// Mean number of matching documents per query (index).
    pub mean_matches: f64,
    /// Naive linear-scan latency over the same documents and queries (floor).
    pub naive_scan: LatencyStats,
    /// Speed-up of the index over the scan at the median.
    pub median_speedup: f64,
    /// The p99 goal, µs.
    pub p99_target_us: u64,
    /// Whether the index met the p99 goal.
    pub p99_target_met: bool,
}

impl BenchReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "opsline-search benchmark")?;
        writeln!(
            f,
            "  corpus      {} documents derived from {} real ones",
            self.documents, self.base_documents
        )?;
        writeln!(
            f,
            "  indexing    {:.1} s, {:.0} docs/s ({} threads, {} MiB writer budget)",
            self.index_seconds,
            self.index_docs_per_sec,
            self.writer_threads,
            self.writer_memory_bytes / (1024 * 1024)
        )?;
        writeln!(
            f,
            "  index size  {:.1} MiB ({:.0} bytes/doc)",
            self.index_bytes as f64 / (1024.0 * 1024.0),
            self.index_bytes as f64 / self.documents.max(1) as f64
        )?;
        let line = |f: &mut fmt::Formatter<'_>, name: &str, s: &LatencyStats| {
            writeln!(
                f,
                "  {name:<18} n={:<5} p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  mean {:>8.2} ms",
                s.count,
                ms(s.p50_us),
                ms(s.p90_us),
                ms(s.p99_us),
                ms(s.max_us),
                ms(s.mean_us)
            )
        };
        line(f, "search (index)", &self.search)?;
        for (family, stats) in &self.search_by_family {
            line(f, &format!("  {family}"), stats)?;
        }
        line(f, "naive scan", &self.naive_scan)?;
        writeln!(f, "  mean matches per query {:.0}", self.mean_matches)?;
        writeln!(f, "  median speed-up over scan {:.0}x", self.median_speedup)?;
        writeln!(
            f,
            "  p99 target {:.0} ms: {}",
            ms(self.p99_target_us),
            if self.p99_target_met { "met" } else { "NOT met" }
        )
    }
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| SearchError::io(dir, e))? {
        let entry = entry.map_err(|e| SearchError::io(dir, e))?;
        let meta = entry.metadata().map_err(|e| SearchError::io(entry.path(), e))?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Runs the benchmark (see the module docs). `index_dir` must be absent or empty.
pub fn bench(corpus_dir: &Path, docs: usize, queries: usize, index_dir: &Path) -> Result<BenchReport> {
    if std::fs::read_dir(index_dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(SearchError::Directory {
            path: index_dir.to_path_buf(),
            message: "benchmark index directory must be empty".to_string(),
        });
    }
    let options = ImportOptions {
        default_status: DocStatus::Published,
        ..ImportOptions::default()
    };
    let (mut bases, _) = load_path(corpus_dir, &options)?;
    bases.sort_by(|a, b| a.id.cmp(&b.id));
    bases.dedup_by(|a, b| a.id == b.id);
    let mut rng = synth::Rng::new(SEED);
    let corpus = synth::synthesize(&bases, docs, &mut rng);

    let config = IndexConfig::default();
    let (writer_threads, writer_memory_bytes) = config.effective();
    let index = SearchIndex::open_or_create_with(index_dir, config)?;
    let started = Instant::now();
    for doc in &corpus {
        index.upsert(doc.clone())?;
    }
    index.commit()?;
    let index_seconds = started.elapsed().as_secs_f64();
    let index_bytes = dir_size(index_dir)?;

    let generated = synth::queries(&bases, queries, &mut rng);
    let parsed = generated
        .iter()
        .map(|(family, q)| parse(q).map(|node| (*family, q.as_str(), node)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let viewer = Viewer::new(Role::Sre, ["sre-core"]);
    // Warm-up (page cache, lazily loaded structures), not measured.
    for (_, query, _) in parsed.iter().take(100) {
        index.search(&viewer, query, Page::first(10))?;
    }
    let mut samples = Vec::with_capacity(parsed.len());
    let mut by_family: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut matches = 0usize;
    for (family, query, _) in &parsed {
        let started = Instant::now();
        let results = index.search(&viewer, query, Page::first(10))?;
        let micros = started.elapsed().as_micros() as u64;
        matches += results.total;
        samples.push(micros);
        by_family.entry(family.to_string()).or_default().push(micros);
    }
    let search = LatencyStats::from_micros(samples);

    let scan_docs = naive::prepare(corpus);
    let mut naive_samples = Vec::new();
    let naive_started = Instant::now();
    for (_, _, node) in &parsed {
        if naive_started.elapsed() > NAIVE_BUDGET {
            break;
        }
        let started = Instant::now();
        let _ = naive::scan(&scan_docs, &viewer, node, 10);
        naive_samples.push(started.elapsed().as_micros() as u64);
    }
    let naive_scan = LatencyStats::from_micros(naive_samples);
    Ok(BenchReport {
        base_documents: bases.len(),
        documents: docs,
        writer_threads,
        writer_memory_bytes,
        index_seconds,
        index_docs_per_sec: docs as f64 / index_seconds.max(f64::EPSILON),
        index_bytes,
        queries: parsed.len(),
        median_speedup: naive_scan.p50_us as f64 / search.p50_us.max(1) as f64,
        p99_target_us: P99_TARGET_MICROS,
        p99_target_met: search.p99_us < P99_TARGET_MICROS,
        search,
        search_by_family: by_family
            .into_iter()
            .map(|(family, samples)| (family, LatencyStats::from_micros(samples)))
            .collect(),
        mean_matches: matches as f64 / parsed.len().max(1) as f64,
        naive_scan,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_reports_consistent_counts() {
        let corpus = tempfile::tempdir().unwrap();
        std::fs::write(
            corpus.path().join("a.jsonl"),
            "{\"url\": \"https://a.example/1\", \"company\": \"Acme\", \"text\": \"A bad DNS config took the resolvers down. Rollback fixed it.\"}\n\
             {\"url\": \"https://a.example/2\", \"company\": \"Beta\", \"text\": \"The database failover stalled. Replication lag grew. Writes were lost.\"}\n",
        )
        .unwrap();
        let index_dir = tempfile::tempdir().unwrap();
        let report = bench(corpus.path(), 300, 40, index_dir.path()).unwrap();
        assert_eq!((report.base_documents, report.documents, report.queries), (2, 300, 40));
        assert_eq!(report.search.count, 40);
        assert_eq!(report.naive_scan.count, 40);
        assert_eq!(report.search_by_family.values().map(|s| s.count).sum::<usize>(), 40);
        assert!(report.index_bytes > 0);
        assert!(report.search.p50_us <= report.search.p99_us && report.search.p99_us <= report.search.max_us);
        let json = report.to_json().unwrap();
        assert!(json.contains("\"p99_target_met\""));
        assert!(report.to_string().contains("naive scan"));
        // A non-empty index directory is refused.
        assert!(bench(corpus.path(), 10, 5, corpus.path()).is_err());
    }

    #[test]
    fn synthetic_documents_vary() {
        let base = crate::SearchDocument::new(
            "b",
            crate::DocKind::Postmortem,
            "Base",
            "One. Two. Three. Four.",
            DocStatus::Published,
        );
        let mut rng = synth::Rng::new(1);
        let docs = synth::synthesize(&[base], 50, &mut rng);
        let distinct: std::collections::BTreeSet<&str> = docs.iter().map(|d| d.body.as_str()).collect();
        assert!(distinct.len() > 10);
        assert!(docs.iter().all(|d| d.service.is_some() && d.created.is_some()));
        let queries = synth::queries(&docs, 100, &mut rng);
        assert_eq!(queries.len(), 100);
        assert!(queries.iter().all(|(_, q)| crate::query::parse(q).is_ok()));
    }
}
