//! The drill's conditions, built from a scenario's steady-state checks:
//! *healthy* (every check passes), *broken* (a check fails in a way an alert
//! would fire on, for the `detect` phase) and *converged* (the desired state
//! is applied again).
//!
//! "All" never means "whatever happens to exist right now": a rebuilt
//! cluster starts empty, and an empty set is vacuously healthy. So each
//! condition also requires the objects the cluster had when it was last
//! healthy (the [`Baseline`]), and, before the first steady state, the
//! objects the GitOps tooling says it applied (Kustomization inventories, or
//! the direct applier's inventory).

use std::collections::BTreeSet;

use serde_json::Value;

mod conditions;
mod judge;

pub use self::conditions::{Broken, Converged, Healthy, NodesReady};
pub use self::judge::first_failure;
use super::observer::{GroupKind, World};
use crate::scenario::model::{Check, NamespacedName, ObjectRef};

/// Kinds judged as workloads.
pub fn workload_kinds() -> [GroupKind; 4] {
    [
        GroupKind::new("apps", "Deployment"),
        GroupKind::new("apps", "StatefulSet"),
        GroupKind::new("apps", "DaemonSet"),
        GroupKind::new("batch", "Job"),
    ]
}

/// Flux Kustomizations.
pub fn kustomization_kind() -> GroupKind {
    GroupKind::new("kustomize.toolkit.fluxcd.io", "Kustomization")
}

/// Pods (failure detection).
pub fn pod_kind() -> GroupKind {
    GroupKind::new("", "Pod")
}

/// An object by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    /// Kind.
    pub kind: GroupKind,
    /// Namespace (empty for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl Entry {
    /// Parses a Flux inventory id: `<namespace>_<name>_<group>_<kind>`.
    pub fn from_inventory_id(id: &str) -> Option<Entry> {
        let parts: Vec<&str> = id.split('_').collect();
        match parts.as_slice() {
            [ns, name, group, kind] if !name.is_empty() && !kind.is_empty() => Some(Entry {
                kind: GroupKind::new(group, kind),
                namespace: (*ns).to_owned(),
                name: (*name).to_owned(),
            }),
            _ => None,
        }
    }

    /// `Kind/namespace/name`.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind.kind, self.namespace, self.name)
        }
    }

    fn is_workload(&self) -> bool {
        workload_kinds().contains(&self.kind)
    }
}

/// One Kustomization's `status.inventory`, parsed once per change (see
/// [`World::inventories`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Every entry.
    pub entries: Vec<Entry>,
    /// The entries that are workloads ([`workload_kinds`]).
    pub workloads: Vec<Entry>,
    /// The namespaces of the namespaced entries.
    pub namespaces: BTreeSet<String>,
    /// The kinds of the entries.
    pub kinds: BTreeSet<GroupKind>,
}

impl Inventory {
    /// The inventory of a Kustomization (empty when it has none).
    pub fn of(kustomization: &Value) -> Inventory {
        let entries: Vec<Entry> = kustomization
            .pointer("/status/inventory/entries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("id").and_then(Value::as_str))
            .filter_map(Entry::from_inventory_id)
            .collect();
        Inventory {
            workloads: entries
                .iter()
                .filter(|e| e.is_workload())
                .cloned()
                .collect(),
            namespaces: entries
                .iter()
                .filter(|e| !e.namespace.is_empty())
                .map(|e| e.namespace.clone())
                .collect(),
            kinds: entries.iter().map(|e| e.kind.clone()).collect(),
            entries,
        }
    }
}

/// The entries of every Kustomization's `status.inventory`.
pub fn inventory_entries(world: &World) -> BTreeSet<Entry> {
    world
        .inventories()
        .flat_map(|i| i.entries.iter().cloned())
        .collect()
}

/// What the cluster had when it was last healthy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Kustomizations that existed.
    pub kustomizations: BTreeSet<NamespacedName>,
    /// Workloads that existed.
    pub workloads: BTreeSet<Entry>,
    /// Everything the GitOps tooling had applied.
    pub desired: BTreeSet<Entry>,
}

impl Baseline {
    /// The baseline of a world that was just judged healthy.
    pub fn capture(world: &World, desired: &BTreeSet<Entry>) -> Baseline {
        let kustomizations = world
            .objects(&kustomization_kind())
            .filter_map(|k| {
                Some(NamespacedName {
                    namespace: k.pointer("/metadata/namespace")?.as_str()?.to_owned(),
                    name: k.pointer("/metadata/name")?.as_str()?.to_owned(),
                })
            })
            .collect();
        let mut workloads = BTreeSet::new();
        for kind in workload_kinds() {
            for o in world.objects(&kind) {
                if let (Some(ns), Some(name)) = (
                    o.pointer("/metadata/namespace").and_then(Value::as_str),
                    o.pointer("/metadata/name").and_then(Value::as_str),
                ) {
                    workloads.insert(Entry {
                        kind: kind.clone(),
                        namespace: ns.to_owned(),
                        name: name.to_owned(),
                    });
                }
            }
        }
        let mut desired = desired.clone();
        desired.extend(inventory_entries(world));
        Baseline {
            kustomizations,
            workloads,
            desired,
        }
    }
}

