//! Pod helpers the controllers share: label selectors, owner references,
//! readiness and availability, tolerations, and pods made from templates
//! (with the defaults the API server would apply).

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::sim::storage::store::{Gvr, ObjectRef};

/// The `Pod` resource.
pub(crate) fn gvr() -> Gvr {
    Gvr::core("pods")
}

/// `ns/name` of an object.
pub(crate) fn key_of(obj: &Value) -> String {
    match namespace(obj) {
        "" => name(obj).to_owned(),
        ns => format!("{ns}/{}", name(obj)),
    }
}

/// The ref of `key` (`ns/name`) for `gvr`.
pub(crate) fn ref_of(gvr: Gvr, key: &str) -> ObjectRef {
    match key.split_once('/') {
        Some((ns, n)) => ObjectRef::namespaced(gvr, ns, n),
        None => ObjectRef::cluster(gvr, key),
    }
}

/// `metadata.name`.
pub(crate) fn name(obj: &Value) -> &str {
    str_at(obj, "/metadata/name")
}

/// `metadata.namespace` (empty when cluster-scoped).
pub(crate) fn namespace(obj: &Value) -> &str {
    str_at(obj, "/metadata/namespace")
}

/// `metadata.uid`.
pub(crate) fn uid(obj: &Value) -> &str {
    str_at(obj, "/metadata/uid")
}

/// The string at a JSON pointer, or "".
pub(crate) fn str_at<'a>(obj: &'a Value, ptr: &str) -> &'a str {
    obj.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// The integer at a JSON pointer.
pub(crate) fn int_at(obj: &Value, ptr: &str) -> Option<i64> {
    obj.pointer(ptr).and_then(Value::as_i64)
}

/// True when the object is being deleted.
pub(crate) fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// The controller owner reference `(kind, name, uid)`, if any.
pub(crate) fn controller_of(obj: &Value) -> Option<(&str, &str, &str)> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| {
            (
                r.get("kind").and_then(Value::as_str).unwrap_or(""),
                r.get("name").and_then(Value::as_str).unwrap_or(""),
                r.get("uid").and_then(Value::as_str).unwrap_or(""),
            )
        })
}

/// True when `obj` is controlled by the object with `owner_uid`.
pub(crate) fn controlled_by(obj: &Value, owner_uid: &str) -> bool {
    controller_of(obj).is_some_and(|(_, _, u)| u == owner_uid && !u.is_empty())
}

/// A controller owner reference to `owner`.
pub(crate) fn owner_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": name(owner), "uid": uid(owner),
           "controller": true, "blockOwnerDeletion": true})
}

/// Makes `v` an object (an empty one if it was anything else): for fields
/// the controllers own and a client may have written badly.
pub(crate) fn ensure_object(v: &mut Value) {
    if !v.is_object() {
        *v = json!({});
    }
}

/// The status of a pod's `Ready` condition is `True`.
pub(crate) fn is_ready(pod: &Value) -> bool {
    condition(pod, "Ready").is_some_and(|c| c.get("status").and_then(Value::as_str) == Some("True"))
}

/// The condition `type_` of an object.
pub(crate) fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// When a ready pod becomes available (`Ready` for `min_ready` seconds).
pub(crate) fn available_at(pod: &Value, min_ready: i64) -> Option<Timestamp> {
    if !is_ready(pod) {
        return None;
    }
    let since: Timestamp = condition(pod, "Ready")?
        .get("lastTransitionTime")?
        .as_str()?
        .parse()
        .ok()?;
    since
        .checked_add(jiff::SignedDuration::from_secs(min_ready.max(0)))
        .ok()
}

/// Ready for at least `min_ready` seconds at `now`.
pub(crate) fn is_available(pod: &Value, min_ready: i64, now: Timestamp) -> bool {
    available_at(pod, min_ready).is_some_and(|t| t <= now)
}

/// `status.phase` is `Succeeded` or `Failed`.
pub(crate) fn is_terminal(pod: &Value) -> bool {
    matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed")
}

/// Counted by ReplicaSets and StatefulSets: not terminal, not deleting.
pub(crate) fn is_active(pod: &Value) -> bool {
    !is_terminal(pod) && !deleting(pod)
}

/// A taint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Taint {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) effect: String,
    pub(crate) time_added: Option<Timestamp>,
}

impl Taint {
    /// The taints of a node object.
    pub(crate) fn of(node: &Value) -> Vec<Taint> {
        node.pointer("/spec/taints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| Taint {
                key: str_at(t, "/key").to_owned(),
                value: str_at(t, "/value").to_owned(),
                effect: str_at(t, "/effect").to_owned(),
                time_added: t
                    .get("timeAdded")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok()),
            })
            .collect()
    }
}

