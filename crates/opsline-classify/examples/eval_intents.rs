//! Evaluates the built-in chat intent classifier on a Rasa NLU YAML file.
//!
//! ```text
//! cargo run --release -p opsline-classify --example eval_intents -- [tests/data/intents.yml] [--json] [--errors]
//! ```

use std::process::ExitCode;

use opsline_classify::{IntentClassifier, evaluate_intents_with};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let show_errors = args.iter().any(|a| a == "--errors");
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "tests/data/intents.yml".to_string());
    let started = std::time::Instant::now();
    let classifier = match IntentClassifier::builtin() {
        Ok(classifier) => classifier,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let train_ms = started.elapsed().as_secs_f64() * 1000.0;
    if !json {
        println!(
            "built-in intent classifier trained in {train_ms:.1} ms ({} examples)",
            classifier.model().meta().n_rows
        );
    }
    match evaluate_intents_with(&classifier, &path) {
        Ok(report) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(error) => {
                        eprintln!("error: {error}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", report.render_text());
                if show_errors {
                    for (text, gold, predicted) in &report.errors {
                        println!("  {gold:>14} -> {predicted:<14} {text}");
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
