//! What an observer sees: every watched object by kind, with the health of
//! workloads and Pods and the inventories of Kustomizations judged once per
//! change, and how a watch event changes it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use serde_json::Value;

use super::super::checks::{Inventory, kustomization_kind, pod_kind, workload_kinds};
use crate::kstatus::{self as health, Health};

/// A kind, without version: what conditions talk about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    /// API group (empty for core).
    pub group: String,
    /// Kind.
    pub kind: String,
}

impl GroupKind {
    /// A kind in a group (`""` for core).
    pub fn new(group: &str, kind: &str) -> GroupKind {
        GroupKind {
            group: group.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// The kind of an `apiVersion` (`apps/v1`) and `kind`.
    pub fn of(api_version: &str, kind: &str) -> GroupKind {
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        GroupKind::new(group, kind)
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// Every watched object, by kind then `(namespace, name)`.
#[derive(Debug, Default, Clone)]
pub struct World {
    objects: BTreeMap<GroupKind, BTreeMap<(String, String), Arc<Value>>>,
    /// Every Kustomization's `status.inventory`, parsed when it changes
    /// (judgements read them after every burst of events).
    inventories: BTreeMap<(String, String), Arc<Inventory>>,
    /// The health of workloads and Pods, judged when they change.
    health: BTreeMap<GroupKind, BTreeMap<(String, String), Health>>,
    pub(super) synced: BTreeSet<GroupKind>,
    pub(super) unknown: BTreeSet<GroupKind>,
}

impl World {
    /// Objects of a kind (empty when not watched or not synced).
    pub fn objects(&self, gk: &GroupKind) -> impl Iterator<Item = &Value> {
        self.objects
            .get(gk)
            .into_iter()
            .flat_map(|m| m.values().map(|v| v.as_ref()))
    }

    /// One object.
    pub fn get(&self, gk: &GroupKind, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(gk)?
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|v| v.as_ref())
    }

    /// The parsed inventories of the watched Kustomizations.
    pub fn inventories(&self) -> impl Iterator<Item = &Inventory> {
        self.inventories.values().map(AsRef::as_ref)
    }

    /// Objects of a workload kind or Pods, with their namespace, name and
    /// health (judged once per change). Other kinds give nothing.
    pub fn judged(&self, gk: &GroupKind) -> impl Iterator<Item = (&str, &str, &Value, &Health)> {
        let health = self.health.get(gk);
        self.objects
            .get(gk)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(move |(key, o)| {
                let h = health?.get(key)?;
                Some((key.0.as_str(), key.1.as_str(), o.as_ref(), h))
            })
    }

    fn insert(&mut self, gk: &GroupKind, key: (String, String), value: Value) {
        if is_judged(gk) {
            self.health
                .entry(gk.clone())
                .or_default()
                .insert(key.clone(), health::health(&value));
        }
        if *gk == kustomization_kind() {
            let inventory = Inventory::of(&value);
            match self.inventories.get(&key) {
                Some(old) if **old == inventory => {}
                _ => {
                    self.inventories.insert(key.clone(), Arc::new(inventory));
                }
            }
        }
        self.objects
            .entry(gk.clone())
            .or_default()
            .insert(key, Arc::new(value));
    }

    fn remove(&mut self, gk: &GroupKind, key: &(String, String)) {
        if let Some(h) = self.health.get_mut(gk) {
            h.remove(key);
        }
        if *gk == kustomization_kind() {
            self.inventories.remove(key);
        }
        if let Some(objects) = self.objects.get_mut(gk) {
            objects.remove(key);
        }
    }

    fn clear(&mut self, gk: &GroupKind) {
        self.health.remove(gk);
        if *gk == kustomization_kind() {
            self.inventories.clear();
        }
        self.objects.entry(gk.clone()).or_default().clear();
    }

    /// True once the kind's initial list has been received.
    pub fn is_synced(&self, gk: &GroupKind) -> bool {
        self.synced.contains(gk)
    }

    /// True when the API server does not (yet) serve the kind.
    pub fn is_unknown(&self, gk: &GroupKind) -> bool {
        self.unknown.contains(gk)
    }

    /// A world holding these objects, every kind synced: for judging
    /// conditions offline (tests, reports).
    pub fn from_objects(
        objects: impl IntoIterator<Item = Value>,
        synced: impl IntoIterator<Item = GroupKind>,
    ) -> World {
        let mut w = World::default();
        for gk in synced {
            w.synced.insert(gk.clone());
            w.objects.entry(gk).or_default();
        }
        for o in objects {
            let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("v1");
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
            let gk = GroupKind::of(api, kind);
            let key = (
                o.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            );
            w.synced.insert(gk.clone());
            w.insert(&gk, key, o);
        }
        w
    }

    pub(super) fn max_rv(&self) -> Option<u64> {
        self.objects
            .values()
            .flat_map(|m| m.values())
            .filter_map(|o| rv_of(o))
            .max()
    }
}

/// Kinds whose health the world keeps ([`World::judged`]).
fn is_judged(gk: &GroupKind) -> bool {
    *gk == pod_kind() || workload_kinds().contains(gk)
}

/// Applies a watcher event to the world; returns the event's resourceVersion.
pub(super) fn apply_event(
    world: &mut World,
    gk: &GroupKind,
    ev: Event<DynamicObject>,
) -> Option<u64> {
    match ev {
        Event::Init => {
            world.synced.remove(gk);
            world.clear(gk);
            None
        }
        Event::InitApply(obj) | Event::Apply(obj) => {
            let key = (
                obj.metadata.namespace.clone().unwrap_or_default(),
                obj.metadata.name.clone().unwrap_or_default(),
            );
            let value = serde_json::to_value(&obj).ok()?;
            let rv = rv_of(&value);
            world.insert(gk, key, value);
            rv
        }
        Event::Delete(obj) => {
            let key = (
                obj.metadata.namespace.clone().unwrap_or_default(),
                obj.metadata.name.clone().unwrap_or_default(),
            );
            world.remove(gk, &key);
            obj.metadata
                .resource_version
                .as_deref()
                .and_then(|r| r.parse().ok())
        }
        Event::InitDone => {
            world.objects.entry(gk.clone()).or_default();
            world.synced.insert(gk.clone());
            None
        }
    }
}

fn rv_of(v: &Value) -> Option<u64> {
    v.get("metadata")?
        .get("resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}

/// True when some established CRD serves one of `kinds`.
pub(super) fn crd_established_for(world: &World, kinds: &[GroupKind]) -> bool {
    let crd = GroupKind::new("apiextensions.k8s.io", "CustomResourceDefinition");
    world.objects(&crd).any(|c| {
        let group = c
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = c
            .pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let established = crate::kstatus::condition_status(c, "Established") == Some("True");
        established && kinds.iter().any(|gk| gk.group == group && gk.kind == kind)
    })
}
