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

use super::observer::{Condition, GroupKind, Judgement, World};
use crate::kstatus::{self as health, Health};
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
    /// The revision Kustomizations must have applied (`main@sha1:…`).
    pub revision: Option<String>,
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

fn kind_of(o: &ObjectRef) -> GroupKind {
    GroupKind::of(o.api_version.as_deref().unwrap_or("v1"), &o.kind)
}

fn name_of(o: &Value) -> (String, String) {
    (
        o.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        o.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    )
}

/// Per-check verdicts of one world: `Ok(())` when the check passes, else
/// why not and whether that is a hard failure.
fn judge_checks(cx: &Context, world: &World) -> Vec<Result<(), (bool, String)>> {
    cx.checks
        .iter()
        .map(|c| judge_check(cx, c, world))
        .collect()
}

fn judge_check(cx: &Context, check: &Check, world: &World) -> Result<(), (bool, String)> {
    match check {
        Check::Kustomizations(names) => {
            let kind = kustomization_kind();
            let mut expected: BTreeSet<NamespacedName> = match names {
                Some(n) => n.iter().cloned().collect(),
                None => cx
                    .baseline
                    .as_ref()
                    .map(|b| b.kustomizations.clone())
                    .unwrap_or_default(),
            };
            if names.is_none() {
                expected.extend(world.objects(&kind).map(|k| {
                    let (namespace, name) = name_of(k);
                    NamespacedName { namespace, name }
                }));
            }
            if expected.is_empty() {
                return Err((false, "no Kustomization exists yet".into()));
            }
            let mut waiting = Vec::new();
            for nn in &expected {
                match world.get(&kind, &nn.namespace, &nn.name) {
                    None => waiting.push(format!("{nn} missing")),
                    Some(k) => match health::kustomization(k, cx.revision.as_deref()) {
                        Health::Ready => {}
                        Health::InProgress(why) => waiting.push(format!("{nn}: {why}")),
                        Health::Failed(why) => {
                            return Err((true, format!("Kustomization {nn}: {why}")));
                        }
                    },
                }
            }
            summarize(&waiting, expected.len(), "Kustomizations Ready")
        }
        Check::Workloads(given) => {
            // Judged after every burst of events: no copies of the world,
            // one message formatted per new first-in-order waiting entry.
            let namespaces = cx.workload_namespaces(given, world);
            let mut waiting = Waiting::default();
            let mut kinds = workload_kinds();
            kinds.sort();
            for kind in &kinds {
                for (namespace, name, o, health) in world.judged(kind) {
                    if !namespaces.contains(namespace) {
                        continue;
                    }
                    waiting.total += 1;
                    let key = (kind, namespace, name);
                    let display = || format!("{}/{namespace}/{name}", kind.kind);
                    match health {
                        Health::Ready => {
                            if !cx.lost_nodes.is_empty() {
                                let e = Entry {
                                    kind: kind.clone(),
                                    namespace: namespace.to_owned(),
                                    name: name.to_owned(),
                                };
                                if let Some(why) = short_of_live_pods(cx, &e, o, world) {
                                    waiting.add(key, || format!("{}: {why}", display()));
                                }
                            }
                        }
                        Health::InProgress(why) => {
                            waiting.add(key, || format!("{}: {why}", display()));
                        }
                        Health::Failed(why) => {
                            return Err((true, format!("{}: {why}", display())));
                        }
                    }
                }
            }
            // Expected (last healthy, applied by the tooling) and missing.
            let missing: BTreeSet<&Entry> = cx
                .baseline
                .iter()
                .flat_map(|b| &b.workloads)
                .chain(cx.desired.iter().filter(|e| e.is_workload()))
                .chain(world.inventories().flat_map(|i| &i.workloads))
                .filter(|e| namespaces.contains(&e.namespace))
                .filter(|e| world.get(&e.kind, &e.namespace, &e.name).is_none())
                .collect();
            for e in &missing {
                waiting.total += 1;
                waiting.add((&e.kind, &e.namespace, &e.name), || {
                    format!("{} missing", e.display())
                });
            }
            if waiting.total > 0 {
                // Failing pods say "broken" before their Deployment's deadline does.
                for (namespace, name, _, health) in world.judged(&pod_kind()) {
                    if namespaces.contains(namespace)
                        && let Health::Failed(why) = health
                    {
                        return Err((true, format!("Pod/{namespace}/{name}: {why}")));
                    }
                }
            }
            waiting.summarize("workloads ready")
        }
        Check::Object { object, condition } => {
            let kind = kind_of(object);
            if world.is_unknown(&kind) {
                return Err((false, format!("kind {kind} is not served (yet)")));
            }
            let ns = object.namespace.as_deref().unwrap_or("");
            match world.get(&kind, ns, &object.name) {
                None => Err((false, format!("{object} missing"))),
                Some(o) => match condition {
                    None => Ok(()),
                    Some(c) => match health::condition_status(o, c) {
                        Some("True") => Ok(()),
                        Some("False") => Err((true, format!("{object}: {c}=False"))),
                        other => Err((
                            false,
                            format!("{object}: {c}={}", other.unwrap_or("(none)")),
                        )),
                    },
                },
            }
        }
    }
}

