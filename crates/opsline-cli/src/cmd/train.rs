//! `opsline train tickets`: build the routing model from past tickets.

use opsline_classify::{TrainConfig, train_from_csv};

use crate::cli::TrainTicketsArgs;

/// Trains, saves and describes the model.
pub fn tickets(args: TrainTicketsArgs) -> anyhow::Result<()> {
    let config = TrainConfig { text_cols: args.text_cols, label_col: args.label_col, ..TrainConfig::default() };
    eprintln!("training on {} ...", args.file.display());
    let started = std::time::Instant::now();
    let model = train_from_csv(&args.file, &config)?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    model.save(&args.out)?;
    println!(
        "trained {} labels in {:.1}s; model written to {}",
        model.labels().len(),
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    println!("{}", serde_json::to_string_pretty(model.meta())?);
    Ok(())
}
