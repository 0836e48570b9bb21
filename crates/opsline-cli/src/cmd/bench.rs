//! `opsline bench logs|search`: speed and memory, reported, never asserted.

use crate::cli::{BenchLogsArgs, BenchSearchArgs};

/// Miner throughput on whole raw lines.
pub fn logs(args: BenchLogsArgs) -> anyhow::Result<()> {
    eprintln!(
        "loading {} file(s), repeating to {} lines ...",
        args.files.len(),
        args.lines
    );
    let report = opsline_logmine::bench::bench_files(&args.files, args.lines)?;
    if args.json {
        super::print_json(&report)
    } else {
        super::print_text(&report.render_text())
    }
}

/// Search index benchmark against a naive scan.
pub fn search(args: BenchSearchArgs) -> anyhow::Result<()> {
    if args.index.exists() {
        std::fs::remove_dir_all(&args.index)?;
    }
    eprintln!(
        "replicating {} to {} documents and indexing ...",
        args.corpus.display(),
        args.docs
    );
    let report = opsline_search::bench::bench(&args.corpus, args.docs, args.queries, &args.index)?;
    if args.json {
        super::print_text(&format!("{}\n", report.to_json()?))
    } else {
        super::print_text(&report.to_string())
    }
}
