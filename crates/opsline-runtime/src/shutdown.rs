//! Process-wide graceful shutdown.
//!
//! One [`Shutdown`] token is created in `main`; every long-running task gets a
//! clone (or a child) and stops taking new work when it is cancelled, then
//! drains what it has in flight. [`cancel_on_signal`] trips the token on
//! SIGTERM or Ctrl-C; a guard from `token.drop_guard()` trips it when the
//! owner returns early (for example on a fatal error).

pub use tokio_util::sync::CancellationToken as Shutdown;

/// Waits for SIGTERM or Ctrl-C.
pub async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received Ctrl-C, shutting down"),
        () = terminate => tracing::info!("received SIGTERM, shutting down"),
    }
}

/// The next job of a worker's queue, or `None` once `shutdown` is cancelled or the queue
/// is closed (jobs still queued then are left to the caller, usually dropped).
pub async fn next_job<T>(jobs: &mut tokio::sync::mpsc::Receiver<T>, shutdown: &Shutdown) -> Option<T> {
    tokio::select! {
        () = shutdown.cancelled() => None,
        job = jobs.recv() => job,
    }
}

/// Asks `child` to stop as Ctrl-C would (SIGTERM, so it can stop what it started) and kills
/// it if it has not exited within `grace`.
pub async fn terminate_child(child: &mut tokio::process::Child, grace: std::time::Duration) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
    }
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

/// Spawns a task that cancels `shutdown` on SIGTERM or Ctrl-C.
pub fn cancel_on_signal(shutdown: &Shutdown) {
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = wait_for_signal() => shutdown.cancel(),
            () = shutdown.cancelled() => {}
        }
    });
}
