//! The automation's figures per use case (LLM calls, cache hit rate, latency p50/p95, tokens,
//! cost, tickets handled, self-service deflection and savings), aggregated from the LLM usage
//! ledger, triaged and routed tickets and self-service audit events. One aggregation for both
//! `opsline report` (which reads the topics whole) and the console's insights (its bounded views).
//!
//! Use cases: `ticket_enrichment` (triage: tickets handled, auto-routed share and
//! the enrichment calls), `self_service` (chat and self-service: completed
//! actions, i.e. a password reset or account unlock done or a ticket or service
//! status answered, plus the tickets triage handed over), `postmortem`, and any
//! other LLM task under its own name. Estimated savings are the deflected tickets
//! (completed actions) times `cost_per_ticket` (or the `cost_saved` the
//! self-service service reported, when it is larger).
//!
//! Self-service audit events that are not a completed action (one-time-code
//! challenges, refusals by self-service or by the gateway, failures) are shown as
//! their own numbers ([`SelfServiceOutcomes`]) and never count as handled or
//! deflected. Every audit event counts once, by `action_id` (replays repeat ids).

use std::collections::{BTreeMap, BTreeSet};

use opsline_events::ops::llm_outcome::NEVER_SENT;
use opsline_events::ops::{LlmUsage, SelfServiceAction};
use opsline_events::tickets::{Disposition, RoutedTicket, TriagedTicket};
use serde::{Deserialize, Serialize};

/// One row of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UseCaseReport {
    /// `ticket_enrichment`, `self_service`, `postmortem` or another LLM task.
    pub use_case: String,
    /// Tickets (or requests) the use case handled.
    pub tickets_handled: u64,
    /// LLM calls, cached ones included (jobs dropped before they were sent are not calls).
    pub llm_calls: u64,
    /// Calls answered from the response cache.
    pub cache_hits: u64,
    /// `cache_hits / llm_calls` (0 without calls).
    pub cache_hit_rate: f64,
    /// Prompt plus completion tokens.
    pub tokens: u64,
    /// Estimated LLM cost from the gateway's price table.
    pub llm_cost: f64,
    /// Median wall time of the calls the model answered (cache hits excluded), in ms, from the
    /// request to the answer: the wait in the LLM scheduler is included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p50_ms: Option<u64>,
    /// 95th percentile of the same, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p95_ms: Option<u64>,
    /// Share of triaged tickets routed without a person (triage only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_routed_share: Option<f64>,
    /// Tickets that never reached a person (succeeded self-service actions).
    pub deflected: u64,
    /// Estimated helpdesk cost saved.
    pub estimated_savings: f64,
}

/// Self-service audit events by outcome, each `action_id` counted once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfServiceOutcomes {
    /// Completed actions: a password reset or account unlock done, a ticket or service status answered.
    pub completed: u64,
    /// One-time-code challenges sent (a reset or unlock waiting for its code; not yet done).
    pub challenged: u64,
    /// Refused by self-service (another account, rate limit, wrong or expired code, unsafe request...).
    pub refused: u64,
    /// Refused by the gateway before a user was verified (bad signature, replay, overload).
    pub refused_at_gateway: u64,
    /// Attempted but not completed (directory error, answer undeliverable).
    pub failed: u64,
    /// Any other action or outcome.
    pub other: u64,
}

/// Actions whose `succeeded` outcome resolves a request without a ticket.
const COMPLETABLE_ACTIONS: [&str; 4] = ["password_reset", "account_unlock", "ticket_status", "service_status"];

impl SelfServiceOutcomes {
    /// Whether `action` is a completed action (it earns the deflection credit).
    pub fn is_completed(action: &SelfServiceAction) -> bool {
        action.outcome == "succeeded" && COMPLETABLE_ACTIONS.contains(&action.action.as_str())
    }

