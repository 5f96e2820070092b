//! Snapshots of the cluster's objects and their diff: *is Git really the
//! backup?* Objects present before the disaster and absent after recovery
//! are `lost`; objects whose content differs are `changed`; new ones are
//! `extra`. Volatile kinds (Pods, ReplicaSets, Events, Leases, Endpoints…)
//! and volatile fields (status, resourceVersion, uid, timestamps,
//! managedFields, allocated IPs, controller-generated labels) are ignored,
//! because a rebuilt cluster legitimately differs in them.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::report::tree::{DiffEntry, StateDiff};
use crate::scenario::model::ObjectRef;

/// Identity of an object across clusters (no uid: a rebuilt cluster has new ones).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// API group (empty for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl ObjectKey {
    /// The key of a JSON object (None when it lacks kind or name).
    pub fn of(obj: &Value) -> Option<ObjectKey> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        let meta = obj.get("metadata")?;
        Some(ObjectKey {
            group: group.to_owned(),
            kind: obj.get("kind")?.as_str()?.to_owned(),
            namespace: meta
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            name: meta.get("name")?.as_str()?.to_owned(),
        })
    }

    /// True when `r` names this object (any version when `r` has none).
    pub fn matches(&self, r: &ObjectRef) -> bool {
        let group_ok = match &r.api_version {
            None => true,
            Some(v) => v.rsplit_once('/').map(|(g, _)| g).unwrap_or("") == self.group,
        };
        group_ok
            && r.kind == self.kind
            && r.name == self.name
            && r.namespace.as_deref().unwrap_or("") == self.namespace
    }
}

/// Kinds whose objects are generated, recreated under new names, or pure
/// runtime bookkeeping: not part of the desired state.
const VOLATILE_KINDS: [(&str, &str); 11] = [
    ("", "Pod"),
    ("apps", "ReplicaSet"),
    ("apps", "ControllerRevision"),
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("coordination.k8s.io", "Lease"),
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("", "Binding"),
    ("authorization.k8s.io", "SelfSubjectReview"),
    ("metrics.k8s.io", "PodMetrics"),
];

/// Metadata annotations written by controllers, not by people or Git.
const VOLATILE_ANNOTATIONS: [&str; 6] = [
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
    "control-plane.alpha.kubernetes.io/leader",
    "kubernetes.io/service-account.uid",
    // Requests for reconciliation (`flux reconcile`, a drill's trigger).
    "reconcile.fluxcd.io/requestedAt",
    "reconcile.fluxcd.io/forceAt",
];

/// Labels the Job controller adds with the (per-cluster) uid.
const VOLATILE_LABELS: [&str; 4] = [
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
];

/// True when the object belongs to a volatile kind.
pub fn is_volatile(key: &ObjectKey) -> bool {
    VOLATILE_KINDS
        .iter()
        .any(|(g, k)| *g == key.group && *k == key.kind)
}

/// The object with volatile fields removed: what is compared.
pub fn normalize(obj: &Value) -> Value {
    let mut out = obj.clone();
    let Some(map) = out.as_object_mut() else {
        return out;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "managedFields",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "ownerReferences",
            "finalizers",
            "generateName",
        ] {
            meta.remove(k);
        }
        prune_keys(meta, "annotations", &VOLATILE_ANNOTATIONS);
        prune_keys(meta, "labels", &VOLATILE_LABELS);
    }
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    // Helm's release records (helm-controller's storage): the encoded
    // release carries its install times, and `modifiedAt` the last write;
    // a re-installed release is the same release (name, version and
    // status labels still compared).
    if kind == "Secret" && map.get("type").and_then(Value::as_str) == Some("helm.sh/release.v1") {
        if let Some(data) = map.get_mut("data").and_then(Value::as_object_mut) {
            data.remove("release");
        }
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            prune_keys(meta, "labels", &["modifiedAt"]);
        }
    }
    if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
        match kind.as_str() {
            // Allocated per cluster.
            "Service" => {
                for k in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
                    spec.remove(k);
                }
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                        p.remove("nodePort");
                    }
                }
            }
            "PersistentVolumeClaim" => {
                spec.remove("volumeName");
            }
            // The selector and template labels carry the controller's uid.
            "Job" => {
                if let Some(labels) = spec
                    .get_mut("selector")
                    .and_then(|s| s.get_mut("matchLabels"))
                    .and_then(Value::as_object_mut)
                {
                    labels.retain(|k, _| !VOLATILE_LABELS.contains(&k.as_str()));
                }
                if let Some(meta) = spec
                    .get_mut("template")
                    .and_then(|t| t.get_mut("metadata"))
                    .and_then(Value::as_object_mut)
                {
                    prune_keys(meta, "labels", &VOLATILE_LABELS);
                }
            }
            _ => {}
        }
    }
    out
}

