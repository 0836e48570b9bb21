//! Prints, for every line of a log file, the timestamp, level, component, template id and
//! template text (tab separated), using the default configuration.
//!
//! `cargo run --release -p opsline-logmine --example dump_templates -- FILE`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: dump_templates FILE")?;
    let data = std::fs::read(&path)?;
    let mut miner = opsline_logmine::Miner::new(opsline_logmine::MinerConfig::default())?;
    let mut rows = Vec::new();
    for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let p = miner.ingest(line);
        rows.push((p.template_id, p.header));
    }
    eprintln!("header format: {:?}", miner.header_format());
    for (id, h) in rows {
        let text = miner.template(id).map(|t| t.text.to_string()).unwrap_or_default();
        println!(
            "{}\t{}\t{}\t{}\t{}",
            h.timestamp.unwrap_or_default(),
            h.level.unwrap_or_default(),
            h.component.unwrap_or_default(),
            id,
            text
        );
    }
    Ok(())
}