    /// Whether `action` is the gateway's refusal of an unverified chat request.
    fn is_gateway_refusal(action: &SelfServiceAction) -> bool {
        action.outcome == "refused" && action.action == "chat_request" && action.user_id == "unverified"
    }

    fn count(&mut self, action: &SelfServiceAction) {
        let bucket = if Self::is_completed(action) {
            &mut self.completed
        } else if Self::is_gateway_refusal(action) {
            &mut self.refused_at_gateway
        } else {
            match action.outcome.as_str() {
                "challenged" => &mut self.challenged,
                "refused" => &mut self.refused,
                "failed" => &mut self.failed,
                _ => &mut self.other,
            }
        };
        *bucket += 1;
    }
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// One row per use case.
    pub use_cases: Vec<UseCaseReport>,
    /// Tickets triaged in total.
    pub tickets_triaged: u64,
    /// Triaged tickets by disposition.
    pub dispositions: BTreeMap<String, u64>,
    /// Total estimated LLM cost.
    pub total_llm_cost: f64,
    /// Total estimated savings.
    pub total_savings: f64,
    /// Self-service audit events by outcome (absent without any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_service_outcomes: Option<SelfServiceOutcomes>,
}

fn use_case_of(task: &str) -> String {
    if task.starts_with("postmortem") {
        "postmortem".to_owned()
    } else if task.starts_with("chat") || task.starts_with("selfservice") || task.starts_with("self_service") {
        "self_service".to_owned()
    } else {
        task.to_owned()
    }
}

fn disposition_name(disposition: Disposition) -> &'static str {
    match disposition {
        Disposition::AutoRouted => "auto_routed",
        Disposition::HumanReview => "human_review",
        Disposition::SelfService => "self_service",
    }
}

/// Aggregates the events into the report (replayed tickets count once, by id).
pub fn aggregate(
    usage: &[LlmUsage],
    triaged: &[TriagedTicket],
    routed: &[RoutedTicket],
    actions: &[SelfServiceAction],
    cost_per_ticket: f64,
) -> Report {
    let mut rows: BTreeMap<String, UseCaseReport> = BTreeMap::new();
    let mut latencies: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let row = |rows: &mut BTreeMap<String, UseCaseReport>, name: &str| {
        rows.entry(name.to_owned())
            .or_insert_with(|| UseCaseReport {
                use_case: name.to_owned(),
                ..UseCaseReport::default()
            })
            .clone()
    };
    // A job dropped before it was sent (stale, or the circuit open) leaves a usage record but
    // made no call: it is not one.
    for call in usage.iter().filter(|c| !NEVER_SENT.contains(&c.outcome.as_str())) {
        let name = use_case_of(&call.task);
        let mut r = row(&mut rows, &name);
        r.llm_calls += 1;
        r.cache_hits += u64::from(call.cache_hit);
        r.tokens += u64::from(call.prompt_tokens) + u64::from(call.completion_tokens);
        r.llm_cost += call.cost;
        if !call.cache_hit && call.outcome == "ok" {
            latencies.entry(name.clone()).or_default().push(call.latency_ms);
        }
        rows.insert(name, r);
    }

    // The latest triage decision per ticket.
    let mut latest: BTreeMap<&str, Disposition> = BTreeMap::new();
    for ticket in triaged {
        latest.insert(ticket.ticket_id.as_str(), ticket.disposition);
    }
    let mut dispositions: BTreeMap<String, u64> = BTreeMap::new();
    for disposition in latest.values() {
        *dispositions
            .entry(disposition_name(*disposition).to_owned())
            .or_default() += 1;
    }
    let routed_ids: BTreeSet<&str> = routed.iter().map(|r| r.ticket_id.as_str()).collect();
    let handled = routed_ids.len().max(latest.len()) as u64;
    if handled > 0 || rows.contains_key("ticket_enrichment") {
        let mut r = row(&mut rows, "ticket_enrichment");
        r.tickets_handled = handled;
        let auto = dispositions.get("auto_routed").copied().unwrap_or(0);
        let decided = latest.len() as u64;
        r.auto_routed_share = (decided > 0).then(|| auto as f64 / decided as f64);
        rows.insert("ticket_enrichment".to_owned(), r);
    }

    // Each audit event once (a replay repeats its action_id).
    let unique: BTreeMap<uuid::Uuid, &SelfServiceAction> = actions.iter().map(|a| (a.action_id, a)).collect();
    let mut outcomes = SelfServiceOutcomes::default();
    for action in unique.values() {
        outcomes.count(action);
    }
    let handed_over = dispositions.get("self_service").copied().unwrap_or(0);
    if !actions.is_empty() || handed_over > 0 || rows.contains_key("self_service") {
        let mut r = row(&mut rows, "self_service");
        r.tickets_handled = outcomes.completed + handed_over;
        r.deflected = outcomes.completed;
        let reported: f64 = unique
            .values()
            .filter(|a| SelfServiceOutcomes::is_completed(a))
            .map(|a| a.cost_saved)
            // From +0.0: an empty `sum` of floats is -0.0, printed "-0.00".
            .fold(0.0, |total, saved| total + saved);
        r.estimated_savings = reported.max(r.deflected as f64 * cost_per_ticket);
        rows.insert("self_service".to_owned(), r);
    }

    let mut use_cases: Vec<UseCaseReport> = rows.into_values().collect();
    for r in &mut use_cases {
        if let Some(mut answered) = latencies.remove(&r.use_case) {
            answered.sort_unstable();
            r.latency_p50_ms = percentile(&answered, 0.50);
            r.latency_p95_ms = percentile(&answered, 0.95);
        }
        r.cache_hit_rate = if r.llm_calls > 0 {
            r.cache_hits as f64 / r.llm_calls as f64
        } else {
            0.0
        };
    }
    Report {
        tickets_triaged: latest.len() as u64,
        dispositions,
        total_llm_cost: use_cases.iter().map(|r| r.llm_cost).sum(),
        total_savings: use_cases.iter().map(|r| r.estimated_savings).sum(),
        use_cases,
        self_service_outcomes: (!unique.is_empty()).then_some(outcomes),
    }
}

