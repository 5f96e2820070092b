//! Flux's vocabulary, shared by everything that speaks to Flux — the
//! bootstrap (real Flux on kind and existing clusters), the simulator's
//! emulated controllers, and the drill's probes:
//!
//! - [`install`]: the install manifests (`flux-system` Namespace, the CRDs
//!   with their real groups, versions, kinds and printer columns
//!   ([`install::crds`]), RBAC, the controller Deployments), and the
//!   Terraform controller's ([`install::tofu`]);
//! - [`status`]: condition types, reasons, the `requestedAt` annotation,
//!   the finalizer;
//! - [`duration`]: Go's duration syntax, which every Flux interval and
//!   timeout uses;
//! - [`health_exprs`]: a Kustomization's `healthCheckExprs`, CEL
//!   expressions deciding the health of custom resources.
//!
//! Pure data and functions: nothing here talks to a cluster.

pub mod duration;
pub mod health_exprs;
pub mod install;
pub mod status;