/// Inputs every condition shares.
#[derive(Debug, Clone)]
pub struct Context {
    /// The steady-state checks.
    pub checks: Vec<Check>,
    /// The revision Kustomizations must have applied (`main@sha1:…`; for
    /// an artifact source `<tag>@sha256:…`).
    pub revision: Option<String>,
    /// The kind of the `flux-system` sync source: `GitRepository`, or
    /// `OCIRepository` for an artifact source.
    pub sync_kind: &'static str,
    /// Namespaces the source defines objects in (the default of `workloads`).
    pub source_namespaces: BTreeSet<String>,
    /// Objects the direct applier applies (empty with Flux: inventories say).
    pub desired: BTreeSet<Entry>,
    /// What the cluster had when last healthy (None before the first steady state).
    pub baseline: Option<Baseline>,
    /// Nodes a fault stopped: pods on them serve nothing, whatever their
    /// status still says (it only changes after the node grace period).
    pub lost_nodes: BTreeSet<String>,
}

impl Context {
    fn workload_namespaces(&self, given: &Option<Vec<String>>, world: &World) -> BTreeSet<String> {
        match given {
            Some(ns) => ns.iter().cloned().collect(),
            None => {
                let mut ns = self.source_namespaces.clone();
                ns.extend(
                    self.desired
                        .iter()
                        .filter(|e| !e.namespace.is_empty())
                        .map(|e| e.namespace.clone()),
                );
                ns.extend(
                    world
                        .inventories()
                        .flat_map(|i| i.namespaces.iter().cloned()),
                );
                ns
            }
        }
    }

    fn needs(&self) -> BTreeSet<GroupKind> {
        let mut out = BTreeSet::new();
        for c in &self.checks {
            match c {
                Check::Kustomizations(_) => {
                    out.insert(kustomization_kind());
                }
                Check::Workloads(_) => out.extend(workload_kinds()),
                Check::Object { object, .. } => {
                    out.insert(kind_of(object));
                }
            }
        }
        out
    }
}

pub(super) fn kind_of(o: &ObjectRef) -> GroupKind {
    GroupKind::of(o.api_version.as_deref().unwrap_or("v1"), &o.kind)
}

