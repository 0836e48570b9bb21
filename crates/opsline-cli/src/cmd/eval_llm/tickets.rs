//! The ticket-enrichment pass: real tickets through triage's own path (redaction, grounding
//! context, prompt, schema-checked answer, citation check), one after another.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use opsline_events::tickets::{RawTicket, RoutedTicket};
use opsline_privacy::{Redactor, RedactorConfig};
use opsline_triage::EnrichmentConfig;
use opsline_triage::enricher::{Enricher, EnrichmentJob};
use opsline_triage::grounding::{RecentTickets, Runbooks};
use opsline_triage::routing::redact_ticket;

use super::stats::JobResult;

/// The first `n` tickets of a CSV (or JSON Lines) file, as `opsline replay tickets` posts them.
pub fn read(file: &Path, n: usize) -> anyhow::Result<Vec<RawTicket>> {
    let values = crate::cmd::replay::read_tickets(file, &[], Some(n))?;
    values
        .into_iter()
        .map(|value| Ok(serde_json::from_value(value)?))
        .collect()
}

/// Redacts every ticket and makes its enrichment job (revision 1: the file's label as the
/// queue, the documented priority rules).
pub fn jobs(tickets: &[RawTicket]) -> Vec<EnrichmentJob> {
    let redactor = Redactor::new(RedactorConfig::default());
    tickets
        .iter()
        .map(|ticket| {
            let (session, subject, description) = redact_ticket(&redactor, ticket);
            let decided = opsline_triage::priority::priority(&format!("{subject} {description}"), None);
            let queue = ticket
                .attributes
                .get("source_label")
                .cloned()
                .unwrap_or_else(|| "human-triage".to_owned());
            EnrichmentJob {
                routed: RoutedTicket {
                    ticket_id: ticket.ticket_id.clone(),
                    revision: 1,
                    queue,
                    priority: decided.priority,
                    confidence: 1.0,
                    reason: format!("evaluation; priority {}", decided.rule),
                    incident_id: None,
                    summary: None,
                    suggested_reply: None,
                    citations: Vec::new(),
                    enrichment_model: None,
                },
                subject,
                description,
                session,
            }
        })
        .collect()
}

/// The enricher the triage service would build, with its runbook index and an empty ring of
/// recent tickets.
pub fn enricher(llm: opsline_llm::LlmGateway, runbooks: &Path) -> Enricher {
    let config = EnrichmentConfig::default();
    Enricher {
        llm,
        runbooks: Runbooks::load(Some(runbooks), config.runbook_tag()),
        recent: Arc::new(Mutex::new(RecentTickets::new(config.recent_tickets))),
        config,
    }
}

/// Enriches every job in order; each ticket is remembered first, as the processor does.
pub async fn run(enricher: &Enricher, jobs: &[EnrichmentJob]) -> Vec<JobResult> {
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        if let Ok(mut recent) = enricher.recent.lock() {
            recent.remember(&job.routed.ticket_id, &job.routed.queue, &job.subject, &job.description);
        }
        let started = Instant::now();
        let answer = enricher.enrich(job, None).await;
        let seconds = started.elapsed().as_secs_f64();
        let result = match answer {
            Ok(enriched) => JobResult {
                valid: true,
                grounded: enriched.kept == enriched.cited,
                kept: enriched.kept,
                dropped: enriched.cited - enriched.kept.min(enriched.cited),
                seconds,
            },
            Err(error) => {
                tracing::info!(ticket = %job.routed.ticket_id, %error, "no enrichment");
                JobResult {
                    seconds,
                    ..JobResult::default()
                }
            }
        };
        results.push(result);
    }
    results
}