fn prune_keys(meta: &mut Map<String, Value>, field: &str, volatile: &[&str]) {
    let now_empty = match meta.get_mut(field).and_then(Value::as_object_mut) {
        Some(m) => {
            m.retain(|k, _| !volatile.contains(&k.as_str()));
            m.is_empty()
        }
        None => false,
    };
    if now_empty {
        meta.remove(field);
    }
}

/// The objects of a cluster at one moment, normalised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// By identity.
    pub objects: BTreeMap<ObjectKey, Value>,
}

impl Snapshot {
    /// A snapshot of these objects: volatile kinds skipped, fields normalised.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Snapshot {
        let mut out = BTreeMap::new();
        for obj in objects {
            let Some(key) = ObjectKey::of(obj) else {
                continue;
            };
            if is_volatile(&key) || is_service_account_token(obj) || is_cronjob_run(obj) {
                continue;
            }
            out.insert(key, normalize(obj));
        }
        Snapshot { objects: out }
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// A Job a CronJob created: a rebuilt cluster runs its schedule under new
/// names (`<cronjob>-<minutes>`), so its runs are not desired state.
fn is_cronjob_run(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Job")
        && obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|refs| {
                refs.iter().any(|r| {
                    r.get("kind").and_then(Value::as_str) == Some("CronJob")
                        && r.get("controller").and_then(Value::as_bool) == Some(true)
                })
            })
}

fn is_service_account_token(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token")
}

/// Errors taking a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Discovery or a list call failed.
    #[error("taking a snapshot of the cluster failed while {what}")]
    Api {
        /// What was being listed.
        what: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

/// Lists every object of every namespaced kind in `namespaces` (and those
/// Namespace objects themselves) through the API, skipping volatile kinds.
///
/// # Errors
/// When discovery or a list call fails.
pub async fn collect(
    client: &kube::Client,
    namespaces: &std::collections::BTreeSet<String>,
) -> Result<Snapshot, Error> {
    collect_with(client, namespaces, &std::collections::BTreeSet::new()).await
}

/// [`collect`], plus the cluster-scoped objects named in `cluster` (those
/// the source applied: a ClusterRole, a CRD…), so that what Git holds
/// outside namespaces is checked after recovery too.
///
/// # Errors
/// When discovery or a list call fails.
pub async fn collect_with(
    client: &kube::Client,
    namespaces: &std::collections::BTreeSet<String>,
    cluster: &std::collections::BTreeSet<ObjectKey>,
) -> Result<Snapshot, Error> {
    use kube::api::{Api, DynamicObject, ListParams};
    use kube::discovery::{Discovery, Scope, verbs};

    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|source| Error::Api {
            what: "discovering API resources".into(),
            source,
        })?;
    let mut objects: Vec<Value> = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            let key = ObjectKey {
                group: ar.group.clone(),
                kind: ar.kind.clone(),
                namespace: String::new(),
                name: String::new(),
            };
            if !caps.supports_operation(verbs::LIST) || is_volatile(&key) {
                continue;
            }
            let is_namespace = ar.group.is_empty() && ar.kind == "Namespace";
            let named = caps.scope != Scope::Namespaced
                && cluster
                    .iter()
                    .any(|k| k.group == ar.group && k.kind == ar.kind);
            if caps.scope != Scope::Namespaced && !is_namespace && !named {
                continue;
            }
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|source| Error::Api {
                    what: format!("listing {}", ar.plural),
                    source,
                })?;
            for obj in list.items {
                let keep = if is_namespace || named {
                    obj.metadata.name.as_ref().is_some_and(|n| {
                        (is_namespace && namespaces.contains(n))
                            || cluster.contains(&ObjectKey {
                                group: ar.group.clone(),
                                kind: ar.kind.clone(),
                                namespace: String::new(),
                                name: n.clone(),
                            })
                    })
                } else {
                    obj.metadata
                        .namespace
                        .as_ref()
                        .is_some_and(|n| namespaces.contains(n))
                };
                if keep {
                    let mut v = serde_json::to_value(&obj).unwrap_or(Value::Null);
                    // Lists may omit the type of their items.
                    if let Some(m) = v.as_object_mut() {
                        m.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
                        m.insert("kind".into(), Value::String(ar.kind.clone()));
                    }
                    objects.push(v);
                }
            }
        }
    }
    Ok(Snapshot::from_objects(&objects))
}

