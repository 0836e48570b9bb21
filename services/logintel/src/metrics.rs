//! Log service metrics (bounded labels only).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_logintel_lines_total` | counter | |
//! | `opsline_logintel_external_alerts_total` | counter | (Alertmanager and Grafana records read) |
//! | `opsline_logintel_alerts_total` | counter | `kind` |
//! | `opsline_logintel_suppressed_repeats_total` | counter | `kind` |
//! | `opsline_logintel_templates_total` | counter | `change` |
//! | `opsline_logintel_incidents_total` | counter | `status` |
//! | `opsline_logintel_snapshots_total` | counter | `outcome` |
//! | `opsline_logintel_replays_skipped_total` | counter | |
//! | `opsline_logintel_state_gaps_total` | counter | |
//! | `opsline_logintel_event_times_clamped_total` | counter | `bound` (`future`, `late`: a line's own timestamp replaced) |
//! | `opsline_logintel_lines_per_alert` | gauge | (noise reduction: lines in / alerts out) |
//! | `opsline_logintel_refine_jobs_total` | counter | `outcome` (`queued`, `queue_full`, `too_many_pending`, `closed`) |
//! | `opsline_logintel_refine_calls_total` | counter | (model calls made) |
//! | `opsline_logintel_refine_cache_hits_total` | counter | (templates decided without a call) |
//! | `opsline_logintel_refine_results_total` | counter | `outcome` (`accepted`, `rejected`, `failed`, `stale`, `not_delivered`) |
//! | `opsline_logintel_refine_rejections_total` | counter | `reason` (the check's rule names, `keeps-redacted`) |
//! | `opsline_logintel_refine_failures_total` | counter | `reason` (`refused`, `stale`, `circuit_open`, `endpoint`, `invalid_output`, `disabled`, `config`) |

use std::sync::atomic::AtomicU64;

use opsline_events::logs::{IncidentStatus, TemplateChangeKind};
use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::engine::Outputs;

/// `kind` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabel {
    kind: &'static str,
}

/// `change` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ChangeLabel {
    change: &'static str,
}

/// `status` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StatusLabel {
    status: &'static str,
}

/// `outcome` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    outcome: &'static str,
}

#[cfg(test)]
impl OutcomeLabel {
    /// The label of `outcome` (tests read counters with it).
    pub(crate) fn named(outcome: &'static str) -> Self {
        Self { outcome }
    }
}

/// The log service's metric families.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogintelMetrics {
    pub(crate) lines: Counter,
    pub(crate) external_alerts: Counter,
    pub(crate) alerts: Family<KindLabel, Counter>,
    pub(crate) suppressed: Family<KindLabel, Counter>,
    pub(crate) templates: Family<ChangeLabel, Counter>,
    pub(crate) incidents: Family<StatusLabel, Counter>,
    pub(crate) snapshots: Family<OutcomeLabel, Counter>,
    pub(crate) replays_skipped: Counter,
    pub(crate) state_gaps: Counter,
    pub(crate) event_times_clamped: Family<BoundLabel, Counter>,
    pub(crate) lines_per_alert: Gauge<f64, AtomicU64>,
    pub(crate) refine_jobs: Family<OutcomeLabel, Counter>,
    pub(crate) refine_calls: Counter,
    pub(crate) refine_cache_hits: Counter,
    pub(crate) refine_results: Family<OutcomeLabel, Counter>,
    pub(crate) refine_rejections: Family<ReasonLabel, Counter>,
    pub(crate) refine_failures: Family<ReasonLabel, Counter>,
}

/// `bound` label (which event-time bound a line broke).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct BoundLabel {
    bound: &'static str,
}

/// `reason` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    reason: &'static str,
}

