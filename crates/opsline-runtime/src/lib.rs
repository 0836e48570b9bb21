//! Shared run-time plumbing for Opsline services.
//!
//! - [`telemetry`]: `tracing` logs (pretty or JSON) and OpenTelemetry traces
//!   exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! - [`config`]: typed configuration from defaults, a TOML file and `OPSLINE_*` env vars.
//! - [`shutdown`]: one cancellation token per process, tripped by SIGTERM or Ctrl-C.
//! - [`metrics`]: the Prometheus registry every component registers into.
//! - [`http`]: `/healthz`, `/readyz` and `/metrics` routes.
//! - [`outbound`]: the one outbound HTTP(S) client (hyper + rustls/`ring`, no redirects, timeouts).

pub mod config;
pub mod http;
pub mod metrics;
pub mod outbound;
pub mod shutdown;
pub mod telemetry;

pub use shutdown::Shutdown;