/// Most differing fields listed per changed object.
pub const MAX_FIELDS: usize = 10;

/// Compares two snapshots; `allowed_lost` marks lost objects that
/// `expect.lost` allows.
pub fn diff(before: &Snapshot, after: &Snapshot, allowed_lost: &[ObjectRef]) -> StateDiff {
    let mut out = StateDiff {
        compared: u32::try_from(before.len()).unwrap_or(u32::MAX),
        ..StateDiff::default()
    };
    for (key, old) in &before.objects {
        match after.objects.get(key) {
            None => out.lost.push(DiffEntry {
                object: key.to_string(),
                allowed: allowed_lost.iter().any(|r| key.matches(r)),
                fields: Vec::new(),
            }),
            Some(new) => {
                let mut fields = Vec::new();
                content_diff(old, new, &mut fields);
                if !fields.is_empty() {
                    fields.truncate(MAX_FIELDS);
                    out.changed.push(DiffEntry {
                        object: key.to_string(),
                        allowed: false,
                        fields,
                    });
                }
            }
        }
    }
    for key in after.objects.keys() {
        if !before.objects.contains_key(key) {
            out.extra.push(DiffEntry {
                object: key.to_string(),
                allowed: false,
                fields: Vec::new(),
            });
        }
    }
    out
}

/// Differing leaf paths of everything but `apiVersion`/`kind`, with
/// metadata limited to labels and annotations.
fn content_diff(old: &Value, new: &Value, out: &mut Vec<String>) {
    let empty = Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                for sub in ["labels", "annotations"] {
                    let a = o.get(k).and_then(|m| m.get(sub));
                    let b = n.get(k).and_then(|m| m.get(sub));
                    leaf_diff(&format!("metadata.{sub}"), a, b, out);
                }
            }
            _ => leaf_diff(k, o.get(k), n.get(k), out),
        }
    }
}

