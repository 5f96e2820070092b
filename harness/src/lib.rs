//! gameday: disaster-recovery drills for GitOps-managed Kubernetes.
//!
//! A drill creates a throwaway cluster, bootstraps it from Git, breaks it on
//! purpose, recovers it the GitOps way and times every phase against the RTO
//! budgets its scenario file declares. See `DESIGN.md` for the architecture;
//! the modules follow it:
//!
//! Layers, top to bottom; a module never names one above its own (what two
//! layers share moves down):
//!
//! - `cli` (the binary): argument parsing, rendering, exit codes;
//! - [`drill`]: a repeat of a scenario as a pipeline, faults, the
//!   watch-based probe, snapshots;
//! - [`cluster`]: providers (sim, kind, terraform, existing), cleanup,
//!   ownership, gc;
//! - [`sim`]: the embedded Kubernetes API simulator and its emulated Flux;
//! - [`gitops`]: sources, rendering, the apply engine, bootstrap;
//!   [`terraform`]: the Terraform CLI; [`lint`]: static recoverability
//!   findings over a scanned source tree, and [`init`]: a first catalogue
//!   of drills planned from one;
//! - vocabulary: [`scenario`] (file format → model), [`report`] (tree,
//!   events, sinks), [`flux`] (API kinds, durations, status, install
//!   manifests), [`kstatus`] (health rules), [`clock`], [`process`] (the
//!   one place that finds and starts programs), [`exit`], [`error_chain`]
//!   (the one rendering of an error and its causes), [`nesting`] (the depth
//!   limit checked before any YAML or JSON is parsed), [`scratch`] (temporary
//!   folders `gameday gc` can tell from leftovers).

pub mod clock;
pub mod cluster;
pub mod drill;
pub mod error_chain;
pub mod exit;
pub mod flux;
pub mod gitops;
pub mod init;
pub mod kstatus;
pub mod lint;
pub mod nesting;
pub mod process;
pub mod report;
pub mod scenario;
pub mod scratch;
pub mod sim;
pub mod terraform;
