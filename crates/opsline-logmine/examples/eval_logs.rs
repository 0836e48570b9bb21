//! Evaluates the miner on LogHub 2k data sets.
//!
//! `cargo run --release -p opsline-logmine --example eval_logs -- ../shared/data/loghub [--json]`

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut json = false;
    let mut dirs = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "--json" {
            json = true;
        } else {
            dirs.push(PathBuf::from(arg));
        }
    }
    if dirs.is_empty() {
        dirs.push(PathBuf::from("../shared/data/loghub"));
    }
    let report = opsline_logmine::eval::evaluate_dirs(&dirs)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}