/// The `q` quantile (nearest rank) of sorted values.
fn percentile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use opsline_events::Event;

    use super::*;

    fn usage(task: &str, cache_hit: bool, cost: f64) -> LlmUsage {
        LlmUsage {
            task: task.into(),
            cache_hit,
            cost,
            prompt_tokens: 100,
            completion_tokens: 20,
            cached_tokens: 0,
            ..LlmUsage::sample()
        }
    }

    fn triaged(id: &str, disposition: Disposition) -> TriagedTicket {
        TriagedTicket {
            ticket_id: id.into(),
            disposition,
            ..TriagedTicket::sample()
        }
    }

    fn action(outcome: &str, cost_saved: f64) -> SelfServiceAction {
        SelfServiceAction {
            action_id: uuid::Uuid::now_v7(),
            outcome: outcome.into(),
            cost_saved,
            ..SelfServiceAction::sample()
        }
    }

    #[test]
    fn latency_counts_only_calls_the_model_answered() {
        let timed = |latency_ms: u64, cache_hit: bool, outcome: &str| LlmUsage {
            latency_ms,
            outcome: outcome.into(),
            ..usage("ticket_enrichment", cache_hit, 0.0)
        };
        let mut calls: Vec<LlmUsage> = (1..=20).map(|s| timed(s * 1000, false, "ok")).collect();
        calls.push(timed(1, true, "ok"));
        calls.push(timed(900_000, false, "error"));
        let report = aggregate(&calls, &[], &[], &[], 0.0);
        let row = &report.use_cases[0];
        assert_eq!(row.llm_calls, 22);
        assert_eq!(row.latency_p50_ms, Some(10_000));
        assert_eq!(row.latency_p95_ms, Some(19_000));

        let cached_only = aggregate(&[timed(5, true, "ok")], &[], &[], &[], 0.0);
        assert_eq!(cached_only.use_cases[0].latency_p50_ms, None);

        // A narrative whose draft was redrafted while it waited was never sent: not a call.
        calls.push(timed(120_000, false, "stale"));
        calls.push(timed(0, false, "circuit_open"));
        assert_eq!(aggregate(&calls, &[], &[], &[], 0.0).use_cases[0].llm_calls, 22);
    }

    #[test]
    fn aggregates_per_use_case() {
        let usage = vec![
            usage("ticket_enrichment", false, 0.01),
            usage("ticket_enrichment", true, 0.0),
            usage("postmortem_draft", false, 0.02),
            usage("chat_reply", false, 0.005),
        ];
        let triaged = vec![
            triaged("T-1", Disposition::AutoRouted),
            triaged("T-2", Disposition::HumanReview),
            triaged("T-3", Disposition::SelfService),
            // A replay of T-1 counts once.
            triaged("T-1", Disposition::AutoRouted),
            triaged("T-4", Disposition::AutoRouted),
        ];
        let routed: Vec<RoutedTicket> = ["T-1", "T-2", "T-3", "T-4"]
            .iter()
            .map(|id| RoutedTicket {
                ticket_id: (*id).into(),
                ..RoutedTicket::sample()
            })
            .collect();
        let actions = vec![
            action("succeeded", 0.0),
            action("succeeded", 0.0),
            action("refused", 0.0),
        ];
        let report = aggregate(&usage, &triaged, &routed, &actions, 20.0);

        let row = |name: &str| report.use_cases.iter().find(|r| r.use_case == name).unwrap();
        let triage = row("ticket_enrichment");
        assert_eq!(triage.tickets_handled, 4);
        assert_eq!(triage.llm_calls, 2);
        assert_eq!(triage.cache_hits, 1);
        assert!((triage.cache_hit_rate - 0.5).abs() < 1e-9);
        assert_eq!(triage.tokens, 240);
        assert!((triage.auto_routed_share.unwrap() - 0.5).abs() < 1e-9);
        let selfservice = row("self_service");
        assert_eq!(selfservice.deflected, 2);
        assert_eq!(selfservice.llm_calls, 1);
        assert_eq!(
            selfservice.tickets_handled, 3,
            "2 completed actions + 1 ticket handed over by triage; the refusal is not handled"
        );
        assert!((selfservice.estimated_savings - 40.0).abs() < 1e-9);
        assert_eq!(row("postmortem").llm_calls, 1);
        assert_eq!(report.tickets_triaged, 4);
        assert_eq!(report.dispositions["auto_routed"], 2);
        assert!((report.total_llm_cost - 0.035).abs() < 1e-9);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["use_cases"][0]["use_case"], "postmortem");
    }

    /// Audit events as the gateway and self-service write them (one JSON envelope per line):
    /// a gateway refusal, a reset challenged, a wrong code, the reset done (and its replay),
    /// a ticket status, a refused unlock of another account, a prompt injection, a reset whose
    /// answer could not be delivered, and a service status.
    const RECORDED_AUDIT: &str = r#"
{"id":"019aafb0-0000-7000-8000-000000000001","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:00:00Z","source":"gateway","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a1","user_id":"unverified","action":"chat_request","outcome":"refused","reason":"bad_signature: signature does not match (slack)","handling_ms":1,"cost_saved":0.0}}
{"id":"019aafb0-0000-7000-8000-000000000002","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:00:01Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a2","user_id":"U1","action":"password_reset","outcome":"challenged","reason":"one-time code sent to the registered e-mail","target":"uid=u1,ou=people,dc=example,dc=org","handling_ms":40,"cost_saved":0.0}}
{"id":"019aafb0-0000-7000-8000-000000000003","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:00:20Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a3","user_id":"U1","action":"password_reset","outcome":"refused","reason":"wrong_code","handling_ms":2,"cost_saved":0.0}}
{"id":"019aafb0-0000-7000-8000-000000000004","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:00:40Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a4","user_id":"U1","action":"password_reset","outcome":"succeeded","target":"uid=u1,ou=people,dc=example,dc=org","handling_ms":120,"cost_saved":22.0}}
{"id":"019aafb0-0000-7000-8000-000000000005","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:00:41Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a4","user_id":"U1","action":"password_reset","outcome":"succeeded","target":"uid=u1,ou=people,dc=example,dc=org","handling_ms":120,"cost_saved":22.0}}
{"id":"019aafb0-0000-7000-8000-000000000006","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:01:00Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a6","user_id":"U2","action":"ticket_status","outcome":"succeeded","handling_ms":15,"cost_saved":22.0}}
{"id":"019aafb0-0000-7000-8000-000000000007","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:02:00Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a7","user_id":"U3","action":"password_reset","outcome":"refused","reason":"other_account","handling_ms":3,"cost_saved":0.0}}
{"id":"019aafb0-0000-7000-8000-000000000008","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:03:00Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a8","user_id":"U4","action":"chat_request","outcome":"refused","reason":"prompt_injection","handling_ms":2,"cost_saved":0.0}}
{"id":"019aafb0-0000-7000-8000-000000000009","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:04:00Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000a9","user_id":"U5","action":"account_unlock","outcome":"failed","reason":"reply undeliverable: unreachable","target":"uid=u5,ou=people,dc=example,dc=org","handling_ms":900,"cost_saved":0.0}}
{"id":"019aafb0-0000-7000-8000-00000000000a","type":"selfservice.action","schema_version":1,"occurred_at":"2026-11-23T08:05:00Z","source":"selfservice","data":{"action_id":"019aafb0-0000-7000-8000-0000000000aa","user_id":"U6","action":"service_status","outcome":"succeeded","handling_ms":9,"cost_saved":22.0}}
"#;

    #[test]
    fn only_completed_actions_count_as_handled_and_deflected() {
        let actions: Vec<SelfServiceAction> = RECORDED_AUDIT
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                opsline_events::Envelope::<SelfServiceAction>::from_json(line.as_bytes())
                    .unwrap()
                    .data
            })
            .collect();
        assert_eq!(actions.len(), 10);
        let report = aggregate(&[], &[], &[], &actions, 20.0);
        let outcomes = report.self_service_outcomes.unwrap();
        assert_eq!(
            outcomes,
            SelfServiceOutcomes {
                completed: 3,
                challenged: 1,
                refused: 3,
                refused_at_gateway: 1,
                failed: 1,
                other: 0,
            }
        );
        let row = report.use_cases.iter().find(|r| r.use_case == "self_service").unwrap();
        assert_eq!(
            row.tickets_handled, 3,
            "the reset (once despite its replay), the two status answers"
        );
        assert_eq!(row.deflected, 3);
        assert!((row.estimated_savings - 66.0).abs() < 1e-9, "{}", row.estimated_savings);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["self_service_outcomes"]["challenged"], 1);
    }

    #[test]
    fn reported_savings_win_when_larger() {
        let report = aggregate(&[], &[], &[], &[action("succeeded", 50.0)], 20.0);
        assert!((report.total_savings - 50.0).abs() < 1e-9);
        assert!(report.use_cases.iter().all(|r| r.use_case != "ticket_enrichment"));
    }

    #[test]
    fn no_savings_print_as_zero_not_minus_zero() {
        // Tickets handed to self-service, no completed action yet (`opsline report` printed -0.00).
        let report = aggregate(&[], &[triaged("T-1", Disposition::SelfService)], &[], &[], 15.0);
        let row = report.use_cases.iter().find(|r| r.use_case == "self_service").unwrap();
        assert_eq!(format!("{:.2}", row.estimated_savings), "0.00");
        assert_eq!(format!("{:.2}", report.total_savings), "0.00");
    }
}
