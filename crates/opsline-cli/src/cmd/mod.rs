//! One module per command group; [`run`] dispatches.

mod bench;
mod bench_idle;
mod bench_idle_proc;
mod bench_pipeline;
mod bench_sources;
mod eval;
mod eval_llm;
mod ingest_key;
mod ops;
mod replay;
mod report;
mod run_file;
mod search;
mod token;
mod topics;
mod train;
mod up;

use crate::cli::{BenchCommand, Cli, Command, EvalCommand, ImportCommand, ReplayCommand, TokenCommand, TrainCommand};

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up(args) => up::run(args, cli.config.as_deref()).await,
        Command::Topics(args) => topics::run(args, cli.config.as_deref()).await,
        Command::Replay(ReplayCommand::Logs(args)) => replay::logs(args).await,
        Command::Replay(ReplayCommand::Tickets(args)) => replay::tickets(args).await,
        Command::Eval(EvalCommand::Logs(args)) => eval::logs(args),
        Command::Eval(EvalCommand::Tickets(args)) => eval::tickets(args),
        Command::Eval(EvalCommand::Intents(args)) => eval::intents(args),
        Command::Eval(EvalCommand::Alerts(args)) => eval::alerts(args),
        Command::Bench(BenchCommand::Idle(args)) => bench_idle::run(args, cli.config.as_deref()).await,
        Command::Eval(EvalCommand::Incidents(args)) => eval::incidents(args),
        Command::Eval(EvalCommand::Llm(args)) => eval_llm::run(args).await,
        Command::Bench(BenchCommand::Logs(args)) => bench::logs(args),
        Command::Bench(BenchCommand::Search(args)) => bench::search(args),
        Command::Bench(BenchCommand::Pipeline(args)) => bench_pipeline::run(args).await,
        Command::Bench(BenchCommand::Sources(args)) => bench_sources::run(args).await,
        Command::Train(TrainCommand::Tickets(args)) => train::tickets(args, cli.config.as_deref()).await,
        Command::Train(TrainCommand::Split(args)) => train::split(args),
        Command::Import(ImportCommand::Postmortems(args)) => search::import(args),
        Command::Search(args) => search::search(args).await,
        Command::Report(args) => report::run(args, cli.config.as_deref()).await,
        Command::Incidents(args) => ops::incidents(args, cli.config.as_deref()).await,
        Command::Alerts(args) => ops::alerts(args, cli.config.as_deref()).await,
        Command::Tickets(args) => ops::tickets(args, cli.config.as_deref()).await,
        Command::Token(TokenCommand::Create(args)) => token::create(args, cli.config.as_deref()),
    }
}

/// Prints `value` as pretty JSON.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints text as is.
fn print_text(text: &str) -> anyhow::Result<()> {
    print!("{text}");
    Ok(())
}
