//! Prints every field of `Miner::ingest` for every line, for regression diffs between versions:
//! each file is mined by its own default miner and, interleaved, by one miner shared by all the
//! files (a mixed stream). Output: one tab-separated line per mined line and miner.
//!
//! `cargo run --release -p opsline-logmine --example dump_parsed -- FILES... > dump.txt`

use opsline_logmine::{Miner, MinerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        return Err("usage: dump_parsed FILES...".into());
    }
    let mut mixed = Miner::new(MinerConfig::default())?;
    for path in &files {
        let data = std::fs::read(path)?;
        let mut own = Miner::new(MinerConfig::default())?;
        for line in data.split(|&b| b == b'\n') {
            for miner in [&mut own, &mut mixed] {
                let p = miner.ingest(line);
                println!(
                    "{}\t{}\t{:?}\t{:?}\t{:?}",
                    p.template_id, p.template, p.params, p.header, p.changes
                );
            }
        }
    }
    Ok(())
}
