//! `opsline up`: every service in one process, on an embedded broker by default.
//!
//! With `--demo` it replays sample data from the reference folder through the
//! gateway, waits for the log service to digest it, resolves the incidents it
//! opened (as an operator would), waits for the postmortem drafts, prints what
//! happened on each topic, and exits.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use opsline_events::TopicNames;
use opsline_gateway::GatewayConfig;
use opsline_kafka::KafkaConfig;
use opsline_kafka::embedded::{BrokerKind, EmbeddedBroker};
use opsline_logintel::LogintelConfig;
use opsline_postmortem::PostmortemConfig;
use opsline_runtime::metrics::Metrics;
use opsline_runtime::telemetry::TelemetryConfig;
use opsline_runtime::{Shutdown, shutdown, telemetry};
use opsline_triage::TriageConfig;
use serde::{Deserialize, Serialize};

use super::demo;
use crate::cli::{BrokerChoice, UpArgs};

/// The configuration file of `opsline up`: shared sections plus one per service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpConfig {
    /// Kafka settings shared by every service (the embedded broker overrides the address).
    pub kafka: KafkaConfig,
    /// Prefix of every topic.
    pub topic_prefix: String,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
    /// The ingest gateway (its own `kafka`/`topic_prefix` are replaced by the shared ones).
    pub gateway: GatewayConfig,
    /// The log service.
    pub logintel: LogintelConfig,
    /// The postmortem service (drafts, search API and page).
    pub postmortem: PostmortemConfig,
    /// The ticket triage service (without `classifier.model_path`, a model is trained at
    /// start-up from `<--data>/tickets/topic-train.csv`).
    pub triage: TriageConfig,
    /// The self-service service (directory, second factor, private replies); without a
    /// directory URL it uses the seeded slapd that `opsline up` starts.
    pub selfservice: opsline_selfservice::SelfServiceConfig,
}

/// Where the running services answer.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Gateway base URL.
    pub gateway: String,
    /// Log service base URL.
    pub logintel: String,
    /// Postmortem service base URL.
    pub postmortem: String,
    /// Triage service base URL (health and metrics).
    pub triage: String,
}

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

    let mut broker = None;
    if let Some(bootstrap) = &args.bootstrap {
        config.kafka.bootstrap_servers = bootstrap.clone();
    } else {
        let kind = match args.broker {
            BrokerChoice::Noida => BrokerKind::Noida,
            BrokerChoice::Tansu => BrokerKind::Tansu,
        };
        // The demo starts from an empty broker so that its counts describe this run only.
        let data_dir = if args.demo {
            args.data_dir.join("demo")
        } else {
            args.data_dir.clone()
        };
        if args.demo && data_dir.exists() {
            std::fs::remove_dir_all(&data_dir).with_context(|| format!("cannot clear {}", data_dir.display()))?;
        }
        let started = EmbeddedBroker::start(kind, &args.bin_dir, &data_dir, args.broker_port)
            .await
            .context("cannot start the embedded broker (run scripts/install-brokers.sh, or pass --bootstrap)")?;
        config.kafka.bootstrap_servers = started.bootstrap();
        println!(
            "broker      {} at {} (data in {})",
            kind.binary_name(),
            started.bootstrap(),
            data_dir.display()
        );
        broker = Some(started);
    }
    opsline_kafka::admin::wait_for_broker(&config.kafka, Duration::from_secs(30)).await?;
    let names = TopicNames::with_prefix(config.topic_prefix.clone());
    let created = opsline_kafka::admin::create_topics(&config.kafka, &names.all_to_create()).await?;
    println!(
        "topics      {} ready ({} created now)",
        names.all_to_create().len(),
        created.len()
    );

    let mut local_llm = super::up_llm::start(&mut config, &args).await;
    let (endpoints, mut tasks) = start_services(&mut config, &args, &shutdown).await?;
    let directory = super::up_selfservice::start_directory(&args.data_dir);
    let (selfservice_url, selfservice_task) =
        super::up_selfservice::spawn(&config, &args, directory.as_ref(), &shutdown).await?;
    tasks.push(("selfservice", selfservice_task));
    println!("gateway     {}  (POST /v1/logs, POST /v1/tickets)", endpoints.gateway);
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
    println!("selfservice {selfservice_url}  (answers POST /v1/chat/slack and /v1/chat/webhook on the gateway)");
    println!("every service: GET /healthz /readyz /metrics");

    let outcome = if args.demo {
        let mut result = demo::run(&endpoints, &args.data, args.demo_tickets, &config.kafka, &names).await;
        if result.is_ok() && config.triage.llm.enabled {
            let wait = Duration::from_secs(args.demo_llm_wait_secs);
            result = super::up_llm::report(&config.kafka, &names, wait).await;
        }
        shutdown.cancel();
        result
    } else {
        println!("running; Ctrl-C to stop");
        shutdown.cancelled().await;
        Ok(())
    };
    for (name, task) in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("{name} stopped with an error: {error:#}"),
            Err(error) => eprintln!("{name} task failed: {error}"),
        }
    }
    if let Some(server) = local_llm.as_mut() {
        server.stop().await;
    }
    if let Some(mut broker) = broker {
        broker.stop().await;
    }
    println!("stopped");
    outcome
}

