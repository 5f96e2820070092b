//! The simulated cluster's workloads: what kube-controller-manager, the
//! scheduler and the kubelets would do, on the cluster's clock.
//!
//! - [`controllers`]: Deployments, ReplicaSets, StatefulSets, DaemonSets,
//!   Jobs, Services, the scheduler, the kubelets and the node lifecycle
//!   controller, in one deterministic engine;
//! - [`stages`]: the Pod and Node lifecycle as data (kwok-style stages,
//!   defaults embedded);
//! - [`profile`]: latency profiles (`instant`, `kind`, `eks`) and the
//!   Kubernetes timeouts; [`jitter`]: seeded, order-independent jitter;
//! - [`nodes`]: the Nodes created at start and their conditions;
//! - [`images`]: the image registry (which images pull, fail or are
//!   missing) and the nodes' image caches.

pub mod controllers;
pub mod images;
pub mod jitter;
pub mod nodes;
pub mod profile;
pub mod stages;
