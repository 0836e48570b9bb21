//! Every service of `opsline up`, started the one way services start
//! ([`opsline_runtime::Application`]) on the shared settings.

use std::time::Instant;

use anyhow::Context;
use opsline_auth::{Role, TokenConfig, hash_token};
use opsline_classify::{CacheOutcome, Model, TrainConfig};
use opsline_console::Console;
use opsline_gateway::Gateway;
use opsline_helpdesk::{Helpdesk, HelpdeskConfig};
use opsline_logintel::Logintel;
use opsline_notify::Notify;
use opsline_postmortem::PostmortemService;
use opsline_runtime::metrics::Metrics;
use opsline_runtime::{Application, RunError, Service, Shutdown};
use opsline_selfservice::SelfService;
use opsline_triage::Triage;
use tokio::task::JoinHandle;

use super::config::UpConfig;
use super::directory::{DirectoryProcess, seeded_directory};
use crate::cli::UpArgs;

/// Where the running services answer.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Gateway base URL.
    pub gateway: String,
    /// The gateway's syslog listeners (TCP, `host:port`).
    pub syslog_tcp: Option<std::net::SocketAddr>,
    /// The gateway's syslog listener (UDP).
    pub syslog_udp: Option<std::net::SocketAddr>,
    /// Log service base URL.
    pub logintel: String,
    /// Postmortem service base URL.
    pub postmortem: String,
    /// Triage service base URL (health and metrics).
    pub triage: String,
    /// Self-service base URL (health and metrics).
    pub selfservice: String,
    /// Console base URL (pages and JSON API).
    pub console: String,
    /// Notify service base URL (health and metrics), when targets are configured.
    pub notify: Option<String>,
    /// Helpdesk connector base URL (health and metrics), when `[helpdesk]` is configured.
    pub helpdesk: Option<String>,
    /// The local SRE token added for this run (console on loopback only).
    pub console_token: Option<String>,
    /// The ingest key made for this run (`local`; the replay and `opsline replay` send it).
    pub ingest_key: String,
    /// The SRE token of the log service's API made for this run (the console and the demo
    /// operator send it).
    pub logintel_token: String,
    /// The postmortem index directory, when on disk.
    pub index_dir: Option<std::path::PathBuf>,
}

/// The running services.
pub struct Running {
    /// Their URLs.
    pub endpoints: Endpoints,
    tasks: Vec<(&'static str, JoinHandle<Result<(), RunError>>)>,
}

impl Running {
    /// Waits for every service to stop (after the shutdown token was cancelled) and
    /// prints the failures, each with its causes.
    pub async fn stopped(self) {
        for (name, task) in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => eprintln!(
                    "{}",
                    opsline_runtime::error::exit_message(&format!("opsline-{name}"), &error)
                ),
                Err(error) => eprintln!("opsline-{name}: task failed: {error}"),
            }
        }
    }
}

