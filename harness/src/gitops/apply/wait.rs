//! The apply engine's health waits: applied objects watched until they
//! are healthy — workloads Ready or Available, Jobs complete, custom
//! resources with a `Ready` condition Ready — judged by [`crate::kstatus`]
//! (kstatus' rules) and observed through watches, never by polling.
//!
//! [`Tracker`] is the transport-free part (what is still pending, the
//! Flux-style messages); [`wait`] feeds it from kube-rs watchers with a
//! timeout on the cluster's clock. The simulator's emulated
//! kustomize-controller feeds the same tracker from its store.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use super::discovery::ResourceCache;
use super::error::{Error, ObjectError, Result, Unhealthy};
use super::object::{ObjectId, Versioned};
use super::outcome::HealthReport;
use crate::clock::Clock;
use crate::flux::health_exprs::HealthExprs;
use crate::kstatus::{self, Health};

/// The Flux group of Kustomizations, whose health also depends on the
/// revision they applied.
const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// How one object stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not seen (yet): kstatus `NotFound`.
    NotFound,
    /// Judged by [`kstatus::health`].
    Judged(Health),
}

/// Judges one object (None: it does not exist) by kstatus' rules.
pub fn judge(id: &ObjectId, obj: Option<&Value>) -> State {
    judge_with(&HealthExprs::default(), id, obj)
}

/// Judges one object by the expressions of its kind, when `exprs` has
/// some (a Flux Kustomization's `healthCheckExprs`), else by kstatus'
/// rules.
pub fn judge_with(exprs: &HealthExprs, id: &ObjectId, obj: Option<&Value>) -> State {
    match obj {
        None => State::NotFound,
        Some(o) => match exprs.judge(&id.group, &id.kind, o) {
            Some(health) => State::Judged(health),
            None if id.group == KUSTOMIZE_GROUP && id.kind == "Kustomization" => {
                State::Judged(kstatus::kustomization(o, None))
            }
            None => State::Judged(kstatus::health(o)),
        },
    }
}

/// The objects a health wait is still waiting for.
#[derive(Debug, Clone)]
pub struct Tracker {
    states: BTreeMap<ObjectId, State>,
    exprs: HealthExprs,
}