pub(super) fn name_of(o: &Value) -> (&str, &str) {
    (
        o.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(""),
        o.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::probe::observer::{Condition, Judgement};
    use serde_json::json;

    const REV: &str = "main@sha1:1111111111111111111111111111111111111111";

    fn ks(name: &str, rev: &str, ready: &str, reason: &str, inventory: &[&str]) -> Value {
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system", "generation": 1},
            "status": {"observedGeneration": 1, "lastAppliedRevision": rev,
                "conditions": [{"type": "Ready", "status": ready, "reason": reason}],
                "inventory": {"entries": inventory.iter().map(|id| json!({"id": id, "v": "v1"})).collect::<Vec<_>>()}}})
    }

    fn deploy(ns: &str, name: &str, ready: bool) -> Value {
        let n = i64::from(ready);
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": n, "readyReplicas": n}})
    }

    fn cx(baseline: Option<Baseline>) -> Context {
        Context {
            checks: vec![Check::Kustomizations(None), Check::Workloads(None)],
            revision: Some(REV.into()),
            sync_kind: "GitRepository",
            source_namespaces: BTreeSet::new(),
            desired: BTreeSet::new(),
            baseline,
            lost_nodes: BTreeSet::new(),
        }
    }

    fn synced() -> Vec<GroupKind> {
        let mut v = workload_kinds().to_vec();
        v.push(kustomization_kind());
        v.push(pod_kind());
        v
    }

    #[test]
    fn healthy_needs_every_inventory_workload_ready() {
        let apps = ks(
            "apps",
            REV,
            "True",
            "ReconciliationSucceeded",
            &["podinfo_podinfo_apps_Deployment"],
        );
        let world = World::from_objects([apps.clone()], synced());
        // The inventory names a Deployment that does not exist: not healthy.
        let j = Healthy(cx(None)).judge(&world);
        assert_eq!(
            j,
            Judgement::Pending(
                "0/1 workloads ready; waiting for Deployment/podinfo/podinfo missing".into()
            )
        );
        let world = World::from_objects(
            [apps.clone(), deploy("podinfo", "podinfo", false)],
            synced(),
        );
        assert!(matches!(
            Healthy(cx(None)).judge(&world),
            Judgement::Pending(_)
        ));
        let world = World::from_objects([apps, deploy("podinfo", "podinfo", true)], synced());
        assert_eq!(Healthy(cx(None)).judge(&world), Judgement::Met);
    }

    #[test]
    fn an_empty_rebuilt_cluster_is_not_healthy_against_its_baseline() {
        let healthy = World::from_objects(
            [
                ks("apps", REV, "True", "ReconciliationSucceeded", &[]),
                deploy("podinfo", "podinfo", true),
            ],
            synced(),
        );
        let baseline = Baseline::capture(&healthy, &BTreeSet::new());
        assert_eq!(baseline.workloads.len(), 1);
        let empty = World::from_objects([], synced());
        assert!(matches!(
            Healthy(cx(Some(baseline.clone()))).judge(&empty),
            Judgement::Pending(_)
        ));
        // Without the baseline, the empty world is not healthy either: no Kustomization exists.
        assert_eq!(
            Healthy(cx(None)).judge(&empty),
            Judgement::Pending("no Kustomization exists yet".into())
        );
        assert_eq!(Healthy(cx(Some(baseline))).judge(&healthy), Judgement::Met);
    }

    #[test]
    fn pods_on_lost_nodes_do_not_count() {
        let mut d = deploy("podinfo", "podinfo", true);
        d["spec"]["selector"] = json!({"matchLabels": {"app": "podinfo"}});
        d["spec"]["replicas"] = json!(2);
        d["status"]["replicas"] = json!(2);
        d["status"]["updatedReplicas"] = json!(2);
        d["status"]["availableReplicas"] = json!(2);
        let pod = |name: &str, node: &str| {
            json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "podinfo", "labels": {"app": "podinfo"}},
            "spec": {"nodeName": node},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        };
        let ks = ks(
            "apps",
            REV,
            "True",
            "x",
            &["podinfo_podinfo_apps_Deployment"],
        );
        let world = World::from_objects([ks, d, pod("a", "w1"), pod("b", "w2")], synced());
        let mut context = cx(None);
        assert_eq!(Healthy(context.clone()).judge(&world), Judgement::Met);
        context.lost_nodes.insert("w2".into());
        assert_eq!(
            Healthy(context).judge(&world),
            Judgement::Pending("0/1 workloads ready; waiting for Deployment/podinfo/podinfo: 1/2 ready pods on live nodes".into())
        );
    }

    #[test]
    fn broken_fires_on_failures_not_on_progress() {
        let rolling = World::from_objects(
            [
                ks(
                    "apps",
                    "main@sha1:0000000000000000000000000000000000000000",
                    "True",
                    "ReconciliationSucceeded",
                    &[],
                ),
                deploy("podinfo", "podinfo", false),
            ],
            synced(),
        );
        assert!(matches!(
            Broken(cx(None)).judge(&rolling),
            Judgement::Pending(_)
        ));
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "podinfo-x", "namespace": "podinfo"},
            "status": {"containerStatuses": [{"name": "podinfo", "state": {"waiting": {"reason": "ErrImagePull"}}}]}});
        let failing = World::from_objects(
            [
                ks(
                    "apps",
                    REV,
                    "True",
                    "ReconciliationSucceeded",
                    &["podinfo_podinfo_apps_Deployment"],
                ),
                deploy("podinfo", "podinfo", false),
                pod,
            ],
            synced(),
        );
        assert_eq!(Broken(cx(None)).judge(&failing), Judgement::Met);
        assert_eq!(
            first_failure(&cx(None), &failing).as_deref(),
            Some("Pod/podinfo/podinfo-x: container podinfo: ErrImagePull")
        );
        let ks_failed = World::from_objects(
            [ks("apps", REV, "False", "HealthCheckFailed", &[])],
            synced(),
        );
        assert_eq!(Broken(cx(None)).judge(&ks_failed), Judgement::Met);
    }

    #[test]
    fn converged_needs_the_revision_and_every_desired_object() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "podinfo"}});
        let inv = ["podinfo_settings__ConfigMap"];
        let mut kinds = synced();
        kinds.push(GroupKind::new("", "ConfigMap"));
        let old = World::from_objects(
            [
                ks(
                    "apps",
                    "main@sha1:0000000000000000000000000000000000000000",
                    "True",
                    "x",
                    &inv,
                ),
                cm.clone(),
            ],
            kinds.clone(),
        );
        let mut c = Converged::new(cx(None), true);
        assert!(
            matches!(c.judge(&old), Judgement::Pending(m) if m.contains("applied main@sha1:0000"))
        );
        let missing = World::from_objects([ks("apps", REV, "True", "x", &inv)], kinds.clone());
        assert_eq!(
            c.judge(&missing),
            Judgement::Pending(
                "0/1 desired objects present; waiting for ConfigMap/podinfo/settings".into()
            )
        );
        let done = World::from_objects([ks("apps", REV, "True", "x", &inv), cm], kinds);
        assert_eq!(c.judge(&done), Judgement::Met);
        assert!(c.needs(&done).contains(&GroupKind::new("", "ConfigMap")));
    }

    #[test]
    fn inventory_ids_parse() {
        let e = Entry::from_inventory_id("podinfo_podinfo_apps_Deployment").unwrap();
        assert_eq!(e.kind, GroupKind::new("apps", "Deployment"));
        assert_eq!(
            (e.namespace.as_str(), e.name.as_str()),
            ("podinfo", "podinfo")
        );
        let ns = Entry::from_inventory_id("_podinfo__Namespace").unwrap();
        assert_eq!(ns.kind, GroupKind::new("", "Namespace"));
        assert_eq!(ns.namespace, "");
        assert!(Entry::from_inventory_id("broken").is_none());
        assert_eq!(e.display(), "Deployment/podinfo/podinfo");
    }
}
