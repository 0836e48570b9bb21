//! What `opsline up --demo` shows of the LLM part of the pipeline, after the routing report:
//! how long the first ticket summary took after the replay ended, the flow of summaries
//! after it, a few summaries with their suggested replies, the narratives of the drafted
//! postmortems, and what the calls cost and how long they took (`opsline report`'s table,
//! read from the LLM usage ledger).
//!
//! Everything here reads the topics; nothing waits on the services. The summaries keep
//! coming while `opsline up --stay` runs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opsline_events::ops::{LlmUsage, Postmortem};
use opsline_events::tickets::{RoutedTicket, TriagedTicket};
use opsline_events::{TopicNames, topics};
use opsline_kafka::KafkaConfig;

use crate::cmd::report;

/// How long the demo watches the flow of summaries once the first has arrived.
const FLOW_WINDOW: Duration = Duration::from_secs(60);
/// How often it prints the count while it watches.
const FLOW_TICK: Duration = Duration::from_secs(15);
/// Narratives the demo waits for before it prints them.
const NARRATIVES_SHOWN: usize = 2;

/// The latest enriched revision (2 or higher) of every ticket, by ticket id.
async fn enriched(kafka: &KafkaConfig, names: &TopicNames) -> anyhow::Result<BTreeMap<String, RoutedTicket>> {
    let mut latest = BTreeMap::new();
    for ticket in report::read::<RoutedTicket>(kafka, &names.name(&topics::TICKETS_ROUTED)).await? {
        if ticket.revision >= 2 {
            latest.insert(ticket.ticket_id.clone(), ticket);
        }
    }
    Ok(latest)
}

/// Prints the LLM part: waits up to `wait` after `replay_ended` for the first summary, then
/// watches the flow for a minute (or until all `tickets` have one).
pub async fn report(
    kafka: &KafkaConfig,
    names: &TopicNames,
    replay_ended: Instant,
    wait: Duration,
    tickets: usize,
) -> anyhow::Result<()> {
    println!(
        "\n== LLM summaries (asynchronous: tickets were routed at once; waiting up to {}s for the first summary)",
        wait.as_secs()
    );
    let deadline = replay_ended + wait;
    let mut done = enriched(kafka, names).await?;
    while done.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        done = enriched(kafka, names).await?;
    }
    if done.is_empty() {
        println!(
            "no summary within {}s of the replay's end (is the model running? `opsline report` shows its calls)",
            wait.as_secs()
        );
    } else {
        println!(
            "first summary {:.1}s after the replay ended",
            replay_ended.elapsed().as_secs_f64()
        );
        let watch_end = (Instant::now() + FLOW_WINDOW).min(deadline.max(Instant::now() + FLOW_TICK));
        let mut before = done.len();
        while Instant::now() < watch_end && done.len() < tickets {
            let tick = Instant::now();
            tokio::time::sleep(FLOW_TICK.saturating_sub(tick.elapsed())).await;
            done = enriched(kafka, names).await?;
            if done.len() == before {
                println!(
                    "  {:>5.0}s  {} of {tickets} tickets summarised: no more are queued (a burst beyond the task's budget is refused, see `opsline_llm_scheduler_dropped_total`); the narratives' turn",
                    replay_ended.elapsed().as_secs_f64(),
                    done.len()
                );
                break;
            }
            let per_minute = (done.len() - before.min(done.len())) as f64 * 60.0 / tick.elapsed().as_secs_f64();
            println!(
                "  {:>5.0}s  {} of {tickets} tickets summarised ({per_minute:.1} a minute)",
                replay_ended.elapsed().as_secs_f64(),
                done.len()
            );
            before = done.len();
        }
    }
    for ticket in done.values().take(3) {
        print_ticket(ticket);
    }
    narratives(kafka, names, deadline).await?;
    let usage: Vec<LlmUsage> = report::read(kafka, &names.name(&topics::LLM_USAGE)).await?;
    let routed: Vec<RoutedTicket> = done.into_values().collect();
    let triaged: Vec<TriagedTicket> = report::read(kafka, &names.name(&topics::TICKETS_TRIAGED)).await?;
    println!("\n== LLM calls, cost and latency so far (`opsline report` shows the same)");
    print!(
        "{}",
        report::render(&report::aggregate(&usage, &triaged, &routed, &[], 0.0))
    );
    println!("(the rest follow in the background while `opsline up --stay` runs)");
    Ok(())
}

