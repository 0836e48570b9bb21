//! Lists, per data set, the ground-truth groups the default miner gets wrong: the truth template,
//! its line count, and the predicted templates of its lines (with counts and one sample line).
//!
//! `cargo run --release -p opsline-logmine --example eval_errors -- ../shared/data/loghub [NAME]`

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "../shared/data/loghub".into()));
    let only = args.next();
    let config = opsline_logmine::MinerConfig::default();
    for d in opsline_logmine::eval::find_datasets(&[dir])? {
        if only.as_deref().is_some_and(|o| o != d.name) {
            continue;
        }
        let labels = d.load()?.labels(&config)?;
        let mut pred_size: HashMap<&str, usize> = HashMap::new();
        for p in &labels.predicted {
            *pred_size.entry(p).or_default() += 1;
        }
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, t) in labels.truth.iter().enumerate() {
            groups.entry(t).or_default().push(i);
        }
        println!("== {}", d.name);
        for (truth, lines) in groups {
            let mut preds: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
            for &i in &lines {
                preds.entry(&labels.predicted[i]).or_insert((0, i)).0 += 1;
            }
            let grouped = preds.len() == 1
                && preds
                    .values()
                    .all(|(n, _)| pred_size.get(labels.predicted[lines[0]].as_str()) == Some(n));
            let text_ok = preds.len() == 1 && preds.contains_key(truth);
            if grouped && text_ok {
                continue;
            }
            println!(
                "T [{}] {}{}",
                lines.len(),
                truth,
                if grouped { "   (grouped, text differs)" } else { "" }
            );
            for (p, (n, sample)) in preds {
                println!("   P [{n}/{}] {p}", pred_size.get(p).copied().unwrap_or(0));
                println!("      e.g. {}", labels.lines[sample]);
            }
        }
    }
    Ok(())
}
