//! Runs the gateway's credential masking over log files and prints how many lines it changed
//! (with examples) and the rate in lines per second on one core:
//! `cargo run --release -p opsline-privacy --example mask_scan -- ../shared/data/loghub/*/*.log`.

use std::time::Instant;

use opsline_privacy::Redactor;

fn main() -> std::io::Result<()> {
    let redactor = Redactor::default();
    let (mut lines, mut masked, mut bytes) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path)?;
        for line in text.lines() {
            lines += 1;
            bytes += line.len();
            if let Some(out) = redactor.mask_credentials(line) {
                masked += 1;
                if masked <= 10 {
                    println!("{path}: {out}");
                }
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{lines} lines ({:.1} MB), {masked} masked, {:.0} lines/s, {:.1} MB/s",
        bytes as f64 / 1e6,
        lines as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
    Ok(())
}
