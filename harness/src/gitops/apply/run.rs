//! One apply, stage by stage: identify the manifests, resolve their kinds,
//! apply the definitions, wait for the CRDs, then the cluster-scoped and
//! namespaced objects.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kube::api::PatchParams;

use super::ssa::{self, Prepared};
use super::{
    Action, Applier, ApplyReport, Failure, Manifest, ObjectError, ObjectOutcome, Stage,
    StageTiming, Versioned, crds, order,
};

/// A manifest on its way through the stages.
struct Pending {
    index: usize,
    manifest: Manifest,
    object: Versioned,
}

fn sort_stage(items: &mut [Prepared]) {
    items.sort_by(|a, b| {
        order::sort_key(&a.object.id)
            .cmp(&order::sort_key(&b.object.id))
            .then(a.index.cmp(&b.index))
    });
}

impl Applier {
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
                let ns = object
                    .id
                    .namespace
                    .clone()
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
    /// [`ApplyReport::check`] to turn failures into an [`super::Error`].
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
        let (definitions, rest, mut done) = Self::partition(manifests);
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
        let mut outcomes = ssa::apply_stage(
            client,
            &params,
            Stage::Definitions,
            items,
            o.concurrency,
            &o.labels,
        )
        .await;
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
            let outcomes =
                ssa::apply_stage(client, &params, stage, items, o.concurrency, &o.labels).await;
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

    /// Splits `manifests` into the definitions applied first (CRDs and
    /// Namespaces), the rest, and the outcomes of those that cannot even be
    /// identified (by their index in `manifests`).
    fn partition(
        manifests: Vec<Manifest>,
    ) -> (Vec<Pending>, Vec<Pending>, Vec<(usize, ObjectOutcome)>) {
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
        (definitions, rest, done)
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
}