impl LogintelMetrics {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register("logintel_lines", "Raw log lines processed.", this.lines.clone());
        metrics.register(
            "logintel_event_times_clamped",
            "Lines whose own timestamp was out of bounds (future: after ingestion; late: before the service's clock) and was replaced by the service's clock.",
            this.event_times_clamped.clone(),
        );
        metrics.register(
            "logintel_external_alerts",
            "Records of other monitoring systems' alerts read (firing and resolved).",
            this.external_alerts.clone(),
        );
        metrics.register(
            "logintel_alerts",
            "Alerts emitted, summaries included, by kind.",
            this.alerts.clone(),
        );
        metrics.register(
            "logintel_suppressed_repeats",
            "Repeated alert lines suppressed, by kind.",
            this.suppressed.clone(),
        );
        metrics.register(
            "logintel_templates",
            "Template changes, by change.",
            this.templates.clone(),
        );
        metrics.register(
            "logintel_incidents",
            "Incident state changes, by new status.",
            this.incidents.clone(),
        );
        metrics.register(
            "logintel_snapshots",
            "State snapshots, by outcome.",
            this.snapshots.clone(),
        );
        metrics.register(
            "logintel_replays_skipped",
            "Replayed records already in the restored state.",
            this.replays_skipped.clone(),
        );
        metrics.register(
            "logintel_state_gaps",
            "Restores that found committed records missing from the snapshot.",
            this.state_gaps.clone(),
        );
        metrics.register(
            "logintel_lines_per_alert",
            "Noise reduction: lines in per alert out.",
            this.lines_per_alert.clone(),
        );
        metrics.register(
            "logintel_refine_jobs",
            "New templates offered for refinement by a model, by outcome (queued or dropped).",
            this.refine_jobs.clone(),
        );
        metrics.register(
            "logintel_refine_calls",
            "Model calls made to refine templates.",
            this.refine_calls.clone(),
        );
        metrics.register(
            "logintel_refine_cache_hits",
            "Templates refined without a call (an identical template was decided before).",
            this.refine_cache_hits.clone(),
        );
        metrics.register(
            "logintel_refine_results",
            "Template refinements, by outcome.",
            this.refine_results.clone(),
        );
        metrics.register(
            "logintel_refine_rejections",
            "Refused template proposals, by the rule that refused them.",
            this.refine_rejections.clone(),
        );
        metrics.register(
            "logintel_refine_failures",
            "Template refinements without an answer, by reason.",
            this.refine_failures.clone(),
        );
        this
    }

    pub(crate) fn refine_job(&self, outcome: &'static str) {
        self.refine_jobs_by(outcome, 1);
    }

    pub(crate) fn refine_jobs_by(&self, outcome: &'static str, n: u64) {
        self.refine_jobs.get_or_create(&OutcomeLabel { outcome }).inc_by(n);
    }

    pub(crate) fn refine_result(&self, outcome: &'static str) {
        self.refine_results.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub(crate) fn refine_rejection(&self, reason: &'static str) {
        self.refine_result("rejected");
        self.refine_rejections.get_or_create(&ReasonLabel { reason }).inc();
    }

    pub(crate) fn refine_failure(&self, reason: &'static str) {
        self.refine_result("failed");
        self.refine_failures.get_or_create(&ReasonLabel { reason }).inc();
    }

    pub(crate) fn count_outputs(&self, outputs: &Outputs) {
        for clamped in &outputs.clamped {
            let bound = clamped.as_str();
            self.event_times_clamped.get_or_create(&BoundLabel { bound }).inc();
        }
        for alert in &outputs.alerts {
            let kind = alert.kind.as_str();
            self.alerts.get_or_create(&KindLabel { kind }).inc();
            if alert.suppressed > 0 {
                self.suppressed
                    .get_or_create(&KindLabel { kind })
                    .inc_by(alert.suppressed);
            }
        }
        for template in &outputs.templates {
            let change = match template.change {
                TemplateChangeKind::Created => "created",
                TemplateChangeKind::Updated => "updated",
                TemplateChangeKind::Split => "split",
            };
            self.templates.get_or_create(&ChangeLabel { change }).inc();
        }
        for incident in &outputs.incidents {
            let status = match incident.status {
                IncidentStatus::Open => "open",
                IncidentStatus::Resolved => "resolved",
            };
            self.incidents.get_or_create(&StatusLabel { status }).inc();
        }
    }

    pub(crate) fn snapshot(&self, outcome: &'static str) {
        self.snapshots.get_or_create(&OutcomeLabel { outcome }).inc();
    }
}
