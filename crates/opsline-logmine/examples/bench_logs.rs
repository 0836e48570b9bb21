//! Measures single-threaded mining throughput.
//!
//! `cargo run --release -p opsline-logmine --example bench_logs -- [--lines N] [--json] [--owned] FILES...`
//!
//! By default the borrowed, allocation-free `Miner::ingest_ref` path is measured (what a service
//! uses); `--owned` measures `Miner::ingest` (owned header strings and parameters).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut json = false;
    let mut path = opsline_logmine::bench::IngestPath::Borrowed;
    let mut lines = opsline_logmine::bench::DEFAULT_MIN_LINES;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--owned" => path = opsline_logmine::bench::IngestPath::Owned,
            "--lines" => lines = args.next().ok_or("--lines needs a value")?.parse()?,
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        return Err("usage: bench_logs [--lines N] [--json] [--owned] FILES...".into());
    }
    let report = opsline_logmine::bench::bench_files_with(&files, lines, path)?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}