fn print_ticket(ticket: &RoutedTicket) {
    println!(
        "\nticket {} -> {} ({:?}, model {})",
        ticket.ticket_id,
        ticket.queue,
        ticket.priority,
        ticket.enrichment_model.as_deref().unwrap_or("-")
    );
    println!("  summary:   {}", ticket.summary.as_deref().unwrap_or("-"));
    println!("  reply:     {}", ticket.suggested_reply.as_deref().unwrap_or("-"));
    let cited: Vec<&str> = ticket.citations.iter().map(|c| c.reference.as_str()).collect();
    println!("  citations: {cited:?}");
}

/// The latest revision of every drafted postmortem, by id.
async fn postmortems(kafka: &KafkaConfig, names: &TopicNames) -> anyhow::Result<BTreeMap<uuid::Uuid, Postmortem>> {
    let mut latest: BTreeMap<uuid::Uuid, Postmortem> = BTreeMap::new();
    for postmortem in report::read::<Postmortem>(kafka, &names.name(&topics::POSTMORTEMS)).await? {
        let newer = latest
            .get(&postmortem.postmortem_id)
            .is_none_or(|seen| postmortem.revision >= seen.revision);
        if newer {
            latest.insert(postmortem.postmortem_id, postmortem);
        }
    }
    Ok(latest)
}

/// The postmortems whose latest revision carries a model's narrative.
fn narrated(latest: &BTreeMap<uuid::Uuid, Postmortem>) -> Vec<&Postmortem> {
    latest.values().filter(|p| p.model != "none").collect()
}

/// Waits (until `deadline`) for the first [`NARRATIVES_SHOWN`] drafts with a model's narrative,
/// then prints the first lines of their summaries. Narratives come after the queued tickets.
async fn narratives(kafka: &KafkaConfig, names: &TopicNames, deadline: Instant) -> anyhow::Result<()> {
    println!("\n== postmortem narratives (after the queued ticket summaries; waiting for {NARRATIVES_SHOWN})");
    let started = Instant::now();
    let mut latest = postmortems(kafka, names).await?;
    let mut printed = Instant::now();
    while narrated(&latest).len() < NARRATIVES_SHOWN.min(latest.len()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        latest = postmortems(kafka, names).await?;
        if printed.elapsed() >= FLOW_TICK {
            println!(
                "  {:>5.0}s  {} of {} drafts narrated",
                started.elapsed().as_secs_f64(),
                narrated(&latest).len(),
                latest.len()
            );
            printed = Instant::now();
        }
    }
    let narrated = narrated(&latest);
    println!(
        "{} of {} drafts carry a model's narrative that passed the grounding check (the rest follow with --stay)",
        narrated.len(),
        latest.len()
    );
    for postmortem in narrated.iter().take(2) {
        println!(
            "\n{} (revision {}, {})",
            postmortem.title, postmortem.revision, postmortem.model
        );
        for line in section(&postmortem.markdown, "Summary").take(6) {
            println!("  {line}");
        }
    }
    Ok(())
}

/// The non-empty lines of the Markdown section `heading` (`## heading`).
fn section<'a>(markdown: &'a str, heading: &'a str) -> impl Iterator<Item = &'a str> {
    markdown
        .lines()
        .skip_while(move |line| line.trim_start_matches("## ") != heading || !line.starts_with("## "))
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| !line.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::section;

    #[test]
    fn section_reads_one_heading_up_to_the_next() {
        let markdown = "# T\n\n## Summary\n\nOne [T1].\nTwo.\n\n## Impact\n\nThree.\n";
        assert_eq!(section(markdown, "Summary").collect::<Vec<_>>(), ["One [T1].", "Two."]);
        assert_eq!(section(markdown, "Impact").collect::<Vec<_>>(), ["Three."]);
        assert_eq!(section(markdown, "Trigger").count(), 0);
    }
}
