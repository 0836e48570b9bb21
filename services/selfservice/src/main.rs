//! `opsline-selfservice` (being built).

fn main() {}
