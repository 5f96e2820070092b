//! The cluster providers, one module per backend (kind's layout): each
//! creates (or connects to) a cluster for a [`crate::cluster::Context`]
//! and carries what only it can do. [`crate::cluster::Cluster`] holds one
//! of them behind a closed enum and dispatches every operation with an
//! exhaustive `match`.
//!
//! - [`sim`]: the embedded simulator, in this process, on the drill's
//!   virtual clock;
//! - [`kind`]: kind through its CLI, node faults through the container
//!   engine;
//! - [`terraform`]: a cluster a Terraform module makes (`terraform apply`
//!   / `destroy` through [`crate::terraform`], the Terraform CLI);
//! - [`existing`]: a cluster gameday did not create, behind its guard
//!   rails (allowed contexts and namespaces, the user's confirmation).

pub mod existing;
pub mod kind;
pub mod sim;
pub mod terraform;
