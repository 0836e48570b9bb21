//! # opsline-triage: the ticket triage service
//!
//! Consumes raw tickets and, for each one, decides without any language model:
//! - redaction of the subject and description (`opsline-privacy`);
//! - a self-service intent (password reset, ticket or service status) hands the
//!   ticket to self-service (disposition `self_service`);
//! - otherwise the queue from the trained classifier (`opsline-classify`) with
//!   its calibrated confidence; below the threshold the ticket goes to the human
//!   triage queue (disposition `human_review`);
//! - the priority from documented rules ([`priority`]), raised by a linked incident;
//! - a link to an open incident of a service the ticket names, in the
//!   incident's time window, or with text similar to its alert templates ([`incidents`]).
//!
//! It publishes at once the triaged ticket, revision 1 of the routed ticket and
//! the ticket state (`routed` or `awaiting_triage`). In the background, the LLM
//! scheduler's bounded, prioritised queue feeds the enrichment (summary, suggested reply,
//! citations grounded on runbooks and similar tickets), published as revision 2
//! ([`enrichment`], one ticket's path in [`enricher`]), and an
//! optional helpdesk webhook receives every revision ([`webhook`]).
//!
//! # Delivery guarantee
//!
//! **At least once** for the routing outputs: a raw-ticket offset is committed
//! only after its three outputs (or its dead letter) are acknowledged. The
//! enrichment and the webhook are best effort and never hold back routing;
//! consumers keep the highest revision per ticket.
//!
//! # Modules
//! - [`config`]: settings; [`error`]: the error type;
//! - [`routing`], [`priority`], [`incidents`], [`text`]: the decision (pure);
//! - [`runbook_topics`]: whether a runbook is about a ticket (pure);
//! - [`grounding`], [`enricher`], [`enrichment`]: the LLM enrichment (usage ledger: `opsline_llm::KafkaUsageSink`);
//! - [`webhook`]: the helpdesk webhook;
//! - [`processor`]: the Kafka processors; [`app`]: the runnable service.

pub mod app;
pub mod config;
pub mod enricher;
pub mod enrichment;
pub mod error;
pub mod grounding;
pub mod incidents;
mod metrics;
pub mod priority;
pub mod processor;
pub mod routing;
pub mod runbook_topics;
pub mod secret_request;
pub mod text;
pub mod webhook;

pub use app::{IncidentsHandle, Triage, TriageHandle};
pub use config::{ClassifierConfig, EnrichmentConfig, IncidentLinkConfig, TriageConfig, WebhookConfig};
pub use error::TriageError;
