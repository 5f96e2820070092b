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
//! - Health waits ([`health`]), watch-based, with the timeout on the
//!   cluster's [`Clock`].
//!
//! On a virtual clock, [`Applier::apply`] and [`Applier::prune`] hold a
//! `Busy` guard while they run (they are work, and never wait on simulated
//! time: the CRD wait is on wall time), so simulated time does not pass
//! during an apply; [`Applier::wait_healthy`] must be called without one.

pub mod crds;
pub mod discovery;
pub mod error;
pub mod health;
pub mod inventory;
pub mod object;
pub mod order;
pub mod outcome;
pub mod prune;
mod ssa;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::Client;
use kube::api::PatchParams;

pub use self::discovery::Mapping;
use self::discovery::ResourceCache;
pub use self::error::{Error, Failure, ObjectError, Result, Unhealthy};
pub use self::inventory::{Inventory, InventoryEntry};
pub use self::object::{Manifest, ObjectId, Versioned};
pub use self::order::Stage;
pub use self::outcome::{
    Action, ApplyReport, HealthReport, ObjectOutcome, PruneReport, Skip, StageTiming,
};
use self::ssa::Prepared;
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
    /// Namespace forced on every namespaced object (a Kustomization's
    /// `targetNamespace`).
    pub target_namespace: Option<String>,
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
            target_namespace: None,
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

