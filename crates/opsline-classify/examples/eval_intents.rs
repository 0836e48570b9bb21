//! Evaluates the built-in chat intent classifier on a Rasa NLU YAML file.
//!
//! ```text
//! cargo run --release -p opsline-classify --example eval_intents -- [tests/data/intents.yml] [--json] [--errors]
//! ```

use std::process::ExitCode;

use opsline_classify::evaluate_intents;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let show_errors = args.iter().any(|a| a == "--errors");
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "tests/data/intents.yml".to_string());
    match evaluate_intents(&path) {
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
