//! Gateway metrics (registered by [`crate::LlmGateway::with_metrics`]).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_llm_calls_total` | counter | `task`, `outcome` (`ok`, `invalid_output`, `error`, `circuit_open`) |
//! | `opsline_llm_cache_hits_total` | counter | `task` |
//!
//! `task` is always a configured task name (bounded).

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CallLabel {
    pub(crate) task: String,
    pub(crate) outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TaskLabel {
    pub(crate) task: String,
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
