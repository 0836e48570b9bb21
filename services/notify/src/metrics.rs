//! Notification metrics, per target (bounded labels: the configured target names and kinds,
//! a fixed set of outcomes and failure codes).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_notify_sent_total` | counter | `target`, `kind` |
//! | `opsline_notify_failed_attempts_total` | counter | `target`, `kind`, `code` (each failed attempt, retried or not) |
//! | `opsline_notify_dead_lettered_total` | counter | `target`, `kind`, `code` |
//! | `opsline_notify_suppressed_total` | counter | `target`, `kind`, `code` (`maintenance`, `quiet_hours`) |
//! | `opsline_notify_delivery_seconds` | histogram | `target`, `kind` (queue to sent or dead letter, retries included) |
//! | `opsline_notify_states_forgotten_total` | counter | (none): (incident, target) states forgotten past `max_tracked`, resolved incidents first |

use std::time::Duration;

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

/// `target` and `kind`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TargetLabel {
    target: String,
    kind: &'static str,
}

/// `target`, `kind` and `code`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CodeLabel {
    target: String,
    kind: &'static str,
    code: &'static str,
}

fn latency_histogram() -> Histogram {
    // 10 ms .. about 5 minutes.
    Histogram::new(exponential_buckets(0.01, 2.0, 15))
}

/// The service's metric families.
#[derive(Debug, Clone)]
pub(crate) struct NotifyMetrics {
    sent: Family<TargetLabel, Counter>,
    failed: Family<CodeLabel, Counter>,
    dead_lettered: Family<CodeLabel, Counter>,
    suppressed: Family<CodeLabel, Counter>,
    latency: Family<TargetLabel, Histogram, fn() -> Histogram>,
}

impl NotifyMetrics {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self {
            sent: Family::default(),
            failed: Family::default(),
            dead_lettered: Family::default(),
            suppressed: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        };
        metrics.register("notify_sent", "Notifications a target accepted", this.sent.clone());
        metrics.register(
            "notify_failed_attempts",
            "Failed delivery attempts, by failure code",
            this.failed.clone(),
        );
        metrics.register(
            "notify_dead_lettered",
            "Notifications dead-lettered, by failure code",
            this.dead_lettered.clone(),
        );
        metrics.register(
            "notify_suppressed",
            "Notifications not sent because of a maintenance window or quiet hours",
            this.suppressed.clone(),
        );
        metrics.register(
            "notify_delivery_seconds",
            "Time from queueing to sent or dead-lettered",
            this.latency.clone(),
        );
        this
    }

    fn target(target: &str, kind: &'static str) -> TargetLabel {
        TargetLabel {
            target: target.to_owned(),
            kind,
        }
    }

    fn code(target: &str, kind: &'static str, code: &'static str) -> CodeLabel {
        CodeLabel {
            target: target.to_owned(),
            kind,
            code,
        }
    }

    pub(crate) fn sent(&self, target: &str, kind: &'static str, took: Duration) {
        self.sent.get_or_create(&Self::target(target, kind)).inc();
        self.latency
            .get_or_create(&Self::target(target, kind))
            .observe(took.as_secs_f64());
    }

    pub(crate) fn failed(&self, target: &str, kind: &'static str, code: &'static str) {
        self.failed.get_or_create(&Self::code(target, kind, code)).inc();
    }

    pub(crate) fn dead_lettered(&self, target: &str, kind: &'static str, code: &'static str, took: Option<Duration>) {
        self.dead_lettered.get_or_create(&Self::code(target, kind, code)).inc();
        if let Some(took) = took {
            self.latency
                .get_or_create(&Self::target(target, kind))
                .observe(took.as_secs_f64());
        }
    }

    pub(crate) fn suppressed(&self, target: &str, kind: &'static str, code: &'static str) {
        self.suppressed.get_or_create(&Self::code(target, kind, code)).inc();
    }
}
