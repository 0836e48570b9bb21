//! Opsline's end-to-end suite as one test binary (one link instead of forty; each file is a
//! module, so `cargo test -p opsline-e2e --test e2e console_page::` runs one file's tests).
//!
//! Each test starts its own broker and services (see `opsline_e2e`), so modules share no state.
//! Three files stay binaries of their own, because they need the process to themselves:
//! `gateway_load` measures its peak memory, `selfservice_reset` captures every log line of the
//! process (no secret may leak), and `trace_propagation` installs the global tracer.

mod alertmanager_incident;
mod alertmanager_replicas;
mod attention_replay;
mod chat_platform_identity;
mod chat_replay_memory;
mod chat_slack_retries;
mod console_api;
mod console_csrf_sessions;
mod console_insights;
mod console_page;
mod console_records;
mod console_replicas;
mod gateway_alertmanager;
mod gateway_bad_input;
mod gateway_credentials;
mod gateway_ingest;
mod gateway_ingest_keys;
mod gateway_otlp;
mod gateway_overload;
mod gateway_syslog;
mod helpdesk_rt;
mod k8s_manifests;
mod kafka_runtime;
mod kafka_tls_scram;
mod llm_gateway;
mod logintel_adversarial;
mod logintel_refine;
mod logintel_replay;
mod notify_contract;
mod notify_failures;
mod notify_incident;
mod postmortem_compaction;
mod postmortem_e2e;
mod postmortem_llm;
mod postmortem_loghub;
mod postmortem_page;
mod postmortem_review_api;
mod postmortem_review_page;
mod scale_out;
mod scale_out_services;
mod selfservice_ldaps_starttls;
mod selfservice_refusals;
mod selfservice_reset_delivery;
mod selfservice_status;
mod service_lifecycle;
mod tansu_sqlite_store;
mod triage_follower;
mod triage_llm;
mod triage_routing;
mod triage_webhook;
