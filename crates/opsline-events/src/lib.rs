//! Opsline event contracts.
//!
//! Every record on the Opsline bus is an [`Envelope`] around one typed payload
//! (an implementation of [`Event`]). The JSON Schema of each envelope lives in
//! the repository's `schemas/` folder; it is generated from these types by
//! [`schema::event_schema`] and a test fails when the checked-in file and the
//! types drift apart, so the files are the reviewed contract.
//!
//! Topic names, partition keys and retention live in [`topics`].

pub mod actions;
pub mod envelope;
pub mod external;
pub mod incidents;
pub mod logs;
pub mod notify;
pub mod ops;
pub mod refined;
pub mod schema;
pub mod tickets;
pub mod topics;

pub use envelope::{Envelope, Event, TraceContext, new_event_id};
pub use topics::{TopicNames, TopicSpec};
