//! Helpdesk metrics (bounded labels only: the sink is one of a fixed set of names, outcomes
//! and error codes are fixed strings).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_helpdesk_writebacks_total` | counter | `sink` (`rt`, `jira`, `servicenow`, `zendesk`; `none` for `not_ours`), `outcome` (`applied`, `stale`, `not_ours`, or an error code) |
//! | `opsline_helpdesk_intake_total` | counter | `outcome` (`posted`, `refused`) |
//! | `opsline_helpdesk_polls_total` | counter | `poller` (`intake`, `feedback`), `outcome` (`ok`, `error`) |
//! | `opsline_helpdesk_feedback_total` | counter | |

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// `sink` and `outcome` labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkOutcome {
    sink: &'static str,
    outcome: &'static str,
}

/// `outcome` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// `poller` and `outcome` labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PollOutcome {
    poller: &'static str,
    outcome: &'static str,
}

/// The helpdesk service's metric families.
#[derive(Debug, Clone, Default)]
pub struct HelpdeskMetrics {
    writebacks: Family<SinkOutcome, Counter>,
    intake: Family<Outcome, Counter>,
    polls: Family<PollOutcome, Counter>,
    feedback: Counter,
}

impl HelpdeskMetrics {
    /// Registers the families in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "helpdesk_writebacks",
            "Routed revisions written back, by sink and outcome.",
            this.writebacks.clone(),
        );
        metrics.register(
            "helpdesk_intake",
            "Helpdesk tickets posted to the gateway, by outcome.",
            this.intake.clone(),
        );
        metrics.register(
            "helpdesk_polls",
            "Helpdesk polls, by poller and outcome.",
            this.polls.clone(),
        );
        metrics.register(
            "helpdesk_feedback",
            "Re-routes made in the helpdesk published as feedback.",
            this.feedback.clone(),
        );
        this
    }

    /// One write-back's outcome.
    pub fn writeback(&self, sink: &'static str, outcome: &'static str) {
        self.writebacks.get_or_create(&SinkOutcome { sink, outcome }).inc();
    }

    /// One intake outcome.
    pub fn intake(&self, outcome: &'static str) {
        self.intake.get_or_create(&Outcome { outcome }).inc();
    }

    /// One poll's outcome.
    pub fn poll(&self, poller: &'static str, outcome: &'static str) {
        self.polls.get_or_create(&PollOutcome { poller, outcome }).inc();
    }

    /// One re-route published.
    pub fn feedback(&self) {
        self.feedback.inc();
    }
}
