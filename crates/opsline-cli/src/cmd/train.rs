//! `opsline train tickets`: build the routing model from past tickets, and (with `--feedback`)
//! from the helpdesk's corrections of Opsline's routing.

use std::collections::BTreeMap;
use std::path::Path;

use opsline_classify::{TrainConfig, read_labeled_csv, train_on};
use opsline_events::tickets::{RawTicket, TicketFeedback};
use opsline_events::topics;

use crate::cli::{SplitArgs, TrainTicketsArgs};

/// Trains, saves and describes the model.
pub async fn tickets(args: TrainTicketsArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let config = TrainConfig {
        text_cols: args.text_cols.clone(),
        label_col: args.label_col.clone(),
        ..TrainConfig::default()
    };
    eprintln!("training on {} ...", args.file.display());
    let started = std::time::Instant::now();
    let mut data = read_labeled_csv(&args.file, &config.text_cols, &config.label_col)?;
    if args.feedback {
        let (kafka, names) = super::run_file::connect(&args.broker, config_file).await?;
        let feedback: Vec<TicketFeedback> = super::report::read(&kafka, &names.name(&topics::TICKETS_FEEDBACK)).await?;
        let raw: Vec<RawTicket> = super::report::read(&kafka, &names.name(&topics::RAW_TICKETS)).await?;
        let found = corrections(&feedback, &raw);
        eprintln!(
            "feedback: {} re-routes of {} tickets; {} added with the queue a person chose, {} without their text on {}",
            feedback.len(),
            found.tickets,
            found.rows.len(),
            found.missing_text,
            names.name(&topics::RAW_TICKETS)
        );
        for (text, label) in found.rows {
            data.texts.push(text);
            data.labels.push(label);
        }
    }
    let model = train_on(&data, &config)?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    model.save(&args.out)?;
    println!(
        "trained {} labels on {} rows in {:.1}s; model written to {}",
        model.labels().len(),
        data.texts.len(),
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    println!("{}", serde_json::to_string_pretty(model.meta())?);
    Ok(())
}

/// What the feedback topic adds to the training rows.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Corrections {
    /// `(text, queue a person chose)`, one per corrected ticket whose text is known.
    pub rows: Vec<(String, String)>,
    /// Tickets corrected.
    pub tickets: usize,
    /// Corrected tickets whose raw record is no longer on the topic (retention).
    pub missing_text: usize,
}

/// The latest correction of each ticket (highest revision, then latest time), with the ticket's
/// text as triage classifies it (subject, then description).
pub fn corrections(feedback: &[TicketFeedback], raw: &[RawTicket]) -> Corrections {
    let mut latest: BTreeMap<&str, &TicketFeedback> = BTreeMap::new();
    for correction in feedback {
        let newer = latest
            .get(correction.ticket_id.as_str())
            .is_none_or(|kept| (correction.revision, correction.at) >= (kept.revision, kept.at));
        if newer {
            latest.insert(&correction.ticket_id, correction);
        }
    }
    let texts: BTreeMap<&str, &RawTicket> = raw.iter().map(|t| (t.ticket_id.as_str(), t)).collect();
    let mut found = Corrections {
        tickets: latest.len(),
        ..Corrections::default()
    };
    for (id, correction) in latest {
        match texts.get(id) {
            Some(ticket) if !correction.to_queue.trim().is_empty() => found.rows.push((
                format!("{} {}", ticket.subject, ticket.description),
                correction.to_queue.clone(),
            )),
            Some(_) => {}
            None => found.missing_text += 1,
        }
    }
    found
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opsline_events::Event;

    use super::*;

    fn raw(id: &str, subject: &str) -> RawTicket {
        RawTicket {
            ticket_id: id.into(),
            subject: subject.into(),
            description: "details".into(),
            ..RawTicket::sample()
        }
    }

    fn moved(id: &str, to: &str, revision: u32) -> TicketFeedback {
        TicketFeedback {
            ticket_id: id.into(),
            to_queue: to.into(),
            revision,
            ..TicketFeedback::sample()
        }
    }

    #[test]
    fn the_latest_correction_of_each_ticket_is_added_with_its_text() {
        let found = corrections(
            &[
                moved("a", "Network", 2),
                moved("a", "Access", 3),
                moved("b", "Printing", 2),
                moved("gone", "Storage", 2),
            ],
            &[raw("a", "vpn drops"), raw("b", "toner empty"), raw("c", "unrelated")],
        );
        assert_eq!(
            found.rows,
            [
                ("vpn drops details".to_owned(), "Access".to_owned()),
                ("toner empty details".to_owned(), "Printing".to_owned())
            ]
        );
        assert_eq!((found.tickets, found.missing_text), (3, 1));
    }
}
