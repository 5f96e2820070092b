//! Process exit codes, as documented in the README.
//!
//! They are part of the interface: CI pipelines branch on them.

/// Every objective was met (or, for `validate`, every file is valid).
pub const SUCCESS: u8 = 0;
/// A finding about the system under test: a drill missed an objective (an
/// RTO budget, objects lost that were not allowed to be — `failed`), the
/// source never reached its steady state before the disaster
/// (`unrecoverable`), or it uses what the simulator does not emulate
/// (`unsupported`).
pub const OBJECTIVE_MISSED: u8 = 1;
/// Invalid input: a scenario file, a flag, a path.
pub const INVALID_INPUT: u8 = 2;
/// An infrastructure error: a provider or an external tool failed, so the
/// drill could not be carried out.
pub const INFRASTRUCTURE: u8 = 3;
/// The run was interrupted (Ctrl-C / SIGINT): 128 + SIGINT, as shells report it.
pub const INTERRUPTED: u8 = 130;
