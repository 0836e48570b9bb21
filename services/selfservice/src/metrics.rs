//! Self-service metrics.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_selfservice_actions_total` | counter | `action`, `outcome` |
//! | `opsline_selfservice_messages_total` | counter | `intent` |
//! | `opsline_selfservice_replayed_messages_total` | counter | (none): messages dropped as already handled (platform retries, redelivery) |
//! | `opsline_selfservice_recalled_ids_total` | counter | `outcome` (`ok`, `failed`): ids read back from the chat topic when a partition was assigned (failed: readings that failed) |
//! | `opsline_selfservice_status_entries` | gauge | `kind` (`ticket`, `incident`) |
//! | `opsline_selfservice_status_evictions_total` | counter | `kind`, `reason` (`requester_cap`, `total_cap`, `retention`) |
//! | `opsline_selfservice_otp_open` | gauge | (none): one-time-code challenges held |
//! | `opsline_selfservice_otp_refused_total` | counter | (none): challenges refused because `otp.max_open` were open |

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ActionLabel {
    pub(crate) action: String,
    pub(crate) outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct IntentLabel {
    pub(crate) intent: &'static str,
}

/// Counters of the self-service service.
#[derive(Debug, Clone, Default)]
pub(crate) struct SelfServiceMetrics {
    pub(crate) actions: Family<ActionLabel, Counter>,
    pub(crate) messages: Family<IntentLabel, Counter>,
    pub(crate) replayed: Counter,
    pub(crate) recalled: Family<OutcomeLabel, Counter>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    pub(crate) outcome: &'static str,
}

impl SelfServiceMetrics {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "selfservice_actions",
            "Audited self-service actions by action and outcome.",
            this.actions.clone(),
        );
        metrics.register(
            "selfservice_messages",
            "Chat messages handled, by detected intent.",
            this.messages.clone(),
        );
        metrics.register(
            "selfservice_replayed_messages",
            "Chat messages dropped because their envelope id was already handled.",
            this.replayed.clone(),
        );
        metrics.register(
            "selfservice_recalled_ids",
            "Handled message ids read back from the chat topic at partition assignment (failed: readings).",
            this.recalled.clone(),
        );
        this
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EvictionLabel {
    kind: &'static str,
    reason: &'static str,
}

/// Size and evictions of the status book (unregistered until [`StatusCounters::register`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusCounters {
    entries: Family<KindLabel, Gauge>,
    evictions: Family<EvictionLabel, Counter>,
}

impl StatusCounters {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "selfservice_status_entries",
            "Tickets and incidents held by the status book, by kind.",
            this.entries.clone(),
        );
        metrics.register(
            "selfservice_status_evictions",
            "Entries evicted from the status book, by kind and reason (requester_cap, total_cap, retention).",
            this.evictions.clone(),
        );
        this
    }

    /// Records the book's current size.
    pub(crate) fn set_entries(&self, tickets: usize, incidents: usize) {
        let gauge = |kind| self.entries.get_or_create(&KindLabel { kind }).clone();
        gauge("ticket").set(i64::try_from(tickets).unwrap_or(i64::MAX));
        gauge("incident").set(i64::try_from(incidents).unwrap_or(i64::MAX));
    }

    /// Counts one eviction.
    pub(crate) fn evicted(&self, kind: &'static str, reason: &'static str) {
        self.evictions.get_or_create(&EvictionLabel { kind, reason }).inc();
    }
}

/// Open one-time-code challenges and refusals at the cap (unregistered until
/// [`ChallengeCounters::register`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct ChallengeCounters {
    open: Gauge,
    pub(crate) refused: Counter,
}

impl ChallengeCounters {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "selfservice_otp_open",
            "One-time-code challenges held.",
            this.open.clone(),
        );
        metrics.register(
            "selfservice_otp_refused",
            "Resets refused because otp.max_open challenges were outstanding.",
            this.refused.clone(),
        );
        this
    }

    /// Records the number of challenges held.
    pub(crate) fn set_open(&self, open: usize) {
        self.open.set(i64::try_from(open).unwrap_or(i64::MAX));
    }
}
