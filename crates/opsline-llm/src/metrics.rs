//! Gateway and scheduler metrics (registered by [`crate::LlmGateway::with_metrics`]).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_llm_calls_total` | counter | `task`, `outcome` (`ok`, `invalid_output`, `error`, `circuit_open`, `refused`, `stale`) |
//! | `opsline_llm_cache_hits_total` | counter | `task` |
//! | `opsline_llm_scheduler_queue_length` | gauge | `class` (`interactive`, `narrative`, `batch`) |
//! | `opsline_llm_scheduler_in_flight` | gauge | none |
//! | `opsline_llm_scheduler_wait_seconds` | histogram | `class` |
//! | `opsline_llm_scheduler_dropped_total` | counter | `task`, `reason` (`queue_full`, `stale`) |
//!
//! `task` is always a configured task name and `class` one of three (bounded).

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CallLabel {
    pub(crate) task: String,
    pub(crate) outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TaskLabel {
    pub(crate) task: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ClassLabel {
    pub(crate) class: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DropLabel {
    pub(crate) task: String,
    pub(crate) reason: &'static str,
}

/// The gateway's counters (unregistered by default: counting is free).
#[derive(Debug, Clone, Default)]
pub(crate) struct LlmMetrics {
    pub(crate) calls: Family<CallLabel, Counter>,
    pub(crate) cache_hits: Family<TaskLabel, Counter>,
}

impl LlmMetrics {
    pub(crate) fn register(&self, metrics: &Metrics) {
        metrics.register(
            "llm_calls",
            "LLM gateway calls by task and outcome.",
            self.calls.clone(),
        );
        metrics.register(
            "llm_cache_hits",
            "LLM answers served from the response cache, by task.",
            self.cache_hits.clone(),
        );
    }

    pub(crate) fn call(&self, task: &str, outcome: &'static str, cache_hit: bool) {
        self.calls
            .get_or_create(&CallLabel {
                task: task.to_owned(),
                outcome,
            })
            .inc();
        if cache_hit {
            self.cache_hits
                .get_or_create(&TaskLabel { task: task.to_owned() })
                .inc();
        }
    }
}

fn wait_histogram() -> Histogram {
    // 50 ms .. about 7 minutes.
    Histogram::new(exponential_buckets(0.05, 2.0, 14))
}

/// The scheduler's metrics (one set per endpoint, shared by the services of a process).
#[derive(Debug, Clone)]
pub(crate) struct SchedulerMetrics {
    queue_length: Family<ClassLabel, Gauge>,
    pub(crate) in_flight: Gauge,
    wait_seconds: Family<ClassLabel, Histogram, fn() -> Histogram>,
    dropped: Family<DropLabel, Counter>,
}

impl Default for SchedulerMetrics {
    fn default() -> Self {
        Self {
            queue_length: Family::default(),
            in_flight: Gauge::default(),
            wait_seconds: Family::new_with_constructor(wait_histogram),
            dropped: Family::default(),
        }
    }
}

impl SchedulerMetrics {
    pub(crate) fn register(&self, metrics: &Metrics) {
        metrics.register(
            "llm_scheduler_queue_length",
            "LLM jobs admitted and waiting for the model, by priority class.",
            self.queue_length.clone(),
        );
        metrics.register(
            "llm_scheduler_in_flight",
            "LLM jobs sent to the endpoint and not answered yet.",
            self.in_flight.clone(),
        );
        metrics.register(
            "llm_scheduler_wait_seconds",
            "Time an LLM job waited for its turn, by priority class.",
            self.wait_seconds.clone(),
        );
        metrics.register(
            "llm_scheduler_dropped",
            "LLM jobs never sent, by task and reason (queue_full: refused at admission; stale: no longer wanted).",
            self.dropped.clone(),
        );
    }

    pub(crate) fn queue_length(&self, class: &'static str) -> Gauge {
        self.queue_length.get_or_create(&ClassLabel { class }).clone()
    }

    pub(crate) fn wait(&self, class: &'static str) -> Histogram {
        self.wait_seconds.get_or_create(&ClassLabel { class }).clone()
    }

    pub(crate) fn dropped(&self, task: &str, reason: &'static str) {
        self.dropped
            .get_or_create(&DropLabel {
                task: task.to_owned(),
                reason,
            })
            .inc();
    }

    /// The drop counter's value (tests and tools).
    pub(crate) fn dropped_count(&self, task: &str, reason: &'static str) -> u64 {
        self.dropped
            .get_or_create(&DropLabel {
                task: task.to_owned(),
                reason,
            })
            .get()
    }
}
