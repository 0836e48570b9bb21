//! `opsline up`: every service in one process, on an embedded broker by default.
//!
//! With `--demo` it replays sample data from the reference folder through the
//! gateway, waits for the log service to digest it, resolves the incidents it
//! opened (as an operator would), waits for the postmortem drafts, prints what
//! happened on each topic, and exits (or, with `--stay`, keeps running).
//!
//! Once every service is up it writes `<data-dir>/run.json` (see `cmd::run_file`: broker,
//! every service URL, the local console token), which the other commands read to find the
//! pipeline; the file is removed when `up` stops.
//!
//! Modules, each importing only those below it: [`demo`], [`llm_demo`] -> [`services`] ->
//! [`directory`], [`llm`], [`broker`] -> [`config`].

mod broker;
mod config;
mod demo;
mod directory;
pub(crate) mod llm;
mod llm_demo;
mod services;

use std::path::Path;
use std::time::Duration;

use opsline_events::TopicNames;
use opsline_runtime::telemetry::TelemetryConfig;
use opsline_runtime::{Shutdown, shutdown, telemetry};

pub use self::config::UpConfig;
use crate::cli::UpArgs;

/// Runs the pipeline until Ctrl-C / SIGTERM, or through the demo.
pub async fn run(args: UpArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let mut config: UpConfig = opsline_runtime::config::load(config_file)?;
    if args.demo && config.telemetry.filter == TelemetryConfig::default().filter {
        // The demo's report is its output; only warnings go to the log (RUST_LOG still overrides).
        config.telemetry.filter = "warn".to_owned();
    }
    let _telemetry = telemetry::init("opsline", &config.telemetry)?;
    let shutdown = Shutdown::new();
    shutdown::cancel_on_signal(&shutdown);

    let mut broker = broker::start(&mut config.kafka, &args).await?;
    let names = TopicNames::with_prefix(config.topic_prefix.clone());
    let created = opsline_kafka::admin::create_topics(&config.kafka, &names.all_to_create()).await?;
    println!(
        "topics      {} ready ({} created now)",
        names.all_to_create().len(),
        created.len()
    );
    let mut local_llm = llm::start(&mut config, &args).await;
    let directory = directory::start_directory(&args.data_dir);
    let running = services::start(&config, &args, directory.as_ref(), &shutdown).await;
    let mut run_file = None;
    let outcome = match &running {
        Ok(running) => {
            print_endpoints(&running.endpoints);
            run_file = write_run_file(&config, &args, &running.endpoints);
            if args.demo {
                let outcome = demo_and_report(&config, &args, &running.endpoints, &names).await;
                if outcome.is_ok() && args.stay {
                    print_sign_in(&running.endpoints);
                    println!("running; Ctrl-C to stop");
                    shutdown.cancelled().await;
                } else if outcome.is_ok() {
                    println!("(pass --stay to keep the pipeline and the console running after the demo)");
                }
                shutdown.cancel();
                outcome
            } else {
                println!("running; Ctrl-C to stop");
                shutdown.cancelled().await;
                Ok(())
            }
        }
        Err(_) => Ok(()),
    };
    let outcome = match running {
        Ok(running) => {
            running.stopped().await;
            outcome
        }
        Err(error) => Err(error),
    };
    if let Some(file) = &run_file {
        super::run_file::remove(file);
    }
    if let Some(server) = local_llm.as_mut() {
        server.stop().await;
    }
    if let Some(broker) = broker.as_mut() {
        broker.stop().await;
    }
    println!("stopped");
    outcome
}

async fn demo_and_report(
    config: &UpConfig,
    args: &UpArgs,
    endpoints: &services::Endpoints,
    names: &TopicNames,
) -> anyhow::Result<()> {
    let replay_ended = demo::run(endpoints, &args.data, args.demo_tickets, &config.kafka, names).await?;
    if config.triage.llm.enabled {
        let wait = Duration::from_secs(args.demo_llm_wait_secs);
        llm_demo::report(&config.kafka, names, replay_ended, wait, args.demo_tickets).await?;
    }
    Ok(())
}

