//! What the API server stores, and the rules it stores it by.
//!
//! - [`store`]: objects as JSON, one resourceVersion counter, per-resource
//!   history for watch resumption, events — and the in-process API the
//!   simulated controllers use (start there);
//! - [`kinds`]: the resource types served (built-in, and those
//!   [`crd`]s define), read by discovery, OpenAPI and routing alike;
//! - [`resource`]: type and object identity ([`resource::Gvr`],
//!   [`resource::ObjectRef`]); [`status`]: API errors and their `Status`
//!   bodies;
//! - how writes are shaped: [`selectors`] (label and field), [`patch`]
//!   (merge, JSON, strategic), [`ownership`] (managedFields and
//!   server-side apply), [`defaults`];
//! - [`lifecycle`]: the API server's own background controllers —
//!   namespace finalization, the ownerReference garbage collector, CRD
//!   cleanup.
//!
//! No code here uses the API server, the workloads or Flux: they all sit on
//! the store.

pub mod crd;
pub mod defaults;
pub mod event_versions;
pub mod kinds;
pub mod lifecycle;
pub mod ownership;
pub mod patch;
pub mod resource;
pub mod selectors;
pub mod status;
pub mod store;