/// Builds and spawns every service; the first that cannot start stops the others.
pub async fn start(
    config: &UpConfig,
    args: &UpArgs,
    directory: Option<&DirectoryProcess>,
    shutdown: &Shutdown,
) -> anyhow::Result<Running> {
    let demo = args.demo;
    let mut gateway_config = config.shared(config.gateway.clone(), Gateway::NAME, demo);
    if let Some(listen) = args.listen.clone().filter(|_| !demo) {
        gateway_config.listen = listen;
    }
    // Syslog on free ports of the gateway's interface unless configured.
    let host = gateway_config
        .listen
        .rsplit_once(':')
        .map_or("127.0.0.1", |(host, _)| host)
        .to_owned();
    gateway_config.syslog.tcp.get_or_insert_with(|| format!("{host}:0"));
    gateway_config.syslog.udp.get_or_insert_with(|| format!("{host}:0"));
    // The run's own ingest key (in the run file, owner-readable only), beside configured keys.
    let ingest_key = opsline_auth::generate_token().map_err(|e| anyhow::anyhow!("OS random source: {e}"))?;
    let mut local_key = opsline_gateway::IngestKeyConfig::new("local", hash_token(&ingest_key));
    local_key.requests_per_sec = 0.0;
    gateway_config.keys.push(local_key);
    let mut helpdesk_config = helpdesk(config, demo, &mut gateway_config)?;
    let mut console_config = config.shared(config.console.clone(), Console::NAME, demo);
    // One local sign-in for this run when the console is reachable from this machine only.
    let local_token = if is_loopback(&console_config.listen) {
        let token = opsline_auth::generate_token().map_err(|e| anyhow::anyhow!("OS random source: {e}"))?;
        let teams: Vec<String> = config.logintel.incidents.restricted_teams.values().cloned().collect();
        Some((
            token.clone(),
            TokenConfig {
                name: "local".to_owned(),
                role: Role::Sre,
                teams,
                sha256: hash_token(&token),
            },
        ))
    } else {
        None
    };
    let mut postmortem_config = config.shared(config.postmortem.clone(), PostmortemService::NAME, demo);
    let mut logintel_config = config.shared(config.logintel.clone(), Logintel::NAME, demo);
    if let Some((_, local)) = &local_token {
        console_config.tokens.push(local.clone());
        postmortem_config.tokens.push(local.clone());
        logintel_config.tokens.push(local.clone());
    }
    // The console forwards incident actions to the log service with a token of its own.
    let logintel_token = opsline_auth::generate_token().map_err(|e| anyhow::anyhow!("OS random source: {e}"))?;
    logintel_config.tokens.push(TokenConfig {
        name: "console".to_owned(),
        role: Role::Sre,
        teams: Vec::new(),
        sha256: hash_token(&logintel_token),
    });
    console_config.logintel_token = Some(logintel_token.clone().into());
    if postmortem_config.runbooks_dir.is_none() {
        postmortem_config.runbooks_dir = Some("runbooks".into());
    }
    // The postmortem pages link to the console (incidents, cited records): its address must be
    // known before either starts, so a free port is chosen here rather than by the console.
    if let Some(host) = console_config.listen.strip_suffix(":0") {
        let port = std::net::TcpListener::bind(format!("{host}:0"))
            .and_then(|listener| listener.local_addr())
            .with_context(|| format!("no free port on {host} for the console"))?
            .port();
        console_config.listen = format!("{host}:{port}");
    }
    postmortem_config.console_url = format!("http://{}", console_config.listen.replace("0.0.0.0", "127.0.0.1"));
    let selfservice_config = seeded_directory(
        config.shared(config.selfservice.clone(), SelfService::NAME, demo),
        directory,
        &args.data_dir,
    );
    let index_dir = postmortem_config.index_dir.clone();
    let triage_config = config.shared(config.triage.clone(), Triage::NAME, demo);
    let model = match triage_config.classifier.model_path {
        Some(_) => None,
        None => Some(train_triage_model(args).await?),
    };

    let mut tasks = Vec::new();
    let (gateway, gateway_handle) = spawn::<Gateway>(gateway_config, (), shutdown, &mut tasks).await?;
    let (logintel, _) = spawn::<Logintel>(logintel_config, (), shutdown, &mut tasks).await?;
    let (postmortem, _) = spawn::<PostmortemService>(postmortem_config, None, shutdown, &mut tasks).await?;
    let (triage, _) = spawn::<Triage>(triage_config, model, shutdown, &mut tasks).await?;
    let (selfservice, _) = spawn::<SelfService>(selfservice_config, None, shutdown, &mut tasks).await?;
    console_config.logintel_url = logintel.clone();
    console_config.postmortem_url = postmortem.clone();
    let (console, _) = spawn::<Console>(console_config, (), shutdown, &mut tasks).await?;
    let notify = if config.notify.has_targets() {
        let notify_config = config.shared(config.notify.clone(), Notify::NAME, demo);
        Some(spawn::<Notify>(notify_config, (), shutdown, &mut tasks).await?.0)
    } else {
        None
    };
    let helpdesk = match helpdesk_config.take() {
        Some(mut helpdesk_config) => {
            helpdesk_config.rt.intake.gateway_url = gateway.clone();
            Some(spawn::<Helpdesk>(helpdesk_config, (), shutdown, &mut tasks).await?.0)
        }
        None => None,
    };
    Ok(Running {
        endpoints: Endpoints {
            gateway,
            syslog_tcp: gateway_handle.syslog.tcp,
            syslog_udp: gateway_handle.syslog.udp,
            logintel,
            postmortem,
            triage,
            selfservice,
            console,
            notify,
            helpdesk,
            console_token: local_token.map(|(token, _)| token),
            ingest_key,
            logintel_token,
            index_dir,
        },
        tasks,
    })
}

