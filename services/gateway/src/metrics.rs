//! Gateway metrics.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `opsline_gateway_requests_total` | counter | `endpoint`, `status` |
//! | `opsline_gateway_accepted_records_total` | counter | `endpoint` |
//! | `opsline_gateway_rejected_records_total` | counter | `endpoint`, `code` |
//! | `opsline_gateway_masked_values_total` | counter | `endpoint` |
//! | `opsline_gateway_syslog_dropped_total` | counter | `endpoint` (`syslog/udp`) |
//! | `opsline_gateway_chat_refused_total` | counter | `platform`, `code` |
//! | `opsline_gateway_ingest_refused_total` | counter | `endpoint` (`logs`, `tickets`, `alerts`), `reason` |
//! | `opsline_gateway_key_requests_total` | counter | `key` (the ingest key's name), `endpoint` |
//! | `opsline_gateway_in_flight_body_bytes` | gauge | |

//! `endpoint` is a route (`/v1/logs`, `/v1/tickets`, ...), `/v1/logs (otlp)`, `syslog/tcp` or
//! `syslog/udp`.

use opsline_runtime::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabel {
    pub(crate) endpoint: &'static str,
    pub(crate) status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct EndpointLabel {
    pub(crate) endpoint: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RejectLabel {
    pub(crate) endpoint: &'static str,
    pub(crate) code: &'static str,
}

/// Label of the refused chat requests counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ChatRefusalLabel {
    pub(crate) platform: &'static str,
    pub(crate) code: &'static str,
}

/// Label of the masked-credentials counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct MaskLabel {
    pub(crate) endpoint: &'static str,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct GatewayMetrics {
    pub(crate) masked: Family<MaskLabel, Counter>,
    pub(crate) requests: Family<RequestLabel, Counter>,
    pub(crate) accepted: Family<EndpointLabel, Counter>,
    pub(crate) rejected: Family<RejectLabel, Counter>,
    pub(crate) syslog_dropped: Family<EndpointLabel, Counter>,
    pub(crate) chat_refused: Family<ChatRefusalLabel, Counter>,
}

impl GatewayMetrics {
    pub(crate) fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "gateway_requests",
            "HTTP requests by endpoint and status.",
            this.requests.clone(),
        );
        metrics.register(
            "gateway_accepted_records",
            "Records acknowledged by Kafka.",
            this.accepted.clone(),
        );
        metrics.register(
            "gateway_masked_values",
            "Credentials and card numbers masked in incoming records, by endpoint.",
            this.masked.clone(),
        );
        metrics.register(
            "gateway_rejected_records",
            "Records rejected, by reason code.",
            this.rejected.clone(),
        );
        metrics.register(
            "gateway_syslog_dropped",
            "Syslog datagrams dropped because the producer queue was full.",
            this.syslog_dropped.clone(),
        );
        metrics.register(
            "gateway_chat_refused",
            "Chat requests refused (bad signature, stale, replayed, malformed), by platform and code.",
            this.chat_refused.clone(),
        );
        this
    }
}
