//! The GitOps layer: source repositories, rendering, serving, synthetic
//! repositories, the apply engine and bootstrap.
//!
//! - [`repo`]: a source repository driven through the `git` CLI — made from
//!   a fixture folder (reproducible commit SHAs), cloned from a URL, read in
//!   Flux's revision format, changed by commits (set a YAML field, replace or
//!   delete a file, revert), pushed back.
//! - [`mod@render`]: a path of a source turned into Kubernetes objects, with
//!   `kubectl kustomize` when the path has a `kustomization.yaml`, or as
//!   plain YAML files otherwise, as Flux's kustomize-controller does.
//! - [`helm`]: the real `helm` CLI against a cluster (the emulated
//!   helm-controller's engine, and `helm list`/`history` by hand).
//! - [`mirror`]: offline mirrors of remote sources (`spec.mirrors`, `sim
//!   serve --mirror`) and fetching a URL through them or over HTTP(S).
//! - [`oci`]: OCI artifacts pulled from a registry (the emulated
//!   source-controller's `OCIRepository` and OCI Helm repositories), and
//!   the registry gameday serves its `oci://` mirrors from.
//! - [`sops`]: SOPS decryption with the real `sops` CLI, as Flux's
//!   kustomize-controller decrypts a Kustomization's Secrets and
//!   `secretGenerator` sources (`spec.decryption`).
//! - [`tree`]: a path rendered as Flux would apply it, following the
//!   Flux Kustomizations of the same source into their paths, every
//!   object with its file and the Kustomization that applies it.
//! - [`serve`]: a local repository served read-only over Git smart HTTP
//!   (`git http-backend`), so that real Flux and the simulator's emulated
//!   source controller can fetch it from an `http://` URL.
//! - [`synth`]: synthetic repositories of N objects and K Flux
//!   Kustomizations, for tests and benchmarks.
//! - [`yaml`]: multi-document YAML files: splitting, parsing with locations,
//!   and setting a field by path.
//! - [`fetch`]: a reference of a remote fetched and stored as a source
//!   controller does (the emulated source-controller and the direct
//!   reconciler use it).
//! - [`bootstrap`]: bringing a cluster to the state of its repository —
//!   with Flux (installed, or emulated in the simulator) or with gameday's
//!   own reconciler (`direct`) — and operating that tooling afterwards
//!   (adopt, trigger, lose the controller) through one API,
//!   [`bootstrap::Tooling`]; the served source it follows,
//!   [`bootstrap::Source`].
//! - [`by_hand`]: changes a person makes with kubectl (apply a file,
//!   delete an object), the drift Git does not know about.
//! - [`apply`]: server-side apply of a set of objects in dependency order,
//!   with pruning by inventory and watch-based health waits; used by both
//!   bootstrap methods and by the simulator's emulated Flux.

pub mod apply;
pub mod bootstrap;
pub mod by_hand;
pub mod fetch;
pub mod helm;
pub mod mirror;
pub mod oci;
pub mod render;
pub mod repo;
pub mod serve;
pub mod sops;
pub mod synth;
pub mod tree;
pub mod yaml;

pub use render::{Object, Provenance, Rendered, render};
pub use repo::{Change, GitRef, Repo, Revision};
pub use serve::GitServer;
