//! `opsline train tickets`: build the routing model from past tickets.

use opsline_classify::{TrainConfig, train_from_csv};

use crate::cli::{SplitArgs, TrainTicketsArgs};

/// Trains, saves and describes the model.
pub fn tickets(args: TrainTicketsArgs) -> anyhow::Result<()> {
    let config = TrainConfig {
        text_cols: args.text_cols,
        label_col: args.label_col,
        ..TrainConfig::default()
    };
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

/// Writes a deterministic train/test split of a CSV.
pub fn split(args: SplitArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out_dir)?;
    let stem = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".to_owned());
    let train = args.out_dir.join(format!("{stem}-train.csv"));
    let test = args.out_dir.join(format!("{stem}-test.csv"));
    let summary = opsline_classify::split_csv(&args.file, args.test_fraction, args.seed, &train, &test)?;
    println!(
        "{} rows -> {}\n{} rows -> {}",
        summary.train_rows,
        train.display(),
        summary.test_rows,
        test.display()
    );
    Ok(())
}