/// With nodes lost, a Deployment or StatefulSet is only really ready when
/// enough of its ready pods run on live nodes.
fn short_of_live_pods(cx: &Context, e: &Entry, workload: &Value, world: &World) -> Option<String> {
    if cx.lost_nodes.is_empty() || !matches!(e.kind.kind.as_str(), "Deployment" | "StatefulSet") {
        return None;
    }
    let want = workload
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let selector = workload
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)?;
    let live = world
        .objects(&pod_kind())
        .filter(|p| {
            p.pointer("/metadata/namespace").and_then(Value::as_str) == Some(e.namespace.as_str())
        })
        .filter(|p| {
            let labels = p.pointer("/metadata/labels").and_then(Value::as_object);
            selector
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .filter(|p| {
            let node = p
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or("");
            !cx.lost_nodes.contains(node)
        })
        .filter(|p| health::condition_status(p, "Ready") == Some("True"))
        .count();
    let live = i64::try_from(live).unwrap_or(i64::MAX);
    (live < want).then(|| format!("{live}/{want} ready pods on live nodes"))
}

/// How many of `total` entries are waiting, and the message of the first
/// in (kind, namespace, name) order.
#[derive(Debug, Default)]
struct Waiting {
    total: usize,
    count: usize,
    first: Option<((GroupKind, String, String), String)>,
}

impl Waiting {
    fn add(&mut self, key: (&GroupKind, &str, &str), message: impl FnOnce() -> String) {
        self.count += 1;
        let earlier = self
            .first
            .as_ref()
            .is_none_or(|((k, ns, n), _)| key < (k, ns.as_str(), n.as_str()));
        if earlier {
            let (k, ns, n) = key;
            self.first = Some(((k.clone(), ns.to_owned(), n.to_owned()), message()));
        }
    }

    fn summarize(self, what: &str) -> Result<(), (bool, String)> {
        match self.first {
            None => Ok(()),
            Some((_, first)) => Err((
                false,
                format!(
                    "{}/{} {what}; waiting for {first}",
                    self.total - self.count,
                    self.total
                ),
            )),
        }
    }
}

fn summarize(waiting: &[String], total: usize, what: &str) -> Result<(), (bool, String)> {
    match waiting.first() {
        None => Ok(()),
        Some(first) => Err((
            false,
            format!(
                "{}/{total} {what}; waiting for {first}",
                total - waiting.len()
            ),
        )),
    }
}

/// Every steady-state check passes.
#[derive(Debug, Clone)]
pub struct Healthy(pub Context);

impl Condition for Healthy {
    fn needs(&self, _: &World) -> BTreeSet<GroupKind> {
        let mut n = self.0.needs();
        if n.contains(&GroupKind::new("apps", "Deployment")) {
            n.insert(pod_kind());
        }
        n
    }

    fn judge(&mut self, world: &World) -> Judgement {
        match judge_checks(&self.0, world)
            .into_iter()
            .find_map(Result::err)
        {
            None => Judgement::Met,
            Some((_, why)) => Judgement::Pending(why),
        }
    }
}

/// Some check fails hard: what an alert would fire on (the `detect` phase).
#[derive(Debug, Clone)]
pub struct Broken(pub Context);

impl Condition for Broken {
    fn needs(&self, w: &World) -> BTreeSet<GroupKind> {
        Healthy(self.0.clone()).needs(w)
    }

    fn judge(&mut self, world: &World) -> Judgement {
        match judge_checks(&self.0, world)
            .into_iter()
            .find_map(|r| match r {
                Err((true, why)) => Some(why),
                _ => None,
            }) {
            Some(_) => Judgement::Met,
            None => Judgement::Pending("every check still passes or is only in progress".into()),
        }
    }
}

/// The first hard failure of a world (for reporting what `detect` saw).
pub fn first_failure(cx: &Context, world: &World) -> Option<String> {
    judge_checks(cx, world).into_iter().find_map(|r| match r {
        Err((true, why)) => Some(why),
        _ => None,
    })
}

/// The desired state is applied again: with Flux, every Kustomization of the
/// baseline exists and has applied `revision`; with either method, every
/// object the tooling applied before (and applies now) exists.
#[derive(Debug, Clone)]
pub struct Converged {
    /// Shared inputs (revision, baseline, desired objects).
    cx: Context,
    /// True when Flux is the GitOps tooling.
    flux: bool,
    /// What is expected whatever the inventories say: the direct applier's
    /// objects and the baseline's.
    fixed: BTreeSet<Entry>,
    /// Their kinds.
    fixed_kinds: BTreeSet<GroupKind>,
}

impl Converged {
    /// The condition for `cx`; `flux` when Flux is the GitOps tooling.
    pub fn new(cx: Context, flux: bool) -> Converged {
        let mut fixed = cx.desired.clone();
        if let Some(b) = &cx.baseline {
            fixed.extend(b.desired.iter().cloned());
        }
        let fixed_kinds = fixed.iter().map(|e| e.kind.clone()).collect();
        Converged {
            cx,
            flux,
            fixed,
            fixed_kinds,
        }
    }

    /// Entries the inventories name beyond the fixed ones (usually none
    /// once a baseline exists, so judging costs no copies).
    fn extra<'w>(&self, world: &'w World) -> BTreeSet<&'w Entry> {
        world
            .inventories()
            .flat_map(|i| &i.entries)
            .filter(|e| !self.fixed.contains(*e))
            .collect()
    }
}

