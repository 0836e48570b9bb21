//! The embedded local model of `opsline up`: when `llama-server` and a GGUF model
//! are installed (`scripts/install-llm.sh`), `up` starts one server on loopback and
//! points the triage enrichment and the postmortem narratives at it, unless the
//! configuration already names an endpoint or `--no-llm` is given. Neither path waits
//! for it: every ticket is routed and every postmortem draft published at once; the
//! summaries (routed revision 2) and narratives (postmortem revision 2) follow when the
//! model has answered, and without a model they are simply missing. With
//! `--refine-templates` (or `[logintel.refine] enabled = true`) the log service refines new
//! templates with the same model (task `template_refinement`, batch class: after tickets and
//! narratives).

use std::path::Path;
use std::time::Instant;

use opsline_llm::local::{LocalServer, LocalServerSpec};
use opsline_llm::{LlmConfig, RetryConfig, TaskConfig};

use super::config::UpConfig;
use crate::cli::UpArgs;

/// The triage enrichment task and the prompt it uses.
const ENRICHMENT_TASK: &str = "ticket_enrichment";
/// The postmortem narrative task.
const NARRATIVE_TASK: &str = opsline_postmortem::draft::llm::NARRATIVE_TASK;
/// The log service's template refinement task.
const REFINE_TASK: &str = opsline_logintel::refiner::TASK;

/// Ticket summaries the demo lets wait for the model at once (`[llm.tasks.ticket_enrichment.budget]
/// max_queued`, 64 outside the demo).
const DEMO_QUEUED_SUMMARIES: usize = 16;

/// Starts the local model for triage and postmortem when installed and not configured
/// otherwise (a service whose `[llm]` is already enabled keeps its own endpoint).
pub async fn start(config: &mut UpConfig, args: &UpArgs) -> Option<LocalServer> {
    if args.refine_templates {
        config.logintel.refine.enabled = true;
    }
    if args.no_llm && config.logintel.refine.enabled && !config.logintel.llm.enabled {
        println!("llm         --no-llm: new log templates are not refined");
    }
    if args.no_llm || config.triage.llm.enabled {
        if config.triage.llm.enabled {
            println!("llm         configured endpoint {}", config.triage.llm.base_url);
        }
        return None;
    }
    let binary = args.bin_dir.join("llama-server");
    if !binary.is_file() || !args.llm_model.is_file() {
        println!(
            "llm         none installed (scripts/install-llm.sh): tickets are routed without summaries, postmortems drafted without narratives"
        );
        return None;
    }
    let log = args.data_dir.join("llama-server.log");
    println!(
        "llm         starting llama-server with {} ...",
        args.llm_model.display()
    );
    let started = Instant::now();
    match start_local(&args.bin_dir, &args.llm_model, &log).await {
        Ok((server, local)) => {
            let model = server.model_name();
            if !config.postmortem.llm.enabled {
                config.postmortem.llm = local.clone();
            }
            let refining = config.logintel.refine.enabled && !config.logintel.llm.enabled;
            if refining {
                config.logintel.llm = local.clone();
            }
            config.triage.llm = local;
            if args.demo {
                // The demo sends hundreds of tickets at once: like any burst, only the task's
                // budget of them waits for a summary (the rest are refused and counted), so the
                // narratives' turn comes while the demo still watches.
                if let Some(task) = config.triage.llm.tasks.get_mut(ENRICHMENT_TASK) {
                    task.budget.max_queued = DEMO_QUEUED_SUMMARIES;
                }
                println!(
                    "llm         demo: summaries for the first {DEMO_QUEUED_SUMMARIES} tickets waiting at once, then the postmortem narratives"
                );
            }
            println!(
                "llm         {} serving {model} (ready in {:.1}s; log {})",
                server.base_url(),
                started.elapsed().as_secs_f64(),
                log.display()
            );
            if refining {
                println!("llm         new log templates are refined by {model} (off the hot path)");
            }
            Some(server)
        }
        Err(error) => {
            println!(
                "llm         not started ({error}): tickets are routed without summaries, postmortems drafted without narratives"
            );
            None
        }
    }
}

/// Starts `llama-server` from `bin_dir` serving `model` (its output in `log`) and returns it
/// with the gateway settings pointing at it (the way `opsline up` does; `opsline eval llm`
/// uses the same).
pub(crate) async fn start_local(
    bin_dir: &Path,
    model: &Path,
    log: &Path,
) -> Result<(LocalServer, LlmConfig), opsline_llm::local::LocalServerError> {
    if let Some(parent) = log.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let spec = LocalServerSpec::new(bin_dir.join("llama-server"), model, log);
    let server = LocalServer::start(&spec).await?;
    let config = local_config(&server.base_url(), &server.model_name());
    Ok((server, config))
}

/// Gateway settings for the local server: one approved model for the enrichment, the narrative
/// and the template refinement tasks (each with the default budget of its own in the scheduler).
pub(crate) fn local_config(base_url: &str, model: &str) -> LlmConfig {
    // A CPU model answers slowly but surely: a long timeout, and no retry of a timed-out
    // call (it would only queue the same minutes of work again behind itself).
    let mut config = LlmConfig {
        enabled: true,
        base_url: base_url.to_owned(),
        timeout_secs: 600,
        // llama-server reuses the KV cache of the prompt prefix shared with the last request.
        cache_prompt: true,
        // One slot (`--parallel 1`): one request at a time, so the scheduler, not the server's
        // own queue, decides who is next (a ticket before a waiting narrative).
        max_concurrency: 1,
        retry: RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        },
        ..LlmConfig::default()
    };
    for (task, max_tokens) in [(ENRICHMENT_TASK, 384), (NARRATIVE_TASK, 768), (REFINE_TASK, 256)] {
        config.tasks.insert(
            task.to_owned(),
            TaskConfig {
                model: model.to_owned(),
                temperature: 0.0,
                max_tokens,
                priority: None,
                budget: Default::default(),
            },
        );
        config.approved_models.insert(task.to_owned(), vec![model.to_owned()]);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_model_serves_every_task_with_its_own_budget() {
        let config = local_config("http://127.0.0.1:9/v1", "m");
        assert!(config.check().is_ok());
        for task in [ENRICHMENT_TASK, NARRATIVE_TASK, REFINE_TASK] {
            let settings = &config.tasks[task];
            assert_eq!(settings.model, "m");
            assert_eq!(config.approved_models[task], ["m"]);
        }
        assert_eq!(
            config.tasks[REFINE_TASK].class(REFINE_TASK),
            opsline_llm::Priority::Batch
        );
    }
}
