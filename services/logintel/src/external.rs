//! The consumer of other monitoring systems' alerts (`opsline.alerts.external.v1`, written by the
//! gateway's Alertmanager webhook): each record goes through the engine
//! ([`crate::engine::Engine::on_external`]) beside the log alerts of the same service. Read by
//! the same consumer as raw logs ([`crate::inputs`]), so it runs on the replica holding them.
//!
//! # Delivery guarantee
//!
//! At least once, as for raw logs: the alert and incident records a firing or resolved alert
//! yields are acknowledged before its offset is committed; the alert's envelope id is its alert
//! id and a repeated firing record changes nothing, so a replay yields nothing new. A record that
//! is not an external alert is dead-lettered with the reason.

use opsline_events::external::ExternalAlert;
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};

use crate::error::LogintelError;
use crate::metrics::LogintelMetrics;
use crate::processor::{SharedState, Topics, encode_outputs, lock};

/// Feeds external alerts to the shared engine.
pub(crate) struct ExternalProcessor {
    shared: SharedState,
    topics: Topics,
    metrics: LogintelMetrics,
}

impl ExternalProcessor {
    /// A processor on the engine in `shared`, producing to `topics`.
    pub(crate) fn new(shared: SharedState, topics: Topics, metrics: LogintelMetrics) -> Self {
        Self {
            shared,
            topics,
            metrics,
        }
    }

    fn handle(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, LogintelError> {
        let envelope = record
            .envelope::<ExternalAlert>()
            .map_err(|e| LogintelError::InvalidInput(e.to_string()))?;
        let outputs = lock(&self.shared).engine.on_external(&envelope.data);
        self.metrics.external_alerts.inc();
        self.metrics.count_outputs(&outputs);
        encode_outputs(&outputs, &self.topics)
    }
}

impl Processor for ExternalProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        self.handle(record).map_err(ProcessError::from)
    }
}
