//! `opsline eval logs|tickets|intents`: quality measured on the data given, never hard-coded.

use crate::cli::{EvalIntentsArgs, EvalLogsArgs, EvalTicketsArgs};

/// Log parsing accuracy per dataset and the mean.
pub fn logs(args: EvalLogsArgs) -> anyhow::Result<()> {
    let report = opsline_logmine::eval::evaluate_dirs(&args.dirs)?;
    if args.json {
        super::print_json(&report)
    } else {
        super::print_text(&report.render_text())
    }
}

/// Ticket routing accuracy, coverage at the review threshold, throughput.
pub fn tickets(args: EvalTicketsArgs) -> anyhow::Result<()> {
    let report = opsline_classify::evaluate(
        &args.train,
        &args.test,
        &args.text_cols,
        &args.label_col,
        args.threshold,
    )?;
    if args.json {
        super::print_json(&report)
    } else {
        super::print_text(&report.render_text())
    }
}

/// Intent accuracy, per-intent precision/recall and the confusion matrix.
pub fn intents(args: EvalIntentsArgs) -> anyhow::Result<()> {
    let report = opsline_classify::evaluate_intents(&args.file)?;
    if args.json {
        super::print_json(&report)
    } else {
        super::print_text(&report.render_text())
    }
}
