//! Alerts raised by the monitoring systems a team already runs (Prometheus Alertmanager and
//! Grafana's Alertmanager-compatible contact point today), as the gateway received them. The
//! log service correlates them into incidents exactly like its own log alerts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::Event;
use crate::logs::Severity;

/// Whether the source system says the alert is still firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExternalAlertStatus {
    /// The condition holds.
    Firing,
    /// The condition ended (`ends_at`).
    Resolved,
}

/// One alert of another monitoring system; its firing and its resolution are two records with
/// the same `alert_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExternalAlert {
    /// The alert's id: UUID v5 of the source, the fingerprint and the start time, so the same
    /// occurrence (re-sent, or resolved) keeps its id and a new occurrence gets a new one.
    pub alert_id: Uuid,
    /// The system that raised it: `alertmanager`.
    pub source: String,
    /// The source's identity of the alert (Alertmanager's fingerprint of its labels).
    pub fingerprint: String,
    /// Firing or resolved.
    pub status: ExternalAlertStatus,
    /// The service it is about: the `service` label, else `job`, else `app`, else `alertname`
    /// (lower-cased, as the log service names services).
    pub service: String,
    /// The alert's name (`alertname`).
    pub name: String,
    /// From the `severity` label: `critical`/`page`/`error` critical, `info`/`none` info,
    /// anything else warning.
    pub severity: Severity,
    /// The `summary` annotation, else `description`, else the name.
    pub summary: String,
    /// Every label.
    pub labels: BTreeMap<String, String>,
    /// Every annotation.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    pub starts_at: Timestamp,
    /// When it ended (resolved alerts; Alertmanager's zero time means unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    /// Where to see it in the source (Prometheus' graph of the rule's expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
    /// The host it names (`instance` without its port, else `host`, `hostname` or `node`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl Event for ExternalAlert {
    const TYPE: &'static str = "alert.external";
    fn sample() -> Self {
        Self {
            alert_id: Uuid::from_u128(0x0193_0c3a_5e2b_5c1d_8e4f_0000_0000_00a1),
            source: "alertmanager".into(),
            fingerprint: "7a3f09c1d2e4b5a6".into(),
            status: ExternalAlertStatus::Firing,
            service: "checkout".into(),
            name: "HighErrorRate".into(),
            severity: Severity::Critical,
            summary: "5xx above 5% for 5 minutes".into(),
            labels: BTreeMap::from([
                ("alertname".into(), "HighErrorRate".into()),
                ("service".into(), "checkout".into()),
                ("severity".into(), "critical".into()),
            ]),
            annotations: BTreeMap::from([("summary".into(), "5xx above 5% for 5 minutes".into())]),
            starts_at: Timestamp::from_second(1_733_000_000).unwrap_or(Timestamp::UNIX_EPOCH),
            ends_at: None,
            generator_url: Some("http://prometheus:9090/graph?g0.expr=rate".into()),
            host: Some("web-3".into()),
        }
    }
}
