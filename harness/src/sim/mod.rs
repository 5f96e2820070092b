//! The embedded Kubernetes API simulator.
//!
//! A Kubernetes API server in-process, faithful enough that kube-rs and
//! `kubectl` work against it unchanged. The pieces, by concept:
//!
//! - [`store`]: objects, revisions, history, events — and the in-process
//!   API the simulated controllers use (start there);
//! - [`registry`]: built-in and CRD-defined resource types; [`crd`];
//! - [`selectors`], [`patch`], [`ownership`] (managedFields and
//!   server-side apply), [`defaults`];
//! - [`status`]: API errors and their `Status` bodies;
//! - [`resource`]: type and object identity.

pub mod controllers;
pub mod crd;
pub mod defaults;
pub mod jitter;
pub mod lifecycle;
pub mod nodes;
pub mod ownership;
pub mod patch;
pub mod profile;
pub mod registry;
pub mod registry_images;
pub mod resource;
pub mod selectors;
pub mod stages;
pub mod status;
pub mod store;

pub use resource::{GroupResource, Gvr, ObjectRef};
pub use status::{ApiError, ApiResult, Reason};
pub use store::Store;
