//! The routed-ticket consumer: each revision is written back to the helpdesk it came from
//! (the [`AnySink`] whose ticket prefix it carries) inside `process`, so the consumer loop
//! commits its offset only once the write-back is done (or dead-lettered): a helpdesk that is
//! down or answers 429/5xx is retried (the sink's own retries, then the loop's `backon`
//! retries), then the revision goes to `<routed topic>.dlq` with the reason; a refusal
//! (401/403, 404, another 4xx) is dead-lettered at once. Tickets from no configured helpdesk
//! are skipped.

use opsline_events::tickets::RoutedTicket;
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};
use opsline_runtime::Classify;

use crate::error::HelpdeskError;
use crate::metrics::HelpdeskMetrics;
use crate::rt::RtSink;
use crate::saas::jira::JiraSink;
use crate::saas::servicenow::ServiceNowSink;
use crate::saas::zendesk::ZendeskSink;
use crate::sink::{HelpdeskSink, WriteOutcome};

/// One configured helpdesk.
#[derive(Debug, Clone)]
pub enum AnySink {
    /// Request Tracker.
    Rt(Box<RtSink>),
    /// Jira Service Management.
    Jira(JiraSink),
    /// ServiceNow.
    ServiceNow(ServiceNowSink),
    /// Zendesk.
    Zendesk(ZendeskSink),
}

impl AnySink {
    /// The sink's name (metrics label).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Rt(_) => RtSink::NAME,
            Self::Jira(_) => JiraSink::NAME,
            Self::ServiceNow(_) => ServiceNowSink::NAME,
            Self::Zendesk(_) => ZendeskSink::NAME,
        }
    }

    /// The helpdesk's id of `ticket_id`, when the ticket came from this helpdesk.
    pub fn external_id<'a>(&self, ticket_id: &'a str) -> Option<&'a str> {
        match self {
            Self::Rt(sink) => sink.external_id(ticket_id),
            Self::Jira(sink) => sink.external_id(ticket_id),
            Self::ServiceNow(sink) => sink.external_id(ticket_id),
            Self::Zendesk(sink) => sink.external_id(ticket_id),
        }
    }

    /// Writes `ticket` back to `external_id`.
    pub async fn write_back(&self, ticket: &RoutedTicket, external_id: &str) -> Result<WriteOutcome, HelpdeskError> {
        match self {
            Self::Rt(sink) => sink.write_back(ticket, external_id).await,
            Self::Jira(sink) => sink.write_back(ticket, external_id).await,
            Self::ServiceNow(sink) => sink.write_back(ticket, external_id).await,
            Self::Zendesk(sink) => sink.write_back(ticket, external_id).await,
        }
    }
}

/// Writes routed revisions back through the configured sinks.
#[derive(Debug)]
pub struct WriteBackProcessor {
    /// The helpdesks.
    pub sinks: Vec<AnySink>,
    /// Metrics.
    pub metrics: HelpdeskMetrics,
}

impl Processor for WriteBackProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        let ticket = record
            .envelope::<RoutedTicket>()
            .map_err(|e| HelpdeskError::InvalidInput(e.to_string()))?
            .data;
        let Some((sink, external_id)) = self
            .sinks
            .iter()
            .find_map(|sink| sink.external_id(&ticket.ticket_id).map(|id| (sink, id)))
        else {
            self.metrics.writeback("none", "not_ours");
            return Ok(Vec::new());
        };
        match sink.write_back(&ticket, external_id).await {
            Ok(outcome) => {
                self.metrics.writeback(sink.name(), outcome.label());
                Ok(Vec::new())
            }
            Err(error) => {
                self.metrics.writeback(sink.name(), error.code());
                tracing::warn!(ticket = %ticket.ticket_id, revision = ticket.revision, %error, "write-back failed");
                Err(error.into())
            }
        }
    }
}
