//! Search benchmark (being written).
