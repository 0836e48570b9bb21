//! The one readiness rule of every service.
//!
//! A service is ready when every condition registered on its [`Readiness`] is
//! met (the broker answers; each follower has caught up to the end offsets it
//! saw at start; ...) and its shutdown has not begun. `/readyz` answers 200 only
//! then, and otherwise names what it is waiting for.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::Shutdown;

/// The readiness of one service: named conditions plus the stopping flag.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    stopping: AtomicBool,
    shutdown: OnceLock<Shutdown>,
    conditions: Mutex<Vec<(String, Arc<AtomicBool>)>>,
}

/// One condition of a [`Readiness`], not met until [`ReadyCondition::set`] says so.
#[derive(Debug, Clone)]
pub struct ReadyCondition {
    met: Arc<AtomicBool>,
}

impl ReadyCondition {
    /// Marks the condition met or not.
    pub fn set(&self, met: bool) {
        self.met.store(met, Ordering::SeqCst);
    }

    /// Whether it is met.
    pub fn is_met(&self) -> bool {
        self.met.load(Ordering::SeqCst)
    }
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadyState {
    /// Every condition is met.
    Ready,
    /// Some conditions are not met yet (their names).
    Waiting(Vec<String>),
    /// Shutdown has begun.
    Stopping,
}

impl Readiness {
    /// Registers a new condition, not met yet, named for `/readyz` (e.g. `broker`).
    pub fn condition(&self, name: impl Into<String>) -> ReadyCondition {
        let met = Arc::new(AtomicBool::new(false));
        self.inner
            .conditions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name.into(), met.clone()));
        ReadyCondition { met }
    }

    /// Marks the service as stopping: not ready from now on, whatever the conditions say.
    pub fn begin_stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
    }

    /// Ties readiness to `shutdown`: not ready from the moment it is cancelled.
    pub fn stop_with(&self, shutdown: &Shutdown) {
        let _ = self.inner.shutdown.set(shutdown.clone());
    }

    /// The current state.
    pub fn state(&self) -> ReadyState {
        let cancelled = self.inner.shutdown.get().is_some_and(Shutdown::is_cancelled);
        if cancelled || self.inner.stopping.load(Ordering::SeqCst) {
            return ReadyState::Stopping;
        }
        let waiting: Vec<String> = self
            .inner
            .conditions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, met)| !met.load(Ordering::SeqCst))
            .map(|(name, _)| name.clone())
            .collect();
        if waiting.is_empty() {
            ReadyState::Ready
        } else {
            ReadyState::Waiting(waiting)
        }
    }

    /// Whether the service is ready.
    pub fn is_ready(&self) -> bool {
        self.state() == ReadyState::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_condition_is_met_and_not_stopping() {
        let readiness = Readiness::default();
        assert!(readiness.is_ready(), "no condition: ready");
        let broker = readiness.condition("broker");
        let follower = readiness.condition("follower");
        assert_eq!(
            readiness.state(),
            ReadyState::Waiting(vec!["broker".into(), "follower".into()])
        );
        broker.set(true);
        assert_eq!(readiness.state(), ReadyState::Waiting(vec!["follower".into()]));
        follower.set(true);
        assert!(readiness.is_ready());
        readiness.begin_stop();
        assert_eq!(readiness.state(), ReadyState::Stopping);
    }

    #[test]
    fn not_ready_the_moment_shutdown_is_cancelled() {
        let readiness = Readiness::default();
        let shutdown = Shutdown::new();
        readiness.stop_with(&shutdown);
        assert!(readiness.is_ready());
        shutdown.cancel();
        assert_eq!(readiness.state(), ReadyState::Stopping);
    }
}