impl Tracker {
    /// Tracks `ids`, all not seen yet.
    pub fn new<'a>(ids: impl IntoIterator<Item = &'a ObjectId>) -> Tracker {
        Tracker {
            states: ids
                .into_iter()
                .map(|id| (id.clone(), State::NotFound))
                .collect(),
            exprs: HealthExprs::default(),
        }
    }

    /// Judges the kinds `exprs` covers by their expressions.
    pub fn with_exprs(mut self, exprs: HealthExprs) -> Tracker {
        self.exprs = exprs;
        self
    }

    /// True when `id` is tracked.
    pub fn tracks(&self, id: &ObjectId) -> bool {
        self.states.contains_key(id)
    }

    /// Records the current state of `id` (ignored when not tracked).
    pub fn observe(&mut self, id: &ObjectId, obj: Option<&Value>) {
        if let Some(s) = self.states.get_mut(id) {
            *s = judge_with(&self.exprs, id, obj);
        }
    }

    /// True when every tracked object is healthy.
    pub fn all_ready(&self) -> bool {
        self.states
            .values()
            .all(|s| matches!(s, State::Judged(h) if h.is_ready()))
    }

    /// The objects that failed (kstatus `Failed`).
    pub fn failed(&self) -> Vec<Unhealthy> {
        self.states
            .iter()
            .filter_map(|(id, s)| match s {
                State::Judged(Health::Failed(why)) => Some(Unhealthy {
                    id: id.clone(),
                    status: "Failed",
                    detail: why.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Every object not healthy yet.
    pub fn unhealthy(&self) -> Vec<Unhealthy> {
        self.states
            .iter()
            .filter_map(|(id, s)| {
                let (status, detail) = match s {
                    State::NotFound => ("NotFound", "the object does not exist".to_owned()),
                    State::Judged(Health::Ready) => return None,
                    State::Judged(Health::InProgress(w)) => ("InProgress", w.clone()),
                    State::Judged(Health::Failed(w)) => ("Failed", w.clone()),
                };
                Some(Unhealthy {
                    id: id.clone(),
                    status,
                    detail,
                })
            })
            .collect()
    }

    /// Number of tracked objects.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

/// One watch: the objects of one resource in one namespace (or all).
#[derive(Debug)]
struct Watched {
    group: String,
    kind: String,
    api_version: String,
    namespace: Option<String>,
    names: BTreeSet<String>,
}

impl Watched {
    /// The identity of a watched object, with the kind filled in from the
    /// watch's type when the object lacks it.
    fn identify(&self, obj: &DynamicObject) -> ObjectId {
        ObjectId {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: obj.metadata.namespace.clone(),
            name: obj.metadata.name.clone().unwrap_or_default(),
        }
    }

    fn as_value(&self, obj: &DynamicObject) -> Value {
        let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
        if v.get("kind").is_none() {
            v["kind"] = Value::String(self.kind.clone());
            v["apiVersion"] = Value::String(self.api_version.clone());
        }
        v
    }

    /// Records a watch event in `tracker`. Objects the initial list did
    /// not hold are recorded as not found when it ends (`listed` remembers
    /// which were seen).
    fn record(
        &self,
        ev: watcher::Event<DynamicObject>,
        tracker: &mut Tracker,
        listed: &mut BTreeMap<ObjectId, bool>,
    ) {
        match ev {
            watcher::Event::Init => {
                for name in &self.names {
                    let id = ObjectId {
                        group: self.group.clone(),
                        kind: self.kind.clone(),
                        namespace: self.namespace.clone(),
                        name: name.clone(),
                    };
                    listed.insert(id, false);
                }
            }
            watcher::Event::InitApply(obj) => {
                let id = self.identify(&obj);
                tracker.observe(&id, Some(&self.as_value(&obj)));
                listed.insert(id, true);
            }
            watcher::Event::InitDone => {
                for (id, seen) in std::mem::take(listed) {
                    if !seen {
                        tracker.observe(&id, None);
                    }
                }
            }
            watcher::Event::Apply(obj) => {
                let id = self.identify(&obj);
                tracker.observe(&id, Some(&self.as_value(&obj)));
            }
            watcher::Event::Delete(obj) => {
                tracker.observe(&self.identify(&obj), None);
            }
        }
    }
}

type Events = BoxStream<
    'static,
    (
        Arc<Watched>,
        std::result::Result<watcher::Event<DynamicObject>, watcher::Error>,
    ),
>;

/// One watcher per resource and namespace of `targets` (by name when it
/// is the only one there).
async fn watches(
    client: &Client,
    cache: &ResourceCache,
    targets: &[Versioned],
) -> Result<Vec<Events>> {
    let mut groups: BTreeMap<(String, String, Option<String>), BTreeSet<String>> = BTreeMap::new();
    for t in targets {
        groups
            .entry((t.api_version(), t.id.kind.clone(), t.id.namespace.clone()))
            .or_default()
            .insert(t.id.name.clone());
    }
    let mut streams = Vec::new();
    for ((api_version, kind, ns), names) in groups {
        let mapping = cache
            .resolve(client, &api_version, &kind)
            .await
            .map_err(|failure| {
                Error::HealthTarget(ObjectError {
                    id: ObjectId {
                        group: super::object::split_api_version(&api_version).0.to_owned(),
                        kind: kind.clone(),
                        namespace: ns.clone(),
                        name: names.iter().next().cloned().unwrap_or_default(),
                    },
                    origin: None,
                    failure,
                })
            })?;
        let api: Api<DynamicObject> = match (&ns, mapping.namespaced) {
            (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &mapping.resource),
            _ => Api::all_with(client.clone(), &mapping.resource),
        };
        let mut config = watcher::Config::default();
        if let [only] = names.iter().collect::<Vec<_>>().as_slice() {
            config = config.fields(&format!("metadata.name={only}"));
        }
        let watched = Arc::new(Watched {
            group: mapping.resource.group.clone(),
            kind,
            api_version,
            namespace: ns,
            names,
        });
        streams.push(
            watcher(api, config)
                .default_backoff()
                .map(move |ev| (watched.clone(), ev))
                .boxed(),
        );
    }
    Ok(streams)
}

/// Waits until every target is healthy, at most `timeout` on `clock`.
/// Hold no `Busy` guard of a virtual clock while waiting: the objects only
/// become healthy when simulated time moves on.
///
/// # Errors
/// [`Error::HealthTarget`] when a kind is not served; [`Error::HealthFailed`]
/// as soon as an object fails (with `fail_fast`); [`Error::HealthTimeout`]
/// naming every object still pending.
pub async fn wait(
    client: &Client,
    cache: &ResourceCache,
    clock: &Clock,
    targets: &[Versioned],
    timeout: Duration,
    fail_fast: bool,
) -> Result<HealthReport> {
    let started = clock.now();
    let mut tracker = Tracker::new(targets.iter().map(|t| &t.id));
    if tracker.is_empty() {
        return Ok(HealthReport {
            objects: 0,
            took: Duration::ZERO,
        });
    }
    let mut events = futures::stream::select_all(watches(client, cache, targets).await?);
    let mut listed: BTreeMap<ObjectId, bool> = BTreeMap::new();
    let waited = clock
        .timeout(timeout, async {
            while let Some((watched, ev)) = events.next().await {
                let Ok(ev) = ev else {
                    // The watcher retries with backoff; keep what we know.
                    continue;
                };
                watched.record(ev, &mut tracker, &mut listed);
                if tracker.all_ready() {
                    return Ok(());
                }
                if fail_fast {
                    let failed = tracker.failed();
                    if !failed.is_empty() {
                        return Err(Error::HealthFailed { failed });
                    }
                }
            }
            Err(Error::HealthTimeout {
                pending: tracker.unhealthy(),
                after: timeout,
            })
        })
        .await;
    match waited {
        Ok(Ok(())) => Ok(HealthReport {
            objects: tracker.len(),
            took: clock.since(started),
        }),
        Ok(Err(e)) => Err(e),
        Err(_elapsed) => Err(Error::HealthTimeout {
            pending: tracker.unhealthy(),
            after: timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tracker_reports_pending_and_failed_objects() {
        let d = ObjectId::namespaced("apps", "Deployment", "p", "web");
        let j = ObjectId::namespaced("batch", "Job", "p", "migrate");
        let mut t = Tracker::new([&d, &j]);
        assert!(!t.all_ready());
        assert_eq!(t.unhealthy().len(), 2);
        assert_eq!(t.unhealthy()[0].status, "NotFound");
        t.observe(&d, Some(&json!({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}})));
        t.observe(&j, Some(&json!({"kind": "Job", "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}})));
        assert!(!t.all_ready());
        let failed = t.failed();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].id, j);
        t.observe(&j, Some(&json!({"kind": "Job", "status": {"conditions": [{"type": "Complete", "status": "True"}]}})));
        assert!(t.all_ready());
    }

    #[test]
    fn a_flux_object_nothing_reconciled_is_never_healthy() {
        let hr = ObjectId::namespaced("helm.toolkit.fluxcd.io", "HelmRelease", "apps", "podinfo");
        let mut t = Tracker::new([&hr]);
        let stored = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": "apps", "generation": 1}, "spec": {"interval": "5m"}});
        t.observe(&hr, Some(&stored));
        assert!(!t.all_ready());
        assert!(t.failed().is_empty());
        let pending = t.unhealthy();
        assert_eq!(pending[0].status, "InProgress");
        assert!(
            pending[0].detail.contains("no Ready condition"),
            "{pending:?}"
        );
    }

    #[test]
    fn kustomizations_waiting_on_dependencies_are_in_progress() {
        let k = ObjectId::namespaced(KUSTOMIZE_GROUP, "Kustomization", "flux-system", "apps");
        let waiting = json!({"kind": "Kustomization", "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "DependencyNotReady", "message": "dependency 'flux-system/infrastructure' is not ready"}]}});
        assert!(matches!(
            judge(&k, Some(&waiting)),
            State::Judged(Health::InProgress(_))
        ));
    }
}
