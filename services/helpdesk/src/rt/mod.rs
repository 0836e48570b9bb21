//! Request Tracker (RT 5, REST 2): write-back ([`writeback`]), intake ([`intake`]) and feedback
//! ([`feedback`]) over one REST 2 client ([`client`]); the state kept on each ticket and the
//! write-back rules are in [`state`].

pub mod client;
pub mod feedback;
pub mod intake;
pub mod state;
pub mod writeback;

pub use client::{RtClient, RtTicket};
pub use writeback::RtSink;
