//! `opsline eval llm`: the configured model over real data through exactly the production code
//! paths: N tickets through triage's enrichment ([`tickets`]) and N incidents of a replayed
//! LogHub file through the postmortem narrative ([`narratives`]). Per task: schema-valid rate,
//! grounded rate, sentences (citations) kept and dropped by the grounding check, latency
//! p50/p95, prompt and completion tokens, answers per minute, the share of prompt tokens the
//! endpoint took from its prompt cache, and the response-cache hit rate of a second pass over
//! the same jobs ([`stats`]).
//!
//! Without `--llm-url` it starts the embedded llama-server as `opsline up` does
//! (`up::llm::start_local`). Jobs run one after another, so `per_min` is the throughput of one
//! caller on an otherwise idle endpoint; the load average before and after is printed with the
//! figures (a busy machine lowers them).

mod narratives;
mod stats;
mod tickets;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use opsline_llm::{LlmConfig, LlmGateway, MemoryLedger};
use opsline_postmortem::draft::llm::{LlmDrafter, NARRATIVE_TASK};
use serde::Serialize;

use self::stats::TaskStats;
use crate::cli::EvalLlmArgs;

/// The whole report (`--json`).
#[derive(Debug, Serialize)]
struct Report {
    /// Model name.
    model: String,
    /// Load average (1, 5, 15 min) before the run.
    load_before: String,
    /// Load average after it.
    load_after: String,
    /// Per task.
    tasks: BTreeMap<&'static str, TaskStats>,
    /// Incidents of the file the postmortem policy drafts (among the ones run).
    incidents_policy_drafted: usize,
}

/// Runs the evaluation and prints it.
pub async fn run(args: EvalLlmArgs) -> anyhow::Result<()> {
    let load_before = load_average();
    let (server, config) = endpoint(&args).await?;
    // A signal ends the run here, so the embedded llama-server is stopped when `server` drops
    // (the default SIGTERM action would leave it running).
    let outcome = tokio::select! {
        result = measure(&args, config, load_before) => result,
        () = opsline_runtime::shutdown::wait_for_signal() => Err(anyhow::anyhow!("stopped by a signal before the figures were complete")),
    };
    drop(server);
    outcome
}

/// Runs both tasks twice through `config`'s endpoint and prints the figures.
async fn measure(args: &EvalLlmArgs, config: LlmConfig, load_before: String) -> anyhow::Result<()> {
    let model = config
        .tasks
        .get(opsline_triage::enricher::TASK)
        .map(|t| t.model.clone())
        .unwrap_or_default();
    let ledger = Arc::new(MemoryLedger::default());
    let gateway = LlmGateway::new(config, ledger.clone())?;

    let ticket_list = tickets::read(&args.tickets, args.n)?;
    let jobs = tickets::jobs(&ticket_list);
    let (cases, drafted) = narratives::read(&args.incidents, args.n)?;
    eprintln!(
        "eval llm: {} tickets, {} incidents ({} drafted by the policy), model {model}",
        jobs.len(),
        cases.len(),
        drafted
    );

    let mut tasks = BTreeMap::new();
    let enricher = tickets::enricher(gateway.clone(), &args.runbooks);
    let mut seen = ledger.records().len();
    let started = Instant::now();
    let results = tickets::run(&enricher, &jobs).await;
    let elapsed = started.elapsed();
    let usage = ledger.records().split_off(seen);
    let mut enrichment = TaskStats::new(&results, elapsed, &usage);
    // The same tickets again, with the context they had the first time (a fresh ring of recent
    // tickets): the same prompts, so what the response cache answers.
    let enricher = tickets::enricher(gateway.clone(), &args.runbooks);
    seen = ledger.records().len();
    let _ = tickets::run(&enricher, &jobs).await;
    enrichment.second_pass(&ledger.records().split_off(seen));
    tasks.insert(opsline_triage::enricher::TASK, enrichment);

    let drafter = LlmDrafter::new(gateway);
    seen = ledger.records().len();
    let started = Instant::now();
    let results = narratives::run(&drafter, &cases).await;
    let elapsed = started.elapsed();
    let usage = ledger.records().split_off(seen);
    let mut narrative = TaskStats::new(&results, elapsed, &usage);
    seen = ledger.records().len();
    let _ = narratives::run(&drafter, &cases).await;
    narrative.second_pass(&ledger.records().split_off(seen));
    tasks.insert(NARRATIVE_TASK, narrative);

    let report = Report {
        model,
        load_before,
        load_after: load_average(),
        tasks,
        incidents_policy_drafted: drafted,
    };
    if args.json {
        return super::print_json(&report);
    }
    let mut text = format!(
        "model {} (load average before {}, after {})\n",
        report.model, report.load_before, report.load_after
    );
    for (task, stats) in &report.tasks {
        text.push_str(&stats.render(task));
        text.push('\n');
    }
    super::print_text(&text)
}

/// The gateway settings: the given endpoint, or the embedded llama-server started for the run
/// (kept alive by the returned handle).
async fn endpoint(args: &EvalLlmArgs) -> anyhow::Result<(Option<opsline_llm::local::LocalServer>, LlmConfig)> {
    let model = opsline_llm::local::model_name(&args.llm_model);
    if let Some(url) = &args.llm_url {
        return Ok((None, super::up::llm::local_config(url, &model)));
    }
    let log = args.data_dir.join("llama-server-eval.log");
    eprintln!("eval llm: starting llama-server with {} ...", args.llm_model.display());
    let (server, config) = super::up::llm::start_local(&args.bin_dir, &args.llm_model, &log).await?;
    Ok((Some(server), config))
}

/// `/proc/loadavg`'s first three fields (empty where there is none).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
