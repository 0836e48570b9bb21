//! `opsline eval logs|tickets|intents|alerts|incidents`: quality measured on the data given, never hard-coded.

use crate::cli::{EvalAlertsArgs, EvalIncidentsArgs, EvalIntentsArgs, EvalLogsArgs, EvalTicketsArgs};

/// Log parsing accuracy per dataset and the mean; with `--leave-one-out`, each dataset scored
/// with the settings chosen on the others.
pub fn logs(args: EvalLogsArgs) -> anyhow::Result<()> {
    if args.leave_one_out {
        let grid = opsline_logmine::eval::SettingGrid::default();
        let report = opsline_logmine::eval::leave_one_out(&args.dirs, &grid)?;
        return if args.json {
            super::print_json(&report)
        } else {
            super::print_text(&report.render_text())
        };
    }
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

/// Alert recall on a labelled log, replayed in process through the log service's detector.
pub fn alerts(args: EvalAlertsArgs) -> anyhow::Result<()> {
    let report = opsline_logintel::labelled_check(&args.file)?;
    if !args.json {
        return super::print_text(&format!("{report}\n"));
    }
    super::print_json(&serde_json::json!({
        "lines": report.lines,
        "labelled_alert_lines": report.labelled_alert_lines,
        "covered_alert_lines": report.covered_alert_lines,
        "recall": report.recall(),
        "alerts": report.alerts,
        "alerts_per_line": report.alerts_per_line(),
        "cited_precision": report.cited_precision(),
        "alerts_by_kind": report.alerts_by_kind,
        "suppressed": report.suppressed,
        "incidents": report.incidents,
    }))
}

/// Alerts, incidents, severities, postmortems and detection delay per replayed LogHub file.
pub fn incidents(args: EvalIncidentsArgs) -> anyhow::Result<()> {
    let report = opsline_logintel::evaluation::evaluate_paths(&args.paths)?;
    if args.json {
        super::print_json(&report)
    } else {
        super::print_text(&report.render_text())
    }
}
