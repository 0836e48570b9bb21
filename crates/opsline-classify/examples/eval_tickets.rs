//! Trains and evaluates the ticket classifier on CSV files.
//!
//! ```text
//! cargo run --release -p opsline-classify --example eval_tickets -- \
//!     --train TRAIN.csv --test TEST.csv --text-col NAME[,NAME2] --label-col NAME \
//!     [--threshold 0.8] [--json] [--save MODEL.bin]
//! cargo run --release -p opsline-classify --example eval_tickets -- \
//!     --split IN.csv --out-train TRAIN.csv --out-test TEST.csv [--test-fraction 0.2] [--seed 7]
//! ```

use std::process::ExitCode;

use opsline_classify::{TrainConfig, evaluate_with_config, read_labeled_csv, split_csv, train};

#[derive(Default)]
struct Args {
    train: Option<String>,
    test: Option<String>,
    split: Option<String>,
    out_train: Option<String>,
    out_test: Option<String>,
    text_cols: Vec<String>,
    label_col: String,
    threshold: f32,
    test_fraction: f64,
    seed: u64,
    json: bool,
    save: Option<String>,
    config: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        threshold: 0.8,
        test_fraction: 0.2,
        seed: 7,
        ..Args::default()
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--train" => args.train = Some(value()?),
            "--test" => args.test = Some(value()?),
            "--split" => args.split = Some(value()?),
            "--out-train" => args.out_train = Some(value()?),
            "--out-test" => args.out_test = Some(value()?),
            "--text-col" => args.text_cols.extend(value()?.split(',').map(str::to_string)),
            "--label-col" => args.label_col = value()?,
            "--threshold" => args.threshold = value()?.parse().map_err(|e| format!("{e}"))?,
            "--test-fraction" => args.test_fraction = value()?.parse().map_err(|e| format!("{e}"))?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("{e}"))?,
            "--save" => args.save = Some(value()?),
            "--config" => args.config = Some(value()?),
            "--json" => args.json = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    if let Some(input) = &args.split {
        let (Some(out_train), Some(out_test)) = (&args.out_train, &args.out_test) else {
            return Err("--split needs --out-train and --out-test".into());
        };
        let summary = split_csv(input, args.test_fraction, args.seed, out_train, out_test)?;
        println!("{}", serde_json::to_string(&summary)?);
        return Ok(());
    }
    let (Some(train_csv), Some(test_csv)) = (&args.train, &args.test) else {
        return Err("need --train and --test (or --split)".into());
    };
    let mut config: TrainConfig = match &args.config {
        Some(json) => serde_json::from_str(json)?,
        None => TrainConfig::default(),
    };
    config.text_cols = args.text_cols.clone();
    config.label_col = args.label_col.clone();
    if let Some(model_path) = &args.save {
        let data = read_labeled_csv(train_csv, &config.text_cols, &config.label_col)?;
        train(&data.texts, &data.labels, &config)?.save(model_path)?;
    }
    let report = evaluate_with_config(train_csv, test_csv, &config, args.threshold)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
