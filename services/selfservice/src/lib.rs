//! # opsline-selfservice: chat self-service
//!
//! Consumes verified chat messages (`opsline.chat.messages.v1`, written by the
//! gateway's signed chat webhook) and answers the two most common helpdesk requests
//! without a ticket:
//! - **password reset / account unlock** of the requester's own LDAP entry, with a
//!   one-time code to the registered e-mail as second factor, a random temporary
//!   password meeting the policy (flagged must-change), delivered only in a private
//!   reply to the platform;
//! - **ticket and service status** from the compacted ticket-state topic and the
//!   incidents topic (a user only sees their own tickets).
//!
//! Other requests become tickets for triage. The local intent classifier (with its
//! prompt-injection guard) decides the intent; who is acted on comes only from the
//! verified chat user id. No language model decides anything, and no secret reaches
//! logs, Kafka, traces or a model. Every attempt is a `selfservice.action` audit event
//! with its handling time and, for automatic resolutions, the helpdesk cost saved.
//!
//! # Delivery guarantee
//!
//! At least once (see [`processor`]); replies to the platform are retried with
//! backoff and dead-lettered (redacted) on final failure.
//!
//! # Modules
//! [`config`], [`error`], [`transport`] (LDAPS/StartTLS and https rules), [`directory`]
//! (LDAP), [`modify`] (each mode's modify operations), [`password`], [`otp`] (codes and
//! notifiers), [`reset`] (the reset/unlock flow), [`delivery`] (reset only when the reply
//! channel works; lock pending the helpdesk otherwise), [`screen`] (injection and other-account screening), [`status`] (materialized state),
//! [`handler`] (one message to one [`turn::Turn`]), [`reply`] (private replies),
//! [`processor`] (Kafka), [`app`] (the runnable service).

pub mod app;
pub mod config;
pub mod delivery;
pub mod directory;
pub mod error;
pub mod handler;
mod metrics;
pub mod modify;
pub mod otp;
pub mod password;
pub mod processor;
mod replay;
pub mod reply;
pub mod reset;
pub mod screen;
pub mod status;
pub mod transport;
pub mod turn;

pub use app::SelfService;
pub use config::SelfServiceConfig;
pub use error::SelfServiceError;
pub use otp::{Notifier, RecordingNotifier};
