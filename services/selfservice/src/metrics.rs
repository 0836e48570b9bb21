//! Self-service metrics.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_selfservice_actions_total` | counter | `action`, `outcome` |
//! | `opsline_selfservice_messages_total` | counter | `intent` |

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

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
        this
    }
}