fn leaf_diff(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                leaf_diff(&format!("{path}.{k}"), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                leaf_diff(&format!("{path}[{i}]"), Some(p), Some(q), out);
            }
        }
        (a, b) if a == b => {}
        _ => out.push(path.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(ns: &str, name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "resourceVersion": "7",
                            "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{"manager": "x"}]},
               "data": data})
    }

    #[test]
    fn identical_clusters_differ_in_nothing_despite_volatile_fields() {
        let before = Snapshot::from_objects(&[cm("a", "x", json!({"k": "v"}))]);
        let mut rebuilt = cm("a", "x", json!({"k": "v"}));
        rebuilt["metadata"]["uid"] = json!("another");
        rebuilt["metadata"]["resourceVersion"] = json!("99");
        let after = Snapshot::from_objects(&[rebuilt]);
        let d = diff(&before, &after, &[]);
        assert_eq!(d.compared, 1);
        assert!(
            d.lost.is_empty() && d.changed.is_empty() && d.extra.is_empty(),
            "{d:?}"
        );
    }

    #[test]
    fn the_runs_of_a_cronjob_are_not_desired_state() {
        let run = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "backup-29543285", "namespace": "x",
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "backup",
                    "uid": "u", "controller": true}]}});
        let own = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "x"}});
        let snap = Snapshot::from_objects(&[run, own]);
        let names: Vec<&str> = snap.objects.keys().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["migrate"]);
    }

    #[test]
    fn lost_changed_and_extra_are_reported_by_name() {
        let before = Snapshot::from_objects(&[
            cm("podinfo", "hand-made", json!({"a": "1"})),
            cm("podinfo", "settings", json!({"color": "blue", "size": "2"})),
        ]);
        let after = Snapshot::from_objects(&[
            cm("podinfo", "settings", json!({"color": "red", "size": "2"})),
            cm("podinfo", "new", json!({})),
        ]);
        let allowed = ObjectRef {
            api_version: None,
            kind: "ConfigMap".into(),
            namespace: Some("podinfo".into()),
            name: "hand-made".into(),
        };
        let d = diff(&before, &after, &[allowed]);
        assert_eq!(d.lost.len(), 1);
        assert_eq!(d.lost[0].object, "ConfigMap/podinfo/hand-made");
        assert!(d.lost[0].allowed);
        assert_eq!(d.changed[0].object, "ConfigMap/podinfo/settings");
        assert_eq!(d.changed[0].fields, ["data.color"]);
        assert_eq!(d.extra[0].object, "ConfigMap/podinfo/new");
        let d = diff(&before, &after, &[]);
        assert!(!d.lost[0].allowed);
    }

    #[test]
    fn volatile_kinds_and_fields_are_ignored() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-abc12", "namespace": "a"}});
        let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-5d4f", "namespace": "a"}});
        let svc = |ip: &str| {
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "a"},
            "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"port": 80, "nodePort": 30001}]}})
        };
        let deploy = |rev: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a", "annotations": {"deployment.kubernetes.io/revision": rev}},
            "spec": {"replicas": 2}, "status": {"readyReplicas": 2}})
        };
        let before = Snapshot::from_objects(&[pod, rs, svc("10.96.0.10"), deploy("1")]);
        let after = Snapshot::from_objects(&[svc("10.96.7.7"), deploy("3")]);
        let d = diff(&before, &after, &[]);
        assert_eq!(d.compared, 2);
        assert!(
            d.lost.is_empty() && d.changed.is_empty() && d.extra.is_empty(),
            "{d:?}"
        );
    }

    #[test]
    fn a_changed_image_is_named_by_path() {
        let deploy = |image: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}})
        };
        let d = diff(
            &Snapshot::from_objects(&[deploy("app:1")]),
            &Snapshot::from_objects(&[deploy("app:broken")]),
            &[],
        );
        assert_eq!(
            d.changed[0].fields,
            ["spec.template.spec.containers[0].image"]
        );
    }

    #[test]
    fn object_refs_match_by_group_not_version() {
        let key = ObjectKey::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "a"}})).unwrap();
        let r = |v: Option<&str>| ObjectRef {
            api_version: v.map(str::to_owned),
            kind: "Deployment".into(),
            namespace: Some("a".into()),
            name: "w".into(),
        };
        assert!(key.matches(&r(None)));
        assert!(key.matches(&r(Some("apps/v1beta1"))));
        assert!(!key.matches(&r(Some("v1"))));
    }
}
