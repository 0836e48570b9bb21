//! The routed-ticket consumer: each revision is written back to the helpdesk it came from
//! through a [`HelpdeskSink`] inside `process`, so the consumer loop commits its offset only
//! once the write-back is done (or dead-lettered): a helpdesk that is down or answers 429/5xx
//! is retried (the sink's own retries, then the loop's `backon` retries), then the revision goes
//! to `<routed topic>.dlq` with the reason; a refusal (401/403, 404, another 4xx) is
//! dead-lettered at once. Tickets that did not come from this helpdesk are skipped.

use opsline_events::tickets::RoutedTicket;
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};

use crate::error::HelpdeskError;
use crate::metrics::HelpdeskMetrics;
use crate::sink::HelpdeskSink;

/// Writes routed revisions back through `sink`.
#[derive(Debug)]
pub struct WriteBackProcessor<S> {
    /// The helpdesk.
    pub sink: S,
    /// Metrics.
    pub metrics: HelpdeskMetrics,
}

impl<S: HelpdeskSink> Processor for WriteBackProcessor<S> {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        let ticket = record
            .envelope::<RoutedTicket>()
            .map_err(|e| HelpdeskError::InvalidInput(e.to_string()))?
            .data;
        let Some(external_id) = self.sink.external_id(&ticket.ticket_id) else {
            self.metrics.writeback(S::NAME, "not_ours");
            return Ok(Vec::new());
        };
        match self.sink.write_back(&ticket, external_id).await {
            Ok(outcome) => {
                self.metrics.writeback(S::NAME, outcome.label());
                Ok(Vec::new())
            }
            Err(error) => {
                use opsline_runtime::Classify;
                self.metrics.writeback(S::NAME, error.code());
                tracing::warn!(ticket = %ticket.ticket_id, revision = ticket.revision, %error, "write-back failed");
                Err(error.into())
            }
        }
    }
}
