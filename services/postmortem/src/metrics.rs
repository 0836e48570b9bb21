//! Postmortem service metrics.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_postmortem_drafts_total` | counter | `outcome` (`drafted`, `redrafted`, `unchanged`) |
//! | `opsline_postmortem_narratives_total` | counter | `outcome` (`published`, `queue_full`, `stale`, `drafter_error`, `ungrounded`, `citations_rejected`, `superseded`, `base_not_indexed`, `produce_error`, `cancelled`, `stopped`) |
//! | `opsline_postmortem_transitions_total` | counter | `status` (`reviewed`, `published`) |
//! | `opsline_postmortem_indexed_total` | counter | `kind` (`postmortem`, `runbook`) |
//! | `opsline_postmortem_winner_rewritten_total` | counter | (none): a losing revision was written after the winner, which was written again |

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// Labels of the drafts counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DraftLabel {
    pub(crate) outcome: &'static str,
}

/// A label with one bounded value.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StatusLabel {
    pub(crate) status: &'static str,
}

/// A label with one bounded value.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabel {
    pub(crate) kind: &'static str,
}

/// The service's counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct PostmortemMetrics {
    pub(crate) drafts: Family<DraftLabel, Counter>,
    pub(crate) narratives: Family<DraftLabel, Counter>,
    pub(crate) transitions: Family<StatusLabel, Counter>,
    pub(crate) indexed: Family<KindLabel, Counter>,
    pub(crate) winner_rewritten: Counter,
}

impl PostmortemMetrics {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "postmortem_drafts",
            "Deterministic drafts (revision 1 or a redraft), by outcome.",
            this.drafts.clone(),
        );
        metrics.register(
            "postmortem_narratives",
            "Asynchronous narratives (the next revision of a draft), by outcome.",
            this.narratives.clone(),
        );
        metrics.register(
            "postmortem_transitions",
            "Review workflow transitions.",
            this.transitions.clone(),
        );
        metrics.register("postmortem_indexed", "Documents indexed.", this.indexed.clone());
        metrics.register(
            "postmortem_winner_rewritten",
            "Current revisions written again because a losing revision was written after them (compaction keeps the last).",
            this.winner_rewritten.clone(),
        );
        this
    }

    /// Counts one narrative job's outcome.
    pub(crate) fn narrative(&self, outcome: &'static str) {
        self.narratives.get_or_create(&DraftLabel { outcome }).inc();
    }
}