/// The helpdesk connector's settings when `[helpdesk]` is configured; for RT intake without an
/// ingest key, a tickets-only key named `rt.ticket_prefix` is made for this run and added to
/// the gateway (RT's tickets then arrive as `<prefix>:<number>`).
fn helpdesk(
    config: &UpConfig,
    demo: bool,
    gateway: &mut opsline_gateway::GatewayConfig,
) -> anyhow::Result<Option<HelpdeskConfig>> {
    let Some(helpdesk) = &config.helpdesk else {
        return Ok(None);
    };
    let mut helpdesk = config.shared(helpdesk.clone(), Helpdesk::NAME, demo);
    let enabled = helpdesk.rt.enabled();
    let intake = &mut helpdesk.rt.intake;
    if enabled && intake.enabled && intake.ingest_key.is_none() && intake.ingest_key_file.is_none() {
        let key = opsline_auth::generate_token().map_err(|e| anyhow::anyhow!("OS random source: {e}"))?;
        let mut rt_key = opsline_gateway::IngestKeyConfig::new(&helpdesk.rt.ticket_prefix, hash_token(&key));
        rt_key.endpoints = vec![opsline_gateway::IngestEndpoint::Tickets];
        gateway.keys.push(rt_key);
        intake.ingest_key = Some(secrecy::SecretString::from(key));
    }
    Ok(Some(helpdesk))
}

/// Whether `listen` (`host:port`) accepts connections from this machine only.
fn is_loopback(listen: &str) -> bool {
    let host = listen.rsplit_once(':').map_or(listen, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Builds service `S` and spawns it; returns its URL.
async fn spawn<S: Service>(
    config: S::Config,
    extras: S::Extras,
    shutdown: &Shutdown,
    tasks: &mut Vec<(&'static str, JoinHandle<Result<(), RunError>>)>,
) -> anyhow::Result<(String, S::Handle)> {
    let app = match Application::<S>::build(config, extras, Metrics::new()).await {
        Ok(app) => app,
        Err(error) => {
            shutdown.cancel();
            return Err(error).with_context(|| format!("opsline-{} cannot start", S::NAME));
        }
    };
    let url = app.local_url();
    let handle = app.handle().clone();
    tasks.push((S::NAME, tokio::spawn(app.run_until_stopped(shutdown.clone()))));
    Ok((url, handle))
}

/// Trains the ticket classifier from the reference tickets (or loads it from the cache).
async fn train_triage_model(args: &UpArgs) -> anyhow::Result<Model> {
    let csv = args.data.join("tickets/topic-train.csv");
    let cache_dir = args.model_cache_dir.clone();
    println!("triage      ticket classifier from {} ...", csv.display());
    let started = Instant::now();
    let (model, outcome) = tokio::task::spawn_blocking(move || {
        opsline_classify::train_from_csv_cached(&csv, &TrainConfig::default(), &cache_dir)
    })
    .await?
    .context("cannot train the ticket classifier (set triage.classifier.model_path, or pass --data)")?;
    let how = match outcome {
        CacheOutcome::Loaded(path) => format!("loaded from the cache {}", path.display()),
        CacheOutcome::Trained(path) => format!("trained, cached in {}", path.display()),
        CacheOutcome::TrainedNotSaved(reason) => format!("trained (not cached: {reason})"),
    };
    println!(
        "triage      {} queues {how} in {:.1}s",
        model.labels().len(),
        started.elapsed().as_secs_f64()
    );
    Ok(model)
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_listen_addresses() {
        assert!(super::is_loopback("127.0.0.1:8094"));
        assert!(super::is_loopback("localhost:0"));
        assert!(super::is_loopback("[::1]:8094"));
        assert!(!super::is_loopback("0.0.0.0:8094"));
        assert!(!super::is_loopback("10.1.2.3:8094"));
    }
}
