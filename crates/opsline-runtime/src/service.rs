//! What a service is, and the one way to start it.
//!
//! A service implements [`Service`]: it names itself, its configuration, what the
//! CLI and tests may inject ([`Service::Extras`]) and see ([`Service::Handle`]), and
//! in [`Service::build`] declares its parts on a [`Runner`]. Everything else is
//! here, the same for every service:
//! - [`Application::build`]: declare the parts, then bind the listener;
//! - [`Application::run_until_stopped`]: run them until the shutdown token is cancelled;
//! - [`main`]: a service binary's whole `main` (arguments, configuration file and
//!   `OPSLINE_*` variables, telemetry, signals, exit report).
//!
//! `opsline up`, the service binaries and the tests all start services through
//! [`Application`].

use std::ffi::OsString;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;

use crate::error::{BoxError, RunError, StartupContext, StartupError, report_exit};
use crate::metrics::Metrics;
use crate::readiness::Readiness;
use crate::runner::Runner;
use crate::telemetry::TelemetryConfig;
use crate::{Shutdown, shutdown, telemetry};

/// What the runner needs to know of a service's configuration.
pub trait ServiceConfig: Serialize + DeserializeOwned + Default + Clone + Send + 'static {
    /// The HTTP listen address, `host:port` (port 0 picks a free port).
    fn listen(&self) -> &str;
    /// Sets the listen address (`opsline up` and tests bind to port 0).
    fn set_listen(&mut self, listen: String);
    /// Logs and traces.
    fn telemetry(&self) -> &TelemetryConfig;
}

/// One Opsline service.
pub trait Service: 'static {
    /// Short name: `gateway`, `logintel`, ... (logs, `opsline-<name>` process name).
    const NAME: &'static str;
    /// What the service does, printed by `--help` after the usage line.
    const ABOUT: &'static str;
    /// Its configuration (`[section]` of the TOML file, `OPSLINE_*` variables).
    type Config: ServiceConfig;
    /// Parts given from outside instead of built from the configuration (a trained
    /// model, a test notifier); `Default` builds everything from the configuration.
    type Extras: Default;
    /// What the service shows to the CLI and tests once built (read models, counters).
    type Handle: Clone + Send + 'static;

    /// Builds the service's parts and declares them on `runner`.
    fn build(
        config: Self::Config,
        extras: Self::Extras,
        runner: &mut Runner,
    ) -> impl Future<Output = Result<Self::Handle, StartupError>>;
}

/// A built service, bound to its port, not yet running.
pub struct Application<S: Service> {
    runner: Runner,
    listener: TcpListener,
    handle: S::Handle,
}

impl<S: Service> Application<S> {
    /// Builds the service's parts, then binds its listener.
    pub async fn build(config: S::Config, extras: S::Extras, metrics: Metrics) -> Result<Self, StartupError> {
        let listen = config.listen().to_owned();
        let mut runner = Runner::new(S::NAME, metrics);
        let handle = S::build(config, extras, &mut runner).await?;
        let listener = TcpListener::bind(&listen)
            .await
            .startup(format!("cannot listen on {listen} (set `listen` or OPSLINE_LISTEN)"))?;
        Ok(Self {
            runner,
            listener,
            handle,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn local_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// What the service shows once built.
    pub fn handle(&self) -> &S::Handle {
        &self.handle
    }

    /// The service's readiness.
    pub fn readiness(&self) -> Readiness {
        self.runner.readiness().clone()
    }

    /// Runs until `shutdown` is cancelled or a critical task ends, then stops in order.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> Result<(), RunError> {
        self.runner.run(self.listener, shutdown).await
    }
}

/// The whole `main` of a service binary: `opsline-<name> [CONFIG.toml]`.
pub fn main<S: Service>() -> ExitCode {
    let process = format!("opsline-{}", S::NAME);
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let config_file = match args.as_slice() {
        [] => None,
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{}", usage::<S>(&process));
            return ExitCode::SUCCESS;
        }
        [file] if !file.to_string_lossy().starts_with('-') => Some(PathBuf::from(file)),
        _ => {
            eprintln!("{}", usage::<S>(&process));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return report_exit(&process, Err(Box::new(error))),
    };
    let result = runtime.block_on(run::<S>(&process, config_file));
    report_exit(&process, result)
}

fn usage<S: Service>(process: &str) -> String {
    format!(
        "usage: {process} [CONFIG.toml]\n\n{}\n\nEvery setting can also be given as OPSLINE_<KEY> or \
OPSLINE_<SECTION>__<KEY> (e.g. OPSLINE_LISTEN=0.0.0.0:8088,\nOPSLINE_KAFKA__BOOTSTRAP_SERVERS=kafka:9092); \
variables override the file. See the README for every setting.",
        S::ABOUT
    )
}

async fn run<S: Service>(process: &str, config_file: Option<PathBuf>) -> Result<(), BoxError> {
    let config: S::Config = crate::config::load(config_file.as_deref())?;
    let _telemetry = telemetry::init(process, config.telemetry())?;
    let shutdown = Shutdown::new();
    shutdown::cancel_on_signal(&shutdown);
    let app = Application::<S>::build(config, S::Extras::default(), Metrics::new()).await?;
    tracing::info!(port = app.port(), "{} listening", S::NAME);
    app.run_until_stopped(shutdown).await?;
    Ok(())
}
