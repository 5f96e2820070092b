//! Scenario format: loading, validation messages, round trips, the
//! catalogue and the published schema.

#[path = "../common/mod.rs"]
mod common;

mod catalogue;
mod hostile;
mod load_table;
mod roundtrip;