fn print_endpoints(endpoints: &services::Endpoints) {
    println!(
        "gateway     {}  (POST /v1/logs: NDJSON, text or OTLP/HTTP; POST /v1/tickets)",
        endpoints.gateway
    );
    if let (Some(tcp), Some(udp)) = (endpoints.syslog_tcp, endpoints.syslog_udp) {
        println!("syslog      tcp {tcp}, udp {udp}  (RFC 5424 / RFC 3164)");
    }
    println!(
        "logintel    {}  (GET /v1/stats, POST /v1/incidents/{{id}}/resolve)",
        endpoints.logintel
    );
    println!(
        "postmortem  {}  (search page /, GET /v1/search?q=)",
        endpoints.postmortem
    );
    println!(
        "triage      {}  (health and metrics; routes opsline.tickets.raw.v1)",
        endpoints.triage
    );
    println!(
        "selfservice {}  (answers POST /v1/chat/slack and /v1/chat/webhook on the gateway)",
        endpoints.selfservice
    );
    println!(
        "console     {}  (incidents /, helpdesk queue /queue, GET /v1/incidents, /v1/alerts, /v1/tickets)",
        endpoints.console
    );
    match &endpoints.notify {
        Some(notify) => println!("notify      {notify}  (incident notifications: [notify.targets], [[notify.rules]])"),
        None => println!("notify      off (no [notify.targets] configured)"),
    }
    if let Some(helpdesk) = &endpoints.helpdesk {
        println!("helpdesk    {helpdesk}  (health and metrics; writes routed tickets back to RT)");
    }
    println!("every service: GET /healthz /readyz /metrics");
    print_sign_in(endpoints);
}

/// Where to sign in, and where the token is: never the token itself in a URL (it would stay
/// in the browser history and in proxy logs).
fn print_sign_in(endpoints: &services::Endpoints) {
    println!("ingest key  in run.json (`ingest_key`): send it as `Authorization: Bearer <key>` to the gateway");
    if endpoints.console_token.is_some() {
        println!(
            "sign in     {}/login  with the local SRE token of this run: `console_token` in <data-dir>/run.json \
(loopback only; also valid on {}/login)",
            endpoints.console, endpoints.postmortem
        );
    }
}

/// Writes `<data-dir>/run.json`; `None` (with a warning) when it cannot.
fn write_run_file(config: &UpConfig, args: &UpArgs, endpoints: &services::Endpoints) -> Option<std::path::PathBuf> {
    let services = [
        ("gateway", &endpoints.gateway),
        ("logintel", &endpoints.logintel),
        ("triage", &endpoints.triage),
        ("selfservice", &endpoints.selfservice),
        ("postmortem", &endpoints.postmortem),
        ("console", &endpoints.console),
    ]
    .into_iter()
    .chain(endpoints.notify.as_ref().map(|url| ("notify", url)))
    .chain(endpoints.helpdesk.as_ref().map(|url| ("helpdesk", url)))
    .map(|(name, url)| (name.to_owned(), url.clone()))
    .collect();
    let run = super::run_file::RunFile {
        pid: std::process::id(),
        started_at: jiff::Timestamp::now().to_string(),
        broker: config.kafka.bootstrap_servers.clone(),
        topic_prefix: config.topic_prefix.clone(),
        gateway: endpoints.gateway.clone(),
        console: endpoints.console.clone(),
        services,
        data_dir: args.data_dir.clone(),
        index_dir: endpoints.index_dir.clone(),
        console_token: endpoints.console_token.clone(),
        syslog_tcp: endpoints.syslog_tcp.map(|a| a.to_string()),
        syslog_udp: endpoints.syslog_udp.map(|a| a.to_string()),
        ingest_key: Some(endpoints.ingest_key.clone()),
    };
    match super::run_file::write(&args.data_dir, &run) {
        Ok(file) => {
            println!(
                "run file    {} (other opsline commands find this pipeline there)",
                file.display()
            );
            Some(file)
        }
        Err(error) => {
            eprintln!("warning: {error:#}; other commands will not find this pipeline by themselves");
            None
        }
    }
}
