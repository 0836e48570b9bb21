//! The one service runner: what every service does between start-up and exit.
//!
//! A service only declares its parts on a [`Runner`] (see [`crate::service`]):
//! - its HTTP API ([`Runner::serve`]), served beside `/healthz`, `/readyz` and
//!   `/metrics`, every request bounded by a timeout;
//! - **critical tasks** ([`Runner::critical`]: consumer loops, followers): when one ends,
//!   for whatever reason, the whole service stops; its error is the service's error;
//! - **background tasks** ([`Runner::background`]: workers, tickers, probes): told to
//!   stop with the shutdown token and awaited (bounded) once the critical tasks ended;
//! - **stop steps** ([`Runner::on_stop`], then [`Runner::on_final_stop`]): run in the
//!   order given after every task ended (e.g. write a final snapshot, then flush the
//!   producer);
//! - **readiness conditions** ([`Runner::readiness`], [`Runner::probe`]).
//!
//! [`Runner::run`] serves until the shutdown token is cancelled (by a signal, by the
//! caller, or by the end of a critical task), marks the service not ready at once,
//! lets the server finish open requests, waits for the tasks, runs the stop steps and
//! logs `<name> stopped`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::timeout::TimeoutLayer;

use crate::Shutdown;
use crate::error::{BoxError, RunError, chain};
use crate::http::{OpsState, ops_router};
use crate::metrics::Metrics;
use crate::readiness::Readiness;

/// How long a request may take before it is answered `408`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long background tasks get to finish once the critical tasks ended.
const BACKGROUND_STOP_TIMEOUT: Duration = Duration::from_secs(30);

type TaskFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
type TaskFn = Box<dyn FnOnce(Shutdown) -> TaskFuture + Send>;
type StepFn = Box<dyn FnOnce() -> TaskFuture + Send>;

/// The parts of one service, declared before it runs.
pub struct Runner {
    name: &'static str,
    metrics: Metrics,
    readiness: Readiness,
    api: Router,
    request_timeout: Duration,
    critical: Vec<(String, TaskFn)>,
    background: Vec<(String, TaskFn)>,
    stop_steps: Vec<(String, StepFn)>,
    final_steps: Vec<(String, StepFn)>,
}

impl Runner {
    /// An empty runner for the service `name` (`gateway`, `logintel`, ...).
    pub fn new(name: &'static str, metrics: Metrics) -> Self {
        Self {
            name,
            metrics,
            readiness: Readiness::default(),
            api: Router::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            critical: Vec::new(),
            background: Vec::new(),
            stop_steps: Vec::new(),
            final_steps: Vec::new(),
        }
    }

    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The registry every component of the service registers into.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The service's readiness: add a condition with [`Readiness::condition`].
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Adds routes to the service's HTTP API.
    pub fn serve(&mut self, routes: Router) {
        self.api = std::mem::take(&mut self.api).merge(routes);
    }

    /// Sets the request timeout (default [`DEFAULT_REQUEST_TIMEOUT`]).
    pub fn request_timeout(&mut self, timeout: Duration) {
        self.request_timeout = timeout;
    }

