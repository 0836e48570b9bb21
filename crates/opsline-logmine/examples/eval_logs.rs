//! Evaluates the miner on LogHub 2k data sets.
//!
//! `cargo run --release -p opsline-logmine --example eval_logs -- ../shared/data/loghub [--json] [--leave-one-out]`
//!
//! `--leave-one-out` scores every data set with the settings chosen on the other data sets only
//! (the same report as `opsline eval logs --leave-one-out`).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut json = false;
    let mut loo = false;
    let mut dirs = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json = true,
            "--leave-one-out" => loo = true,
            _ => dirs.push(PathBuf::from(arg)),
        }
    }
    if dirs.is_empty() {
        dirs.push(PathBuf::from("../shared/data/loghub"));
    }
    if loo {
        let grid = opsline_logmine::eval::SettingGrid::default();
        let report = opsline_logmine::eval::leave_one_out(&dirs, &grid)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.render_text());
        }
        return Ok(());
    }
    let report = opsline_logmine::eval::evaluate_dirs(&dirs)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}
