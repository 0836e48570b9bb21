//! # opsline-logintel: the log intelligence service
//!
//! Consumes the raw-log topic (keyed by service, so each replica owns the
//! state of the services in its partitions), mines templates with
//! `opsline-logmine`, and emits:
//! - template changes to the compacted templates topic (`service/template_id`);
//! - alerts (new template after warm-up, rate burst over a learned baseline,
//!   error surge, silence of a steady template) with redacted samples,
//!   counts, window, severity and evidence; repeats are suppressed and summarised;
//! - incidents (alerts correlated by time and content whose attention score says a person
//!   should look, with severity sev1..sev4 and the postmortem decision) to the compacted
//!   incidents topic, resolved after a quiet period or by
//!   `POST /v1/incidents/{id}/resolve`.
//!
//! Alerts of other monitoring systems (Alertmanager and Grafana, through the gateway's webhook,
//! on `opsline.alerts.external.v1`) join the same correlation (module `external`).
//! Acknowledgements clicked in Slack arrive on `opsline.incidents.actions.v1` and are applied
//! by the replica holding the incident, like the API's (module `actions`).
//!
//! Everything runs on event time (log header timestamps, else the record's
//! time), so replaying a file behaves like live traffic.
//!
//! # Delivery guarantee
//!
//! **At least once**, with deterministic ids. A raw-log offset is committed
//! only after every template, alert, incident and snapshot record produced for
//! it was acknowledged (see `opsline-kafka`). A replay after a crash produces
//! the same alert and incident ids (derived from service, kind, template and
//! window), and records already reflected in the restored snapshot are
//! skipped, so consumers deduplicate on ids. See [`state`] for the snapshot
//! protocol and its one gap (an abrupt kill between a commit and the next snapshot).
//!
//! # Modules
//! - [`config`]: settings; [`error`]: the error type;
//! - [`eventtime`], [`redaction`], [`ids`]: helpers;
//! - [`detector`]: per-service alert detection and suppression;
//! - [`attention`]: the attention score and severity levels; [`correlation`]: which alerts
//!   belong together; [`incidents`]: pending groups, incidents and their lifecycle;
//!   [`policy`]: the postmortem policy;
//! - [`engine`]: miner + detector + incidents per service (pure, synchronous);
//! - [`refiner`]: new templates refined by a language model off the hot path (optional);
//! - [`state`]: snapshots and restore; [`volume`]: lines received per service and hour or day;
//! - [`processor`]: the Kafka processor; [`app`]: the service (plan, tasks, stop steps);
//!   `api`: its HTTP API;
//! - [`labelled`]: the in-process labelled check (`labelled_check`);
//! - [`evaluation`]: `opsline eval incidents` (alerts, incidents, postmortems per replayed file).

mod actions;
mod api;
mod api_auth;
pub mod app;
pub mod attention;
pub mod config;
pub mod correlation;
pub mod detector;
pub mod engine;
pub mod error;
pub mod evaluation;
pub mod eventtime;
mod external;
pub mod handover;
pub mod ids;
pub mod incidents;
mod inputs;
pub mod labelled;
mod metrics;
pub mod policy;
pub mod processor;
pub mod redaction;
pub mod refiner;
pub mod shared;
pub mod snapshot_gate;
pub mod state;
mod tickets;
pub mod timeguard;
pub mod volume;

pub use app::Logintel;
pub use config::{DetectorConfig, IncidentConfig, LogintelConfig};
pub use engine::{Engine, EngineConfig, LineInput, Outputs};
pub use error::LogintelError;
pub use labelled::{LabelledReport, labelled_check};
