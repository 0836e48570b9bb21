//! The service runner with a real listener on port 0: readiness before, during and
//! after start-up and shutdown; a failing critical task stops everything and is the
//! service's error; stop steps run in order after the tasks; a start-up failure names
//! its cause.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsline_runtime::metrics::Metrics;
use opsline_runtime::readiness::{ReadyCondition, ReadyState};
use opsline_runtime::telemetry::TelemetryConfig;
use opsline_runtime::{Application, RunError, Runner, Service, ServiceConfig, Shutdown, StartupError};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ProbeConfig {
    listen: String,
    telemetry: TelemetryConfig,
}

impl ServiceConfig for ProbeConfig {
    fn listen(&self) -> &str {
        &self.listen
    }
    fn set_listen(&mut self, listen: String) {
        self.listen = listen;
    }
    fn telemetry(&self) -> &TelemetryConfig {
        &self.telemetry
    }
}

/// What the test controls: a readiness condition, when the critical task ends and how,
/// and the log of stop steps.
#[derive(Default)]
struct Controls {
    release: Option<oneshot::Receiver<Result<(), String>>>,
    steps: Arc<Mutex<Vec<&'static str>>>,
}

#[derive(Clone)]
struct Handle {
    follower: ReadyCondition,
    steps: Arc<Mutex<Vec<&'static str>>>,
}

struct Probe;

impl Service for Probe {
    const NAME: &'static str = "probe";
    const ABOUT: &'static str = "a test service";
    type Config = ProbeConfig;
    type Extras = Controls;
    type Handle = Handle;

    async fn build(_config: ProbeConfig, controls: Controls, runner: &mut Runner) -> Result<Handle, StartupError> {
        let follower = runner.readiness().condition("follower caught up");
        let release = controls.release;
        runner.critical("worker", move |shutdown| async move {
            match release {
                // Ends on its own (with the given outcome) or, once shutdown began, when released.
                Some(release) => release.await.unwrap_or(Ok(())),
                None => {
                    shutdown.cancelled().await;
                    Ok(())
                }
            }
        });
        let (first, second) = (controls.steps.clone(), controls.steps.clone());
        runner.on_final_stop("flush", move || async move {
            first.lock().unwrap().push("flush");
            Ok::<(), std::io::Error>(())
        });
        runner.on_stop("snapshot", move || async move {
            second.lock().unwrap().push("snapshot");
            Ok::<(), std::io::Error>(())
        });
        Ok(Handle {
            follower,
            steps: controls.steps,
        })
    }
}

fn config() -> ProbeConfig {
    ProbeConfig {
        listen: "127.0.0.1:0".to_owned(),
        telemetry: TelemetryConfig::default(),
    }
}

async fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_until_followers_caught_up_and_not_ready_once_shutdown_begins() {
    let (release_tx, release_rx) = oneshot::channel();
    let controls = Controls {
        release: Some(release_rx),
        ..Controls::default()
    };
    let app = Application::<Probe>::build(config(), controls, Metrics::new())
        .await
        .unwrap();
    let (port, handle, readiness) = (app.port(), app.handle().clone(), app.readiness());
    let shutdown = Shutdown::new();
    let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let (status, body) = get(port, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("follower caught up"), "names what it waits for: {body}");
    handle.follower.set(true);
    let (status, body) = get(port, "/readyz").await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#));

    // Shutdown begins; the critical task is still draining (not released yet).
    shutdown.cancel();
    assert_eq!(
        readiness.state(),
        ReadyState::Stopping,
        "not ready the moment shutdown begins"
    );
    assert!(!task.is_finished(), "still draining while not ready");
    assert!(
        handle.steps.lock().unwrap().is_empty(),
        "no stop step before the tasks ended"
    );
    release_tx.send(Ok(())).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(
        *handle.steps.lock().unwrap(),
        vec!["snapshot", "flush"],
        "stop steps in order, final last"
    );
    assert_eq!(readiness.state(), ReadyState::Stopping);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_critical_task_stops_the_service_with_its_error() {
    let (release_tx, release_rx) = oneshot::channel();
    let controls = Controls {
        release: Some(release_rx),
        ..Controls::default()
    };
    let app = Application::<Probe>::build(config(), controls, Metrics::new())
        .await
        .unwrap();
    let steps = app.handle().steps.clone();
    let shutdown = Shutdown::new();
    let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    release_tx.send(Err("broker gone".to_owned())).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .unwrap()
        .unwrap();
    assert!(shutdown.is_cancelled(), "the end of a critical task stops everything");
    match outcome {
        Err(RunError::Task { task, source }) => {
            assert_eq!(task, "worker");
            assert_eq!(source.to_string(), "broker gone");
        }
        other => panic!("expected the worker's failure, got {other:?}"),
    }
    assert_eq!(
        *steps.lock().unwrap(),
        vec!["snapshot", "flush"],
        "stop steps still run"
    );
}

#[tokio::test]
async fn a_port_in_use_is_a_startup_error_that_names_address_and_cause() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let config = ProbeConfig {
        listen: listen.clone(),
        ..config()
    };
    let Err(error) = Application::<Probe>::build(config, Controls::default(), Metrics::new()).await else {
        panic!("the port is taken");
    };
    let message = opsline_runtime::error::exit_message("opsline-probe", &error);
    assert!(
        message.starts_with(&format!("opsline-probe: cannot listen on {listen}")),
        "{message}"
    );
    assert!(message.contains("\n  caused by: "), "the OS error follows: {message}");
}
