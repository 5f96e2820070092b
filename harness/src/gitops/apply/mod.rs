//! The apply engine: server-side apply of a set of objects, in order, with
//! pruning and health waits — what both bootstrap methods and the
//! simulator's emulated kustomize-controller use.
//!
//! ```ignore
//! let applier = Applier::new(client, clock, ApplyOptions::default());
//! let report = applier.apply(manifests).await;          // never fails as a whole
//! for o in &report.outcomes { println!("{o}") }          // Deployment/p/p created
//! let report = report.check()?;                           // Err names every failed object
//! let stale = previous.stale(&report.inventory());
//! applier.prune(&stale).await.check()?;
//! applier.wait_healthy(&report.applied().cloned().collect::<Vec<_>>(), timeout).await?;
//! ```
//!
//! - Server-side apply through kube-rs (`Patch::Apply`), field manager
//!   [`ApplyOptions::field_manager`] (default `gameday`), forcing conflicts
//!   as Flux does.
//! - Kind → resource mapping through cached discovery ([`discovery`]),
//!   refreshed when a kind is unknown — CRDs applied in the same batch work.
//! - Order ([`order`]): CRDs and Namespaces, then a wait until the CRDs are
//!   `Established` ([`crds`]), then other cluster-scoped objects, then
//!   namespaced ones; at most [`ApplyOptions::concurrency`] requests at once.
//! - Outcomes per object ([`outcome`]): created, configured, unchanged or
//!   failed (with the API error, the object and its file), and timings.
//! - Pruning by [`inventory`] in Flux's id format ([`prune`]), honouring
//!   `kustomize.toolkit.fluxcd.io/prune: disabled`.
//! - Health waits ([`mod@wait`]), watch-based, with the timeout on the
//!   cluster's [`Clock`].
//!
//! On a virtual clock, [`Applier::apply`] and [`Applier::prune`] hold a
//! `Busy` guard while they run (they are work, and never wait on simulated
//! time: the CRD wait is on wall time), so simulated time does not pass
//! during an apply; [`Applier::wait_healthy`] must be called without one.

pub mod crds;
pub mod discovery;
pub mod error;
pub mod inventory;
pub mod object;
pub mod order;
pub mod outcome;
pub mod prune;
mod run;
mod ssa;
pub mod wait;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;

pub use self::discovery::Mapping;
use self::discovery::ResourceCache;
pub use self::error::{Error, Failure, ObjectError, Result, Unhealthy};
pub use self::inventory::{Inventory, InventoryEntry};
pub use self::object::{Manifest, ObjectId, Versioned};
pub use self::order::Stage;
pub use self::outcome::{
    Action, ApplyReport, HealthReport, ObjectOutcome, PruneReport, Skip, StageTiming,
};
use crate::clock::Clock;

/// The field manager the harness applies as.
pub const DEFAULT_FIELD_MANAGER: &str = "gameday";

/// How an [`Applier`] applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Server-side apply field manager (`gameday`; Flux's is
    /// `kustomize-controller`).
    pub field_manager: String,
    /// Take over fields other managers own (`force`), as Flux does.
    pub force: bool,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How long to wait for a CRD to become `Established` (wall time).
    pub crd_timeout: Duration,
    /// Namespace for namespaced objects that have none. None (default, as
    /// in Flux): such objects fail with "namespace not specified".
    pub default_namespace: Option<String>,
    /// Labels added to every object. Prune deletes only objects that still
    /// carry all of them (Flux's owner labels).
    pub labels: BTreeMap<String, String>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            field_manager: DEFAULT_FIELD_MANAGER.to_owned(),
            force: true,
            concurrency: 16,
            crd_timeout: Duration::from_secs(60),
            default_namespace: None,
            labels: BTreeMap::new(),
        }
    }
}

impl ApplyOptions {
    /// Defaults with another field manager.
    pub fn manager(field_manager: &str) -> ApplyOptions {
        ApplyOptions {
            field_manager: field_manager.to_owned(),
            ..ApplyOptions::default()
        }
    }
}

/// Applies, prunes and waits on one cluster. Cheap to clone; clones share
/// the discovery cache.
#[derive(Debug, Clone)]
pub struct Applier {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    clock: Clock,
    options: ApplyOptions,
    cache: Arc<ResourceCache>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier")
            .field("options", &self.options)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Applier {
    /// An applier talking to `client`, timing waits on `clock`.
    pub fn new(client: Client, clock: Clock, options: ApplyOptions) -> Applier {
        Applier {
            inner: Arc::new(Inner {
                client,
                clock,
                options,
                cache: Arc::new(ResourceCache::default()),
            }),
        }
    }

    /// Another applier on the same cluster and discovery cache with other
    /// options (a Kustomization's own `targetNamespace` and owner labels).
    pub fn with_options(&self, options: ApplyOptions) -> Applier {
        Applier {
            inner: Arc::new(Inner {
                client: self.inner.client.clone(),
                clock: self.inner.clock.clone(),
                options,
                cache: self.inner.cache.clone(),
            }),
        }
    }

    /// The options.
    pub fn options(&self) -> &ApplyOptions {
        &self.inner.options
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The clock waits are timed on.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Deletes the objects of `stale` (usually `previous.stale(&new)`),
    /// except those with pruning disabled or without this applier's owner
    /// labels. Never fails as a whole; see [`PruneReport::check`].
    pub async fn prune(&self, stale: &Inventory) -> PruneReport {
        let _acting = self.inner.clock.busy();
        let o = &self.inner.options;
        prune::prune(
            &self.inner.client,
            &self.inner.cache,
            stale,
            &o.labels,
            o.concurrency,
        )
        .await
    }

    /// Waits until every target is healthy (see [`mod@wait`]), at most
    /// `timeout` on the cluster's clock, failing as soon as one fails.
    /// Call without holding a `Busy` guard.
    ///
    /// # Errors
    /// [`Error::HealthTimeout`], [`Error::HealthFailed`] or
    /// [`Error::HealthTarget`], each naming the objects.
    pub async fn wait_healthy(
        &self,
        targets: &[Versioned],
        timeout: Duration,
    ) -> Result<HealthReport> {
        wait::wait(
            &self.inner.client,
            &self.inner.cache,
            &self.inner.clock,
            targets,
            timeout,
            true,
        )
        .await
    }

    /// [`Applier::wait_healthy`] that keeps waiting on failed objects until
    /// the timeout (they may recover).
    ///
    /// # Errors
    /// As [`Applier::wait_healthy`], never [`Error::HealthFailed`].
    pub async fn wait_healthy_patiently(
        &self,
        targets: &[Versioned],
        timeout: Duration,
    ) -> Result<HealthReport> {
        wait::wait(
            &self.inner.client,
            &self.inner.cache,
            &self.inner.clock,
            targets,
            timeout,
            false,
        )
        .await
    }

    /// The preferred API version of a kind (for references without one).
    ///
    /// # Errors
    /// [`Failure::UnknownKind`] when the cluster does not serve it.
    pub async fn preferred_version(
        &self,
        group: &str,
        kind: &str,
    ) -> std::result::Result<String, Failure> {
        discovery::preferred_version(&self.inner.client, group, kind).await
    }
}