type ServiceTask = (&'static str, tokio::task::JoinHandle<anyhow::Result<()>>);

/// Builds every service on the shared Kafka settings and spawns it.
async fn start_services(
    config: &mut UpConfig,
    args: &UpArgs,
    shutdown: &Shutdown,
) -> anyhow::Result<(Endpoints, Vec<ServiceTask>)> {
    let metrics = Metrics::new();
    let kafka = |client_id: &str| KafkaConfig {
        client_id: client_id.to_owned(),
        ..config.kafka.clone()
    };
    // The demo binds every service to a free port so it never collides with a running installation.
    let port = |listen: &str| {
        if args.demo {
            "127.0.0.1:0".to_owned()
        } else {
            listen.to_owned()
        }
    };

    let gateway = opsline_gateway::Application::build(
        GatewayConfig {
            listen: port(&args.listen),
            kafka: kafka("opsline-gateway"),
            topic_prefix: config.topic_prefix.clone(),
            ..config.gateway.clone()
        },
        metrics.clone(),
    )
    .await?;
    let logintel_config = LogintelConfig {
        listen: port(&config.logintel.listen),
        kafka: kafka("opsline-logintel"),
        topic_prefix: config.topic_prefix.clone(),
        ..config.logintel.clone()
    };
    let logintel = opsline_logintel::Application::build(logintel_config, metrics.clone()).await?;
    let postmortem_listen = if config.postmortem.listen == PostmortemConfig::default().listen {
        "127.0.0.1:8093"
    } else {
        config.postmortem.listen.as_str()
    };
    let postmortem_config = PostmortemConfig {
        listen: port(postmortem_listen),
        kafka: kafka("opsline-postmortem"),
        topic_prefix: config.topic_prefix.clone(),
        runbooks_dir: config
            .postmortem
            .runbooks_dir
            .clone()
            .or_else(|| Some("runbooks".into())),
        ..config.postmortem.clone()
    };
    let postmortem = opsline_postmortem::Application::build(postmortem_config, metrics.clone()).await?;
    let triage = build_triage(config, args, &port, &kafka, &metrics).await?;

    let endpoints = Endpoints {
        gateway: format!("http://127.0.0.1:{}", gateway.port()),
        logintel: format!("http://127.0.0.1:{}", logintel.port()),
        postmortem: format!("http://127.0.0.1:{}", postmortem.port()),
        triage: format!("http://127.0.0.1:{}", triage.port()),
    };
    let stop = shutdown.clone();
    let gateway_task = tokio::spawn(async move { gateway.run_until_stopped(stop).await.map_err(anyhow::Error::from) });
    let stop = shutdown.clone();
    let logintel_task =
        tokio::spawn(async move { logintel.run_until_stopped(stop).await.map_err(anyhow::Error::from) });
    let stop = shutdown.clone();
    let postmortem_task =
        tokio::spawn(async move { postmortem.run_until_stopped(stop).await.map_err(anyhow::Error::from) });
    let stop = shutdown.clone();
    let triage_task = tokio::spawn(async move { triage.run_until_stopped(stop).await.map_err(anyhow::Error::from) });
    let tasks = vec![
        ("gateway", gateway_task),
        ("logintel", logintel_task),
        ("postmortem", postmortem_task),
        ("triage", triage_task),
    ];
    Ok((endpoints, tasks))
}

/// Builds the triage service: the configured model file, or one trained now from the reference tickets.
async fn build_triage(
    config: &UpConfig,
    args: &UpArgs,
    port: &dyn Fn(&str) -> String,
    kafka: &dyn Fn(&str) -> KafkaConfig,
    metrics: &Metrics,
) -> anyhow::Result<opsline_triage::Application> {
    let triage_config = TriageConfig {
        listen: port(&config.triage.listen),
        kafka: kafka("opsline-triage"),
        topic_prefix: config.topic_prefix.clone(),
        ..config.triage.clone()
    };
    if triage_config.classifier.model_path.is_some() {
        return Ok(opsline_triage::Application::build(triage_config, metrics.clone()).await?);
    }
    let csv = args.data.join("tickets/topic-train.csv");
    let cache_dir = args.model_cache_dir.clone();
    println!("triage      ticket classifier from {} ...", csv.display());
    let started = std::time::Instant::now();
    let (model, outcome) = tokio::task::spawn_blocking(move || {
        opsline_classify::train_from_csv_cached(&csv, &opsline_classify::TrainConfig::default(), &cache_dir)
    })
    .await?
    .context("cannot train the ticket classifier (set triage.classifier.model_path, or pass --data)")?;
    let how = match outcome {
        opsline_classify::CacheOutcome::Loaded(path) => format!("loaded from the cache {}", path.display()),
        opsline_classify::CacheOutcome::Trained(path) => format!("trained, cached in {}", path.display()),
        opsline_classify::CacheOutcome::TrainedNotSaved(reason) => format!("trained (not cached: {reason})"),
    };
    println!(
        "triage      {} queues {how} in {:.1}s",
        model.labels().len(),
        started.elapsed().as_secs_f64()
    );
    Ok(opsline_triage::Application::build_with_model(triage_config, metrics.clone(), model).await?)
}
