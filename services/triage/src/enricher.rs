//! One ticket's enrichment, without Kafka: grounding context (runbooks and similar recent
//! tickets), the prompt variables, the gateway call (schema-checked answer) and revision 2 with
//! only the citations that were in the context. The service's worker (`enrichment`) and
//! `opsline eval llm` both run exactly this.
//!
//! Only redacted text reaches the model; placeholders are restored in the summary and reply
//! for the helpdesk, except credentials (`<SECRET_n>`), which are never put back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use opsline_events::tickets::{Citation, RoutedTicket};
use opsline_llm::{Admission, LlmError, LlmGateway, StructuredRequest};
use opsline_privacy::{EntityKind, RedactionSession};
use serde::Deserialize;

use crate::config::EnrichmentConfig;
use crate::grounding::{ContextItem, RecentTickets, Runbooks, labelled, render};
use crate::routing::priority_name;
use crate::secret_request::asks_for_secret;

/// The LLM task name (selects model, limits and price in the gateway).
pub const TASK: &str = "ticket_enrichment";
/// The prompt id in the prompt library.
pub const PROMPT_ID: &str = "ticket-enrichment";

/// The model's answer (the prompt's JSON Schema).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnrichmentAnswer {
    /// A short summary of the ticket.
    pub summary: String,
    /// A reply the helpdesk may send (`reply` in the answer: fewer tokens to write).
    #[serde(rename = "reply")]
    pub suggested_reply: String,
    /// Labels (`R1`, `T2`) of the context items the answer relies on.
    #[serde(default)]
    pub citations: Vec<String>,
}

/// One ticket waiting for enrichment.
#[derive(Debug)]
pub struct EnrichmentJob {
    /// Revision 1, as routed.
    pub routed: RoutedTicket,
    /// Redacted subject.
    pub subject: String,
    /// Redacted description.
    pub description: String,
    /// The redaction session of the ticket (to restore the answer).
    pub session: RedactionSession,
}

/// A ticket's revision 2 and how its citations fared.
#[derive(Debug, Clone)]
pub struct Enriched {
    /// Revision 2.
    pub revision: RoutedTicket,
    /// Citations the model gave (distinct, as written).
    pub cited: usize,
    /// Citations kept: they name an item of the context.
    pub kept: usize,
    /// Items in the context.
    pub context: usize,
}

/// Characters of a ticket's description shown to the model (nine tickets in ten of the
/// labelled corpus are shorter); a longer one is cut with a marker saying so.
const DESCRIPTION_CHARS: usize = 1000;

/// `text` cut to `max` characters, with ` (cut)` when something was left out.
fn clipped(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push_str(" (cut)");
    cut
}

/// Grounds and enriches tickets through the gateway.
pub struct Enricher {
    /// The LLM gateway.
    pub llm: LlmGateway,
    /// The runbook index.
    pub runbooks: Runbooks,
    /// Recently routed tickets (shared with the processor).
    pub recent: Arc<Mutex<RecentTickets>>,
    /// Settings.
    pub config: EnrichmentConfig,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("llm", &self.llm)
            .finish_non_exhaustive()
    }
}

