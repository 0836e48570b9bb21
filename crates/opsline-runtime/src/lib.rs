//! Shared run-time plumbing for Opsline services.
//!
//! - [`telemetry`]: `tracing` logs (pretty or JSON) and OpenTelemetry traces
//!   exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! - [`config`]: typed configuration from defaults, a TOML file and `OPSLINE_*` env vars.
//! - [`shutdown`]: one cancellation token per process, tripped by SIGTERM or Ctrl-C.
//! - [`metrics`]: the Prometheus registry every component registers into.
//! - [`http`]: `/healthz`, `/readyz` and `/metrics` routes.
//! - [`client_tls`]: the one `ca_file` loader and client TLS configuration; the loopback rule
//!   for plain transports.
//! - [`outbound`]: the one outbound HTTP(S) client (hyper + rustls/`ring`, no redirects, timeouts).
//! - [`service`]: the [`service::Service`] trait, [`service::Application`] and a binary's `main`.
//! - [`runner`]: the one runner: HTTP API plus ops routes, critical and background tasks,
//!   ordered stop steps.
//! - [`readiness`]: the one readiness rule (every condition met, not stopping).
//! - [`error`]: the three kinds of failure, start-up and run errors, the exit report.

pub mod client_tls;
pub mod config;
pub mod error;
pub mod http;
pub mod inbound_tls;
pub mod metrics;
pub mod outbound;
pub mod readiness;
pub mod runner;
pub mod secret_hash;
pub mod service;
pub mod shutdown;
pub mod telemetry;

pub use error::{BoxError, Classify, ErrorKind, RunError, StartupContext, StartupError};
pub use readiness::Readiness;
pub use runner::Runner;
pub use service::{Application, Service, ServiceConfig};
pub use shutdown::Shutdown;
