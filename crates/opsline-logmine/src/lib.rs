//! # opsline-logmine
//!
//! Streaming log template mining for Opsline. Each raw log line (bytes, header included) becomes a
//! template id, a template text with `<*>` wildcards, the parameter values, and the parsed header
//! (timestamp, level, component). The miner is a pure, single-threaded state machine:
//!
//! * [`header`]: built-in header shapes with auto-detection from the first lines of a stream, or a
//!   user format string / regex;
//! * masking of obvious variables (numbers, hex, IPs, UUIDs, paths, …);
//! * a Drain-class prefix tree with a similarity threshold on constant tokens; templates
//!   generalise, merge and split as lines arrive and every change is reported as a
//!   [`TemplateChange`];
//! * [`Snapshot`]s (serde) so a restarted service keeps the same template ids;
//! * a hot path without regexes or per-line allocations: table-driven byte scanners for masking
//!   and for the locked header format, tokens interned once and compared as integers;
//! * caps on line length, tokens per line and templates per tree leaf against adversarial input.
//!
//! [`refine`] optionally asks a language model for better templates (checked against the
//! template's lines, one call per template, off the hot path).
//!
//! [`eval`] scores the miner on LogHub data with the Loghub-2.0 metrics and [`bench`](mod@bench) measures
//! throughput; both do file I/O, the miner itself does none.
//!
//! ```
//! use opsline_logmine::{Miner, MinerConfig};
//! let mut miner = Miner::new(MinerConfig::default()).unwrap();
//! let a = miner.ingest(b"2024-01-01 10:00:00 INFO db.Pool: connection 17 opened");
//! let b = miner.ingest(b"2024-01-01 10:00:01 INFO db.Pool: connection 42 opened");
//! assert_eq!(a.template_id, b.template_id);
//! assert_eq!(&*b.template, "connection <*> opened");
//! assert_eq!(b.params, vec!["42".to_string()]);
//! assert_eq!(b.header.level.as_deref(), Some("INFO"));
//! ```
//!
//! [`Miner::ingest_ref`] is the allocation-free form for hot loops: it returns a [`ParsedRef`]
//! borrowing the line and the miner, whose parameters are only computed when asked for.
//!
//! ```
//! use opsline_logmine::{Miner, MinerConfig, Severity, classify_level};
//! let mut miner = Miner::new(MinerConfig::default()).unwrap();
//! let line = b"2024-01-01 10:00:02 ERROR db.Pool: connection 7 lost";
//! let parsed = miner.ingest_ref(line);
//! assert_eq!(&**parsed.template, "connection <*> lost");
//! assert_eq!(parsed.header.level.and_then(classify_level), Some(Severity::Error));
//! assert_eq!(parsed.params().collect::<Vec<_>>(), ["7"]);
//! ```

pub mod bench;
mod config;
pub mod eval;
mod hash;
pub mod header;
mod intern;
mod mask;
mod miner;
pub mod refine;
mod severity;
mod snapshot;

pub use config::MinerConfig;
pub use header::{BUILTIN_FORMATS, FormatError, Header};
pub use mask::WILDCARD;
pub use miner::{HeaderRef, Miner, MinerError, Parsed, ParsedRef, SPLIT_EVIDENCE_LINES, Template, TemplateChange};
pub use severity::{Severity, classify_level};
pub use snapshot::{HeaderState, NodeState, SNAPSHOT_VERSION, Snapshot, TemplateState, WatchedState};
