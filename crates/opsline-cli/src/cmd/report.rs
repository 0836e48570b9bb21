//! `opsline report`: what the automation did and what it cost, per use case,
//! from the broker (LLM usage ledger, triaged and routed tickets, self-service
//! audit events), as a table or `--json`. The aggregation is the console's
//! ([`opsline_console::usage`]), so the report and the console's insights agree.

use std::time::Duration;

use opsline_events::ops::{LlmUsage, SelfServiceAction};
use opsline_events::tickets::{RoutedTicket, TriagedTicket};
use opsline_events::{Event, topics};
use opsline_kafka::KafkaConfig;

use crate::cli::ReportArgs;

pub use opsline_console::usage::{Report, aggregate};

/// Renders the report as a text table.
pub fn render(report: &Report) -> String {
    let mut out = format!(
        "{:<18} {:>8} {:>9} {:>7} {:>10} {:>10} {:>8} {:>8} {:>8} {:>9} {:>10}\n",
        "use case",
        "handled",
        "llm calls",
        "cache%",
        "tokens",
        "llm cost",
        "p50 s",
        "p95 s",
        "auto%",
        "deflected",
        "savings"
    );
    let seconds = |ms: Option<u64>| ms.map_or_else(|| "-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0));
    for r in &report.use_cases {
        let auto = r
            .auto_routed_share
            .map_or_else(|| "-".to_owned(), |s| format!("{:.1}", s * 100.0));
        out.push_str(&format!(
            "{:<18} {:>8} {:>9} {:>7.1} {:>10} {:>10.4} {:>8} {:>8} {:>8} {:>9} {:>10.2}\n",
            r.use_case,
            r.tickets_handled,
            r.llm_calls,
            r.cache_hit_rate * 100.0,
            r.tokens,
            r.llm_cost,
            seconds(r.latency_p50_ms),
            seconds(r.latency_p95_ms),
            auto,
            r.deflected,
            r.estimated_savings
        ));
    }
    out.push_str(&format!(
        "(p50 s, p95 s: from the request to the answer, the wait in the LLM scheduler included)\n\
         \ntickets triaged {} {:?}\ntotal llm cost {:.4}, estimated savings {:.2}\n",
        report.tickets_triaged, report.dispositions, report.total_llm_cost, report.total_savings
    ));
    if let Some(o) = &report.self_service_outcomes {
        out.push_str(&format!(
            "self-service: completed {}, challenged {}, refused {} (+{} at the gateway), failed {}, other {}\n",
            o.completed, o.challenged, o.refused, o.refused_at_gateway, o.failed, o.other
        ));
    }
    out
}

/// Every event of type `T` on `topic`, read until the topic has been idle for 2 s.
pub(crate) async fn read<T: Event>(kafka: &KafkaConfig, topic: &str) -> anyhow::Result<Vec<T>> {
    let records =
        opsline_kafka::reader::read_until_idle(kafka, topic, Duration::from_secs(2), Duration::from_secs(120)).await?;
    Ok(records
        .iter()
        .filter_map(|r| r.envelope::<T>().ok())
        .map(|e| e.data)
        .collect())
}

/// Reads the topics and prints the report (the broker of a running `opsline up` unless
/// `--bootstrap` or `--config` says otherwise).
pub async fn run(args: ReportArgs, config_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    let (kafka, names) = super::run_file::connect(&args.broker, config_file).await?;
    let usage: Vec<LlmUsage> = read(&kafka, &names.name(&topics::LLM_USAGE)).await?;
    let triaged: Vec<TriagedTicket> = read(&kafka, &names.name(&topics::TICKETS_TRIAGED)).await?;
    let routed: Vec<RoutedTicket> = read(&kafka, &names.name(&topics::TICKETS_ROUTED)).await?;
    let actions: Vec<SelfServiceAction> = read(&kafka, &names.name(&topics::SELFSERVICE_AUDIT)).await?;
    let report = aggregate(&usage, &triaged, &routed, &actions, args.cost_per_ticket);
    if args.json {
        super::print_json(&report)
    } else {
        super::print_text(&render(&report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_latency_in_seconds_and_the_outcomes() {
        let calls: Vec<LlmUsage> = (1..=20)
            .map(|s| LlmUsage {
                task: "ticket_enrichment".into(),
                latency_ms: s * 1000,
                cache_hit: false,
                outcome: "ok".into(),
                ..LlmUsage::sample()
            })
            .collect();
        let done = SelfServiceAction {
            action_id: uuid::Uuid::now_v7(),
            action: "password_reset".into(),
            outcome: "succeeded".into(),
            ..SelfServiceAction::sample()
        };
        let refused = SelfServiceAction {
            action_id: uuid::Uuid::now_v7(),
            outcome: "refused".into(),
            ..done.clone()
        };
        let text = render(&aggregate(&calls, &[], &[], &[done, refused], 20.0));
        assert!(text.contains("ticket_enrichment"), "{text}");
        assert!(text.contains("10.0") && text.contains("19.0"), "{text}");
        assert!(
            text.contains("self-service: completed 1, challenged 0, refused 1"),
            "{text}"
        );
    }
}
