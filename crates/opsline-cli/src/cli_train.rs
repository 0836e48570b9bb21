//! Command-line definitions of `opsline train` (clap): the routing model from past tickets
//! (and the helpdesk's corrections), and deterministic train/test splits.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli_ops::BrokerTarget;

/// `opsline train ...`.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Train the ticket routing model from a CSV of past tickets.
    Tickets(TrainTicketsArgs),
    /// Split a CSV into deterministic train and test files (by a seeded hash of each row).
    Split(SplitArgs),
}

/// `opsline train split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// CSV file with a header row.
    pub file: PathBuf,
    /// Share of rows that go to the test file.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Seed of the row hash.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Folder for <stem>-train.csv and <stem>-test.csv.
    #[arg(long, default_value = ".opsline/split")]
    pub out_dir: PathBuf,
}

/// `opsline train tickets`.
#[derive(Debug, Args)]
pub struct TrainTicketsArgs {
    /// CSV of past tickets.
    pub file: PathBuf,
    /// Text column(s), joined in order (repeat or separate with commas); default: every column but the label.
    #[arg(long = "text-col", value_delimiter = ',')]
    pub text_cols: Vec<String>,
    /// Label column; default: the last column.
    #[arg(long = "label-col", default_value = "")]
    pub label_col: String,
    /// Where to write the model.
    #[arg(long, default_value = ".opsline/models/tickets.model")]
    pub out: PathBuf,
    /// Also learn from people's re-routes: every ticket the helpdesk moved to another queue (in
    /// the console or in its own tool, read from opsline.tickets.feedback.v1) is added with the
    /// queue a person chose, its text from opsline.tickets.raw.v1.
    #[arg(long)]
    pub feedback: bool,
    /// Which broker and topics --feedback reads.
    #[command(flatten)]
    pub broker: BrokerTarget,
}
