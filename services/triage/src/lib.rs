//! Opsline triage service (being built).
