//! Throughput benchmark: mines whole raw lines (header included) from files held in memory,
//! single-threaded, and reports lines per second and peak memory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::{Miner, MinerConfig, MinerError};

/// Default number of lines mined by the benchmark.
pub const DEFAULT_MIN_LINES: usize = 10_000_000;

/// Errors while benchmarking.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The files hold no line.
    #[error("no lines in the given files")]
    Empty,
    /// The miner could not be built.
    #[error("miner: {0}")]
    Miner(#[from] MinerError),
}

/// Benchmark result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Lines mined.
    pub lines: usize,
    /// Wall-clock seconds spent mining.
    pub seconds: f64,
    /// Lines per second (wall clock).
    pub lines_per_s: f64,
    /// CPU seconds the mining thread used (user + system), when available (Linux).
    pub cpu_seconds: Option<f64>,
    /// Lines per CPU second: the single-core rate, unaffected by other processes sharing the
    /// cores (when available).
    pub lines_per_cpu_s: Option<f64>,
    /// Live templates at the end.
    pub templates: usize,
    /// Peak resident set size of the process (VmHWM), when available.
    pub peak_rss_bytes: Option<u64>,
    /// The ingestion API measured.
    pub path: IngestPath,
}

impl BenchReport {
    /// A short human-readable summary.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "path         {:?}", self.path);
        let _ = writeln!(out, "lines        {}", self.lines);
        let _ = writeln!(out, "seconds      {:.3}", self.seconds);
        let _ = writeln!(out, "lines/s      {:.0}", self.lines_per_s);
        if let (Some(cpu), Some(rate)) = (self.cpu_seconds, self.lines_per_cpu_s) {
            let _ = writeln!(out, "cpu seconds  {cpu:.3}");
            let _ = writeln!(out, "lines/cpu-s  {rate:.0}");
        }
        let _ = writeln!(out, "templates    {}", self.templates);
        match self.peak_rss_bytes {
            Some(b) => {
                let _ = writeln!(out, "peak RSS     {:.1} MiB", b as f64 / 1048576.0);
            }
            None => {
                let _ = writeln!(out, "peak RSS     n/a");
            }
        }
        out
    }
}

/// Peak resident set size from `/proc/self/status` (`VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time used so far by the calling thread (`utime + stime` from `/proc/thread-self/stat`),
/// in seconds; `None` where that file does not exist.
pub fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain blanks).
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // utime and stime are fields 14 and 15 of the file; `rest` starts at field 3.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // Clock ticks per second: 100 on every Linux configuration in practical use.
    Some((utime + stime) / 100.0)
}

/// All lines in one buffer, plus each line's byte range.
type LoadedLines = (Vec<u8>, Vec<(usize, usize)>);

/// Reads the files' lines into memory (one buffer plus line offsets).
fn load(files: &[PathBuf]) -> Result<LoadedLines, BenchError> {
    let mut buf = Vec::new();
    let mut lines = Vec::new();
    for path in files {
        let data = std::fs::read(path).map_err(|source| BenchError::Io {
            path: Path::to_path_buf(path),
            source,
        })?;
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let start = buf.len();
            buf.extend_from_slice(line);
            lines.push((start, buf.len()));
        }
    }
    if lines.is_empty() {
        return Err(BenchError::Empty);
    }
    Ok((buf, lines))
}

/// Which ingestion API the benchmark drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestPath {
    /// [`Miner::ingest_ref`] (no allocation per line), reading what a log service uses per line:
    /// template id, severity of the level field, template changes. The default.
    #[default]
    Borrowed,
    /// [`Miner::ingest`] (owned [`crate::Parsed`] with header strings and parameters).
    Owned,
}

/// Mines the files' lines (concatenated, repeated until at least `min_lines`) with one default
/// miner on the current thread through [`Miner::ingest_ref`], the path a service uses, and
/// times it.
pub fn bench_files(files: &[PathBuf], min_lines: usize) -> Result<BenchReport, BenchError> {
    bench_files_with(files, min_lines, IngestPath::Borrowed)
}

/// [`bench_files`] through the chosen ingestion API.
pub fn bench_files_with(files: &[PathBuf], min_lines: usize, path: IngestPath) -> Result<BenchReport, BenchError> {
    let (buf, lines) = load(files)?;
    let passes = min_lines.div_ceil(lines.len()).max(1);
    let mut miner = Miner::new(MinerConfig::default())?;
    let mut checksum = 0u64;
    let cpu_start = thread_cpu_seconds();
    let start = Instant::now();
    for _ in 0..passes {
        for &(s, e) in &lines {
            let line = &buf[s..e];
            checksum = checksum.wrapping_add(match path {
                IngestPath::Borrowed => {
                    let parsed = miner.ingest_ref(line);
                    parsed.template_id + parsed.severity.map_or(0, |s| s as u64) + parsed.changes.len() as u64
                }
                IngestPath::Owned => {
                    let parsed = miner.ingest(line);
                    parsed.template_id + parsed.params.len() as u64 + parsed.changes.len() as u64
                }
            });
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = match (cpu_start, thread_cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    std::hint::black_box(checksum);
    let total = passes * lines.len();
    Ok(BenchReport {
        lines: total,
        seconds,
        lines_per_s: if seconds > 0.0 { total as f64 / seconds } else { 0.0 },
        cpu_seconds,
        lines_per_cpu_s: cpu_seconds.filter(|&c| c > 0.0).map(|c| total as f64 / c),
        templates: miner.template_count(),
        peak_rss_bytes: peak_rss_bytes(),
        path,
    })
}