impl Condition for Converged {
    fn needs(&self, world: &World) -> BTreeSet<GroupKind> {
        let mut n = self.fixed_kinds.clone();
        n.extend(world.inventories().flat_map(|i| i.kinds.iter().cloned()));
        if self.flux {
            n.insert(kustomization_kind());
        }
        n
    }

    fn judge(&mut self, world: &World) -> Judgement {
        if self.flux {
            let kind = kustomization_kind();
            let mut expected: BTreeSet<NamespacedName> = self
                .cx
                .baseline
                .as_ref()
                .map(|b| b.kustomizations.clone())
                .unwrap_or_default();
            expected.extend(world.objects(&kind).map(|k| {
                let (namespace, name) = name_of(k);
                NamespacedName { namespace, name }
            }));
            if expected.is_empty() {
                return Judgement::Pending("no Kustomization exists yet".into());
            }
            for nn in &expected {
                let Some(k) = world.get(&kind, &nn.namespace, &nn.name) else {
                    return Judgement::Pending(format!("Kustomization {nn} missing"));
                };
                let applied = k
                    .pointer("/status/lastAppliedRevision")
                    .and_then(Value::as_str);
                if let Some(rev) = self.cx.revision.as_deref()
                    && applied != Some(rev)
                {
                    return Judgement::Pending(format!(
                        "Kustomization {nn} applied {} (want {rev})",
                        applied.unwrap_or("nothing yet")
                    ));
                }
            }
        }
        let extra = self.extra(world);
        let missing = |e: &Entry| {
            world.is_unknown(&e.kind) || world.get(&e.kind, &e.namespace, &e.name).is_none()
        };
        let mut first: Option<&Entry> = None;
        let mut n = 0usize;
        for e in self.fixed.iter().chain(extra.iter().copied()) {
            if missing(e) {
                n += 1;
                // The first missing one in (kind, namespace, name) order.
                first = Some(first.map_or(e, |f| f.min(e)));
            }
        }
        match first {
            None => Judgement::Met,
            Some(first) => {
                let total = self.fixed.len() + extra.len();
                Judgement::Pending(format!(
                    "{}/{total} desired objects present; waiting for {}",
                    total - n,
                    first.display()
                ))
            }
        }
    }
}

/// Every node Ready (and at least one node): the end of provisioning.
#[derive(Debug, Clone, Default)]
pub struct NodesReady;

impl Condition for NodesReady {
    fn needs(&self, _: &World) -> BTreeSet<GroupKind> {
        BTreeSet::from([GroupKind::new("", "Node")])
    }

    fn judge(&mut self, world: &World) -> Judgement {
        let nodes: Vec<&Value> = world.objects(&GroupKind::new("", "Node")).collect();
        if nodes.is_empty() {
            return Judgement::Pending("no node registered yet".into());
        }
        let not_ready: Vec<&str> = nodes
            .iter()
            .filter(|n| health::condition_status(n, "Ready") != Some("True"))
            .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        match not_ready.first() {
            None => Judgement::Met,
            Some(first) => Judgement::Pending(format!(
                "{}/{} nodes Ready; waiting for {first}",
                nodes.len() - not_ready.len(),
                nodes.len()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
