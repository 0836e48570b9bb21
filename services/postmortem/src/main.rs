//! `opsline-postmortem`: the postmortem service as a standalone process.

fn main() {}
