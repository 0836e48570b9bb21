//! Search benchmark: 100k synthetic documents derived from the real postmortem corpus.
//!
//! `cargo run --release -p opsline-search --example bench_search -- [corpus_dir] [docs] [queries] [--json]`
//!
//! Defaults: `../shared/data/postmortems`, 100000 documents, 1000 queries; the index is built
//! in a temporary directory that is removed afterwards.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let corpus = positional
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/postmortems"));
    let docs = positional.get(1).map(|s| s.parse()).transpose()?.unwrap_or(100_000);
    let queries = positional.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1_000);
    let index_dir = tempfile::tempdir()?;
    let report = opsline_search::bench::bench(&corpus, docs, queries, index_dir.path())?;
    if json {
        println!("{}", report.to_json()?);
    } else {
        print!("{report}");
    }
    Ok(())
}
