//! The Prometheus registry shared by every component of a process.
//!
//! Metric names follow `opsline_<component>_<name>_<unit>_total` for counters,
//! with bounded label sets (topic, outcome, error code: never ids or free text).
//! The full list is in `docs/telemetry.md`.

use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::{Metric, Registry};

/// A cheaply clonable handle on the process's metrics registry.
#[derive(Clone, Default)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry with the `opsline` prefix.
    pub fn new() -> Self {
        Self {
            registry: Arc::new(Mutex::new(Registry::with_prefix("opsline"))),
        }
    }

    /// Registers a metric under `opsline_<name>`.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        registry.register(name, help, metric);
    }

    /// The registry in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    #[test]
    fn encodes_registered_counter() {
        let metrics = Metrics::new();
        let counter: Counter = Counter::default();
        metrics.register("demo_events", "Demo events.", counter.clone());
        counter.inc();
        let text = metrics.encode();
        assert!(text.contains("opsline_demo_events_total 1"), "{text}");
    }
}
