//! Opsline selfservice service (being built).
