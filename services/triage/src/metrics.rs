//! Triage metrics (bounded labels only).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_triage_tickets_total` | counter | `disposition` (`auto_routed`, `human_review`, `self_service`) |
//! | `opsline_triage_enrichments_total` | counter | `outcome` (`ok`, `queue_full`, `stale`, `disabled`, `llm_error`, `produce_error`) |
//! | `opsline_triage_incident_links_total` | counter | |
//! | `opsline_triage_webhook_deliveries_total` | counter | `outcome` (`ok`, `dead_lettered`) |

use opsline_events::tickets::Disposition;
use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// `disposition` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DispositionLabel {
    disposition: &'static str,
}

/// `outcome` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    outcome: &'static str,
}

/// The triage service's metric families.
#[derive(Debug, Clone, Default)]
pub(crate) struct TriageMetrics {
    tickets: Family<DispositionLabel, Counter>,
    enrichments: Family<OutcomeLabel, Counter>,
    incident_links: Counter,
    webhook: Family<OutcomeLabel, Counter>,
}

impl TriageMetrics {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "triage_tickets",
            "Tickets triaged, by disposition.",
            this.tickets.clone(),
        );
        metrics.register(
            "triage_enrichments",
            "LLM enrichments, by outcome (skips included).",
            this.enrichments.clone(),
        );
        metrics.register(
            "triage_incident_links",
            "Tickets linked to an open incident.",
            this.incident_links.clone(),
        );
        metrics.register(
            "triage_webhook_deliveries",
            "Helpdesk webhook deliveries, by outcome.",
            this.webhook.clone(),
        );
        this
    }

    pub(crate) fn ticket(&self, disposition: Disposition) {
        let disposition = match disposition {
            Disposition::AutoRouted => "auto_routed",
            Disposition::HumanReview => "human_review",
            Disposition::SelfService => "self_service",
        };
        self.tickets.get_or_create(&DispositionLabel { disposition }).inc();
    }

    pub(crate) fn enrichment(&self, outcome: &'static str) {
        self.enrichments.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub(crate) fn incident_link(&self) {
        self.incident_links.inc();
    }

    pub(crate) fn webhook(&self, outcome: &'static str) {
        self.webhook.get_or_create(&OutcomeLabel { outcome }).inc();
    }
}