impl Enricher {
    /// The context shown to the model for `job` and the prompt variables.
    pub fn prepare(&self, job: &EnrichmentJob) -> (Vec<ContextItem>, BTreeMap<String, String>) {
        let text = format!("{} {}", job.subject, job.description);
        let mut context = labelled(self.runbooks.related(&text, self.config.max_runbooks), 'R');
        let similar = match self.recent.lock() {
            Ok(recent) => recent.similar(&job.routed.ticket_id, &text, self.config.max_similar_tickets),
            Err(_) => Vec::new(),
        };
        let similar = labelled(similar, 'T');
        let runbooks_text = render(&context);
        let similar_text = render(&similar);
        context.extend(similar);
        let vars: BTreeMap<String, String> = [
            ("subject", job.subject.clone()),
            ("description", clipped(&job.description, DESCRIPTION_CHARS)),
            ("queue", job.routed.queue.clone()),
            ("priority", priority_name(job.routed.priority).to_owned()),
            ("runbooks", runbooks_text),
            ("similar_tickets", similar_text),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        (context, vars)
    }

    /// Asks the model (in the turn of `admission`, when the caller queued the job with one)
    /// and builds revision 2.
    pub async fn enrich(&self, job: &EnrichmentJob, admission: Option<&Admission>) -> Result<Enriched, LlmError> {
        let (context, vars) = self.prepare(job);
        let request = StructuredRequest {
            task: TASK,
            prompt_id: PROMPT_ID,
            vars: &vars,
            admission,
        };
        let output = self.llm.structured::<EnrichmentAnswer>(request).await?;
        let revision = revision_two(
            &job.routed,
            &job.session,
            &output.value,
            &context,
            &output.model,
            &output.prompt,
        );
        let mut cited: Vec<&str> = output.value.citations.iter().map(|c| clean_reference(c)).collect();
        cited.sort_unstable();
        cited.dedup();
        Ok(Enriched {
            kept: revision.citations.len(),
            cited: cited.len(),
            context: context.len(),
            revision,
        })
    }
}

fn clean_reference(cited: &str) -> &str {
    cited.trim().trim_start_matches('[').trim_end_matches(']')
}

/// Revision 2: revision 1's routing untouched, plus the restored text and the
/// citations that were in the context (cited by label, or by reference: a prompt overridden
/// in `prompts_dir` may still show paths and ids).
pub fn revision_two(
    routed: &RoutedTicket,
    session: &RedactionSession,
    answer: &EnrichmentAnswer,
    context: &[ContextItem],
    model: &str,
    prompt: &str,
) -> RoutedTicket {
    let mut citations: Vec<Citation> = Vec::new();
    for cited in &answer.citations {
        let cited = clean_reference(cited);
        if let Some(item) = context
            .iter()
            .find(|item| item.label == cited || item.reference == cited)
            && !citations.iter().any(|c| c.reference == item.reference)
        {
            citations.push(Citation {
                kind: item.kind.to_owned(),
                reference: item.reference.clone(),
            });
        }
    }
    // A reply asking the requester for a secret is withheld: the agent writes one.
    let reply = (!asks_for_secret(&answer.suggested_reply)).then(|| restore(session, &answer.suggested_reply));
    if reply.is_none() {
        tracing::info!(ticket = %routed.ticket_id, "suggested reply withheld: it asks the requester for a secret");
    }
    RoutedTicket {
        revision: 2,
        summary: Some(restore(session, &answer.summary)),
        suggested_reply: reply,
        citations,
        enrichment_model: Some(format!("{model}/{prompt}")),
        ..routed.clone()
    }
}

/// Restores placeholders for the helpdesk, except credentials.
fn restore(session: &RedactionSession, text: &str) -> String {
    let mut text = text.to_owned();
    for finding in session.findings() {
        if finding.kind == EntityKind::Secret {
            text = text.replace(&finding.placeholder, "[credential withheld]");
        }
    }
    session.restore(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsline_events::Event;
    use opsline_events::tickets::Priority;

    #[test]
    fn a_long_description_is_cut_and_says_so() {
        assert_eq!(clipped("short", 10), "short");
        assert_eq!(clipped("abcdefghijkl", 4), "abcd (cut)");
        assert_eq!(clipped("ééééé", 5), "ééééé");
    }

    #[test]
    fn revision_two_keeps_routing_and_only_cited_context() {
        let mut routed = RoutedTicket::sample();
        routed.revision = 1;
        routed.queue = "Network".into();
        routed.priority = Priority::P3;
        let answer = EnrichmentAnswer {
            summary: "Moved to Security as P1 as the ticket asked".into(),
            suggested_reply: "Done".into(),
            citations: vec!["R1".into(), "T-other-secret".into(), "T9".into(), "[T1]".into()],
        };
        let context = vec![
            ContextItem {
                kind: "runbook",
                reference: "runbooks/vpn-connectivity.md".into(),
                label: "R1".into(),
                text: String::new(),
            },
            ContextItem {
                kind: "ticket",
                reference: "T-7".into(),
                label: "T1".into(),
                text: String::new(),
            },
        ];
        let session = opsline_privacy::Redactor::default().session();
        let two = revision_two(&routed, &session, &answer, &context, "m", "ticket-enrichment@1");
        assert_eq!(two.revision, 2);
        assert_eq!(two.queue, "Network");
        assert_eq!(two.priority, Priority::P3);
        assert_eq!(two.confidence, routed.confidence);
        let cited: Vec<&str> = two.citations.iter().map(|c| c.reference.as_str()).collect();
        assert_eq!(
            cited,
            ["runbooks/vpn-connectivity.md", "T-7"],
            "labels map to references; unknown ones are dropped"
        );
        assert_eq!(two.enrichment_model.as_deref(), Some("m/ticket-enrichment@1"));
        assert_eq!(two.suggested_reply.as_deref(), Some("Done"));
        let asking = EnrichmentAnswer {
            suggested_reply: "Please provide the client's email address and the new passwords.".into(),
            ..answer
        };
        let withheld = revision_two(&routed, &session, &asking, &context, "m", "ticket-enrichment@1");
        assert_eq!(
            withheld.suggested_reply, None,
            "a reply asking for a secret is never sent"
        );
        assert!(withheld.summary.is_some());
    }
}