fn sort_stage(items: &mut [Prepared]) {
    items.sort_by(|a, b| {
        order::sort_key(&a.object.id)
            .cmp(&order::sort_key(&b.object.id))
            .then(a.index.cmp(&b.index))
    });
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier")
            .field("options", &self.options)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// A manifest on its way through the stages.
struct Pending {
    index: usize,
    manifest: Manifest,
    object: Versioned,
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

    fn failed(
        index: usize,
        object: Versioned,
        origin: Option<String>,
        stage: Option<Stage>,
        failure: Failure,
    ) -> (usize, ObjectOutcome) {
        (
            index,
            ObjectOutcome {
                action: Action::Failed(ObjectError {
                    id: object.id.clone(),
                    origin: origin.clone(),
                    failure,
                }),
                object,
                origin,
                stage,
                took: Duration::ZERO,
            },
        )
    }

    /// Resolves the namespace and builds the request of each pending
    /// object; failures go to `done`.
    async fn prepare(
        &self,
        items: Vec<Pending>,
        done: &mut Vec<(usize, ObjectOutcome)>,
    ) -> Vec<(Stage, Prepared)> {
        let o = &self.inner.options;
        let wanted: BTreeSet<(String, String)> = items
            .iter()
            .map(|p| (p.object.api_version(), p.object.id.kind.clone()))
            .collect();
        let mappings = self
            .inner
            .cache
            .resolve_all(&self.inner.client, &wanted)
            .await;
        let mut out = Vec::new();
        for p in items {
            let key = (p.object.api_version(), p.object.id.kind.clone());
            let mapping = match mappings.get(&key) {
                Some(Ok(m)) => m.clone(),
                Some(Err(f)) => {
                    done.push(Self::failed(
                        p.index,
                        p.object,
                        p.manifest.origin,
                        None,
                        f.clone(),
                    ));
                    continue;
                }
                None => {
                    let f = Failure::UnknownKind {
                        api_version: key.0,
                        kind: key.1,
                    };
                    done.push(Self::failed(p.index, p.object, p.manifest.origin, None, f));
                    continue;
                }
            };
            let mut object = p.object;
            if mapping.namespaced {
                let ns = o
                    .target_namespace
                    .clone()
                    .or_else(|| object.id.namespace.clone())
                    .or_else(|| o.default_namespace.clone());
                match ns {
                    Some(ns) => object.id.namespace = Some(ns),
                    None => {
                        done.push(Self::failed(
                            p.index,
                            object,
                            p.manifest.origin,
                            None,
                            Failure::NamespaceNotSpecified,
                        ));
                        continue;
                    }
                }
            } else {
                object.id.namespace = None;
            }
            let stage = order::stage_of(&object.id, mapping.namespaced);
            let body = ssa::body(
                &p.manifest.object,
                object.id.namespace.as_deref(),
                &o.labels,
            );
            out.push((
                stage,
                Prepared {
                    index: p.index,
                    object,
                    origin: p.manifest.origin,
                    mapping,
                    body,
                },
            ));
        }
        out
    }

    /// Applies `manifests` (see the module docs). Never fails as a whole:
    /// each object's outcome says what happened to it; use
    /// [`ApplyReport::check`] to turn failures into an [`Error`].
    pub async fn apply(&self, manifests: Vec<Manifest>) -> ApplyReport {
        // Applying is acting, not waiting: on a virtual clock, simulated
        // time must not pass between the requests of one apply.
        let _acting = self.inner.clock.busy();
        let started = Instant::now();
        let started_at = self.inner.clock.now();
        let o = &self.inner.options;
        let client = &self.inner.client;
        let params = {
            let p = PatchParams::apply(&o.field_manager);
            if o.force { p.force() } else { p }
        };
        let mut done: Vec<(usize, ObjectOutcome)> = Vec::new();
        let mut definitions = Vec::new();
        let mut rest = Vec::new();
        for (index, manifest) in manifests.into_iter().enumerate() {
            match manifest.identify() {
                Ok(object) => {
                    let p = Pending {
                        index,
                        manifest,
                        object,
                    };
                    if p.object.id.is_crd() || p.object.id.is_namespace() {
                        definitions.push(p);
                    } else {
                        rest.push(p);
                    }
                }
                Err(e) => {
                    let object = Versioned {
                        id: e.id.clone(),
                        version: String::new(),
                    };
                    done.push(Self::failed(index, object, e.origin, None, e.failure));
                }
            }
        }
        let mut stages = Vec::new();
        let mut applied: Vec<ObjectOutcome> = Vec::new();

        // Stage 1: CRDs and Namespaces, then wait for the CRDs.
        let t = Instant::now();
        let crd_bodies: BTreeMap<usize, serde_json::Value> = definitions
            .iter()
            .filter(|p| p.object.id.is_crd())
            .map(|p| (p.index, p.manifest.object.clone()))
            .collect();
        let prepared = self.prepare(definitions, &mut done).await;
        let mut items: Vec<Prepared> = prepared.into_iter().map(|(_, p)| p).collect();
        sort_stage(&mut items);
        let count = items.len();
        let mut outcomes =
            ssa::apply_stage(client, &params, Stage::Definitions, items, o.concurrency).await;
        self.wait_for_crds(&mut outcomes, &crd_bodies).await;
        stages.push(StageTiming {
            stage: Stage::Definitions,
            objects: count,
            took: t.elapsed(),
        });
        applied.extend(outcomes);

        // Stages 2 and 3, now that every kind the CRDs define is served.
        let prepared = self.prepare(rest, &mut done).await;
        for stage in [Stage::ClusterScoped, Stage::Namespaced] {
            let t = Instant::now();
            let mut items: Vec<Prepared> = prepared
                .iter()
                .filter(|(s, _)| *s == stage)
                .map(|(_, p)| p.clone())
                .collect();
            sort_stage(&mut items);
            let count = items.len();
            let outcomes = ssa::apply_stage(client, &params, stage, items, o.concurrency).await;
            stages.push(StageTiming {
                stage,
                objects: count,
                took: t.elapsed(),
            });
            applied.extend(outcomes);
        }
        done.sort_by_key(|(i, _)| *i);
        let mut outcomes: Vec<ObjectOutcome> = done.into_iter().map(|(_, o)| o).collect();
        outcomes.extend(applied);
        let report = ApplyReport {
            outcomes,
            stages,
            took: started.elapsed(),
            started_at,
            finished_at: self.inner.clock.now(),
        };
        tracing::debug!(
            objects = report.outcomes.len(),
            failed = report.failures().len(),
            took = ?report.took,
            manager = %o.field_manager,
            "applied"
        );
        report
    }

    /// Waits for every CRD that was applied; a CRD that does not become
    /// established is marked failed. Drops cached discovery of the group
    /// versions they serve.
    async fn wait_for_crds(
        &self,
        outcomes: &mut [ObjectOutcome],
        bodies: &BTreeMap<usize, serde_json::Value>,
    ) {
        let client = &self.inner.client;
        let timeout = self.inner.options.crd_timeout;
        let waits = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.object.id.is_crd() && !matches!(o.action, Action::Failed(_)))
            .map(|(i, o)| {
                let name = o.object.id.name.clone();
                async move { (i, crds::wait_established(client, &name, timeout).await) }
            });
        let results = futures::future::join_all(waits).await;
        for (i, result) in results {
            if let Err(failure) = result {
                let o = &mut outcomes[i];
                o.action = Action::Failed(ObjectError {
                    id: o.object.id.clone(),
                    origin: o.origin.clone(),
                    failure,
                });
            }
        }
        for body in bodies.values() {
            for gv in crds::served_group_versions(body) {
                self.inner.cache.invalidate(&gv);
            }
        }
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

    /// Waits until every target is healthy (see [`health`]), at most
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
        health::wait(
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
        health::wait(
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