/// How a pod tolerates a taint: None when it does not; `Some(None)` forever;
/// `Some(Some(s))` for `s` seconds (NoExecute `tolerationSeconds`).
pub(crate) fn toleration(pod: &Value, taint: &Taint) -> Option<Option<i64>> {
    let tols = pod.pointer("/spec/tolerations").and_then(Value::as_array);
    let mut best: Option<Option<i64>> = None;
    for t in tols.into_iter().flatten() {
        let key = str_at(t, "/key");
        let op = match str_at(t, "/operator") {
            "" => "Equal",
            op => op,
        };
        let effect = str_at(t, "/effect");
        let key_ok = key.is_empty() && op == "Exists" || key == taint.key;
        let value_ok = op == "Exists" || str_at(t, "/value") == taint.value;
        let effect_ok = effect.is_empty() || effect == taint.effect;
        if key_ok && value_ok && effect_ok {
            let secs = int_at(t, "/tolerationSeconds");
            best = Some(match (best, secs) {
                (Some(None), _) | (_, None) => None,
                (Some(Some(a)), Some(b)) => Some(a.max(b)),
                (None, Some(b)) => Some(b),
            });
        }
    }
    best
}

/// The tolerations the DefaultTolerationSeconds admission plugin adds to
/// every pod that has none for these taints.
pub(crate) fn add_default_tolerations(spec: &mut Value, seconds: i64) {
    let list = spec
        .as_object_mut()
        .map(|m| m.entry("tolerations").or_insert_with(|| json!([])));
    let Some(list) = list.and_then(Value::as_array_mut) else {
        return;
    };
    for key in [
        crate::sim::workloads::nodes::TAINT_NOT_READY,
        crate::sim::workloads::nodes::TAINT_UNREACHABLE,
    ] {
        let has = list.iter().any(|t| {
            str_at(t, "/key") == key
                || (str_at(t, "/key").is_empty() && str_at(t, "/operator") == "Exists")
        });
        if !has {
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}));
        }
    }
}

/// A pod from a workload's `template`, named `name` in `namespace`,
/// controlled by `owner`, with the API server's defaults.
pub(crate) fn from_template(
    template: &Value,
    namespace: &str,
    name: &str,
    owner: Value,
    extra_labels: &[(&str, &str)],
    toleration_seconds: i64,
) -> Value {
    let meta = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut labels = meta.get("labels").cloned().unwrap_or_else(|| json!({}));
    if !labels.is_object() {
        labels = json!({});
    }
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    let mut metadata = json!({"name": name, "namespace": namespace, "labels": labels,
        "ownerReferences": [owner]});
    if let Some(a) = meta.get("annotations").filter(|a| a.is_object()) {
        metadata["annotations"] = a.clone();
    }
    let mut spec = template
        .get("spec")
        .filter(|s| s.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    default_pod_spec(&mut spec, toleration_seconds);
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

/// The pod-spec defaults the API server applies.
pub(crate) fn default_pod_spec(spec: &mut Value, toleration_seconds: i64) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    for (k, v) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("securityContext", json!({})),
        ("enableServiceLinks", json!(true)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
        ("priority", json!(0)),
        ("serviceAccountName", json!("default")),
    ] {
        m.entry(k).or_insert(v);
    }
    for list in ["containers", "initContainers"] {
        for c in m
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let image = str_at(c, "/image").to_owned();
            let Some(cm) = c.as_object_mut() else {
                continue;
            };
            cm.entry("imagePullPolicy")
                .or_insert(json!(default_pull_policy(&image)));
            cm.entry("terminationMessagePath")
                .or_insert(json!("/dev/termination-log"));
            cm.entry("terminationMessagePolicy")
                .or_insert(json!("File"));
            cm.entry("resources").or_insert(json!({}));
        }
    }
    add_default_tolerations(spec, toleration_seconds);
}

/// `Always` for `:latest` and untagged images, `IfNotPresent` otherwise.
pub(crate) fn default_pull_policy(image: &str) -> &'static str {
    let last = image.rsplit('/').next().unwrap_or("");
    if last.contains('@') {
        return "IfNotPresent";
    }
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// The names and images of a pod's containers, in order.
pub(crate) fn containers(pod: &Value) -> Vec<(String, String)> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            (
                str_at(c, "/name").to_owned(),
                str_at(c, "/image").to_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerations_match_taints() {
        let taint = Taint {
            key: "node.kubernetes.io/unreachable".into(),
            value: String::new(),
            effect: "NoExecute".into(),
            time_added: None,
        };
        let mut spec = json!({"containers": [{"name": "c", "image": "nginx"}]});
        default_pod_spec(&mut spec, 300);
        let pod = json!({"spec": spec});
        assert_eq!(toleration(&pod, &taint), Some(Some(300)));
        let forever = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        assert_eq!(toleration(&forever, &taint), Some(None));
        assert_eq!(toleration(&json!({"spec": {}}), &taint), None);
        let other = json!({"spec": {"tolerations": [{"key": "x", "operator": "Exists"}]}});
        assert_eq!(toleration(&other, &taint), None);
        assert_eq!(spec["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(default_pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/x"), "Always");
        assert_eq!(default_pull_policy("x@sha256:ab"), "IfNotPresent");
    }

    #[test]
    fn availability_counts_min_ready_seconds() {
        let pod = json!({"status": {"conditions": [{"type": "Ready", "status": "True",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(is_available(&pod, 0, t0));
        assert!(!is_available(&pod, 10, t0));
        assert_eq!(
            available_at(&pod, 10),
            Some("2026-01-01T00:00:10Z".parse().unwrap())
        );
    }
}
