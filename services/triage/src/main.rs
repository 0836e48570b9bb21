//! `opsline-triage` (being built).

fn main() {}
