//! gameday: disaster-recovery drills for GitOps-managed Kubernetes.
//!
//! A drill creates a throwaway cluster, bootstraps it from Git, breaks it on
//! purpose, recovers it the GitOps way and times every phase against the RTO
//! budgets its scenario file declares. See `DESIGN.md` for the architecture;
//! the modules follow it:
//!
//! - [`scenario`]: the scenario file format, its validation and JSON Schema;
//! - [`clock`]: wall and simulated time;
//! - [`process`]: the one place that starts external programs;
//! - [`sim`]: the embedded Kubernetes API simulator;
//! - [`report`]: the report tree, its statistics and one sink per format;
//! - [`gitops`]: source repositories, rendering, Git over HTTP, synthetic
//!   repositories;
//! - [`terraform`]: the Terraform CLI, as the terraform provider, the
//!   emulated Flux Terraform controller and the infra faults run it.

pub mod clock;
pub mod cluster;
pub mod drill;
pub mod exit;
pub mod gitops;
pub mod process;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod terraform;