    /// A task whose end, with or without an error, stops the service.
    pub fn critical<F, Fut, E>(&mut self, name: impl Into<String>, task: F)
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let task: TaskFn = Box::new(move |shutdown| Box::pin(async move { task(shutdown).await.map_err(Into::into) }));
        self.critical.push((name.into(), task));
    }

    /// A task told to stop by the shutdown token and awaited (at most 30 s) after the critical tasks.
    pub fn background<F, Fut>(&mut self, name: impl Into<String>, task: F)
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let task: TaskFn = Box::new(move |shutdown| {
            Box::pin(async move {
                task(shutdown).await;
                Ok(())
            })
        });
        self.background.push((name.into(), task));
    }

    /// A step run once every task ended, after the steps added before it.
    pub fn on_stop<F, Fut, E>(&mut self, name: impl Into<String>, step: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.stop_steps.push((name.into(), boxed_step(step)));
    }

    /// A step run after every [`Runner::on_stop`] step (e.g. flushing the producer they used).
    pub fn on_final_stop<F, Fut, E>(&mut self, name: impl Into<String>, step: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.final_steps.push((name.into(), boxed_step(step)));
    }

    /// A readiness condition `name` kept up to date by calling `check` every `every`
    /// (every second while it fails), until shutdown.
    pub fn probe<F, Fut>(&mut self, name: &str, every: Duration, check: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let condition = self.readiness.condition(name);
        self.background(format!("{name} probe"), move |shutdown| async move {
            loop {
                let met = check().await;
                condition.set(met);
                let pause = if met { every } else { every.min(Duration::from_secs(1)) };
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        });
    }

    /// Serves on `listener` and runs every task until `shutdown` is cancelled (or a
    /// critical task ends), then stops in order. Returns the first failure.
    pub async fn run(self, listener: TcpListener, shutdown: Shutdown) -> Result<(), RunError> {
        let Self {
            name,
            metrics,
            readiness,
            api,
            request_timeout,
            critical,
            background,
            stop_steps,
            final_steps,
        } = self;
        let router = api
            .merge(ops_router(OpsState {
                readiness: readiness.clone(),
                metrics,
            }))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                request_timeout,
            ));
        readiness.stop_with(&shutdown);
        let background: Vec<(String, JoinHandle<Result<(), BoxError>>)> = background
            .into_iter()
            .map(|(task, run)| (task, tokio::spawn(run(shutdown.clone()))))
            .collect();
        let critical: Vec<(String, JoinHandle<Result<(), BoxError>>)> = critical
            .into_iter()
            .map(|(task, run)| {
                let (stop, future) = (shutdown.clone(), run(shutdown.clone()));
                let handle = tokio::spawn(async move {
                    let result = future.await;
                    stop.cancel();
                    result
                });
                (task, handle)
            })
            .collect();
        let server = {
            let (stop, signal) = (shutdown.clone(), shutdown.clone());
            tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(async move { signal.cancelled().await })
                    .await;
                stop.cancel();
                served
            })
        };

        let mut failure = None;
        for (task, handle) in critical {
            let outcome = match handle.await {
                Ok(result) => result,
                Err(join) => Err(BoxError::from(format!("task ended abnormally: {join}"))),
            };
            if let Err(source) = outcome {
                tracing::error!(service = name, task = %task, error = %chain(source.as_ref()), "task failed; stopping");
                failure.get_or_insert(RunError::Task { task, source });
            }
        }
        match server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(service = name, error = %error, "HTTP server failed; stopping");
                failure.get_or_insert(RunError::Serve(error));
            }
            Err(join) => {
                failure.get_or_insert(RunError::Serve(std::io::Error::other(join.to_string())));
            }
        }
        for (task, mut handle) in background {
            match tokio::time::timeout(BACKGROUND_STOP_TIMEOUT, &mut handle).await {
                Ok(Ok(_)) => {}
                Ok(Err(join)) => {
                    tracing::warn!(service = name, task = %task, %join, "background task ended abnormally")
                }
                Err(_) => {
                    handle.abort();
                    tracing::warn!(service = name, task = %task, "background task did not stop in time; aborted");
                }
            }
        }
        for (step, run) in stop_steps.into_iter().chain(final_steps) {
            if let Err(error) = run().await {
                tracing::warn!(service = name, step = %step, error = %chain(error.as_ref()), "stop step incomplete");
            }
        }
        readiness.begin_stop();
        tracing::info!(service = name, "{name} stopped");
        failure.map_or(Ok(()), Err)
    }
}

fn boxed_step<F, Fut, E>(step: F) -> StepFn
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    Box::new(move || Box::pin(async move { step().await.map_err(Into::into) }))
}
