//! Replays Loghub files through the log service's engine, in process.
//!
//! `cargo run --release -p opsline-logintel --example eval_alerts [DATA_DIR]`
//! (default `../shared/data/loghub`): the BGL labelled check (recall of the 143
//! labelled alert lines, alerts per line), then the noise reduction on every
//! 2k file.

use std::path::PathBuf;

use opsline_events::logs::LogOffset;
use opsline_logintel::{Engine, LineInput, LogintelConfig, labelled_check};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/loghub"));
    let bgl = dir.join("BGL/BGL_2k.log");
    println!("== labelled check: {}", bgl.display());
    println!("{}", labelled_check(&bgl)?);
    println!();
    println!(
        "{:<10} {:>6} {:>7} {:>10} {:>9}  by kind",
        "system", "lines", "alerts", "lines/alert", "incidents"
    );
    let config = LogintelConfig::default();
    let mut systems: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    systems.sort_by_key(|e| e.file_name());
    for entry in systems {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path().join(format!("{name}_2k.log"));
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let mut engine = Engine::new(config.engine_config())?;
        let mut alerts = Vec::new();
        let mut incidents = std::collections::BTreeSet::new();
        let mut lines = 0usize;
        for (index, line) in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).enumerate() {
            lines += 1;
            let evidence = LogOffset {
                topic: name.clone(),
                partition: 0,
                offset: index as i64,
            };
            let outputs = engine.ingest(&LineInput {
                service: &name,
                line,
                fallback_time: None,
                ingested_at: None,
                evidence,
                host: None,
            })?;
            incidents.extend(outputs.incidents.iter().map(|i| i.incident_id));
            alerts.extend(outputs.alerts);
        }
        let outputs = engine.finish();
        incidents.extend(outputs.incidents.iter().map(|i| i.incident_id));
        alerts.extend(outputs.alerts);
        let mut kinds = std::collections::BTreeMap::new();
        for alert in &alerts {
            *kinds.entry(format!("{:?}", alert.kind)).or_insert(0) += 1;
        }
        let per = if alerts.is_empty() {
            lines as f64
        } else {
            lines as f64 / alerts.len() as f64
        };
        println!(
            "{name:<10} {lines:>6} {:>7} {per:>10.1} {:>9}  {kinds:?}",
            alerts.len(),
            incidents.len()
        );
    }
    Ok(())
}
