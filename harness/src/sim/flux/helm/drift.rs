//! Drift detection (`spec.driftDetection`): the objects of a release's
//! manifest (`helm get manifest`) against the cluster. An object that is
//! missing, or whose fields differ from what the manifest sets, has
//! drifted; `mode: enabled` corrects it by server-side apply of the
//! manifest's object as Helm's field manager (`helm`), force, as
//! helm-controller does. Objects labelled or annotated
//! `helm.toolkit.fluxcd.io/driftDetection: disabled` are skipped, and
//! `ignore` rules leave JSON pointers out of the comparison.
//!
//! helm-controller compares a dry-run server-side apply with the live
//! object; the emulation compares the manifest's fields (and only those:
//! what the API server or other managers add is not drift) with the live
//! object — the same verdict for what a chart sets, without the dry run.

use serde_json::Value;

use super::options::IgnoreRule;
use crate::gitops::apply::object::split_api_version;
use crate::sim::storage::store::{Gvr, ObjectRef, Store};

/// The annotation or label that keeps an object out of drift detection.
pub const DISABLED_KEY: &str = "helm.toolkit.fluxcd.io/driftDetection";

/// One object that drifted.
#[derive(Debug, Clone)]
pub struct Drift {
    /// `Kind/namespace/name` (`Kind/name` when cluster-scoped).
    pub id: String,
    /// Where it lives.
    pub r: ObjectRef,
    /// The manifest's object (namespace filled in).
    pub desired: Value,
    /// Missing from the cluster.
    pub missing: bool,
    /// Fields the manifest sets and the cluster lacks.
    pub added: usize,
    /// Fields whose values differ.
    pub changed: usize,
}

impl Drift {
    /// helm-controller's summary line (`…/x removed`, `…/x changed (1
    /// additions, 2 changes, 0 removals)`).
    pub fn summary(&self) -> String {
        if self.missing {
            format!("{} removed", self.id)
        } else {
            format!(
                "{} changed ({} additions, {} changes, 0 removals)",
                self.id, self.added, self.changed
            )
        }
    }
}

fn disabled(obj: &Value) -> bool {
    ["labels", "annotations"].iter().any(|m| {
        obj.pointer(&format!("/metadata/{m}"))
            .and_then(|v| v.get(DISABLED_KEY))
            .and_then(Value::as_str)
            == Some("disabled")
    })
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Counts what `desired` sets and `live` lacks (added) or has otherwise
/// (changed).
fn compare(desired: &Value, live: Option<&Value>, added: &mut usize, changed: &mut usize) {
    let Some(live) = live else {
        if !empty(desired) {
            *added += 1;
        }
        return;
    };
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => {
            for (k, v) in d {
                compare(v, l.get(k), added, changed);
            }
        }
        (Value::Array(d), Value::Array(l)) if d.len() == l.len() => {
            for (dv, lv) in d.iter().zip(l) {
                compare(dv, Some(lv), added, changed);
            }
        }
        (Value::Object(_) | Value::Array(_), _) => {
            if !(empty(desired) && empty(live)) {
                *changed += 1;
            }
        }
        _ => {
            if !same_scalar(desired, live) {
                *changed += 1;
            }
        }
    }
}

/// The fields of `obj` drift detection compares: everything but `status`
/// and the metadata other than labels and annotations.
fn compared(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.retain(|k, _| k == "labels" || k == "annotations");
        }
    }
    v
}

fn remove_pointer(v: &mut Value, ptr: &str) {
    let Some((parent, last)) = ptr.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match v.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.remove(&last);
        }
        Some(Value::Array(a)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < a.len()
            {
                a.remove(i);
            }
        }
        _ => {}
    }
}

/// The metadata Helm puts on every object it creates (not in the
/// manifest), as helm-controller's `setHelmMetadata` adds it before
/// comparing and correcting: `app.kubernetes.io/managed-by: Helm`,
/// `meta.helm.sh/release-name` and `meta.helm.sh/release-namespace`.
fn set_helm_metadata(obj: &mut Value, release: &str, namespace: &str) {
    let meta = &mut obj["metadata"];
    if !meta["labels"].is_object() {
        meta["labels"] = Value::Object(serde_json::Map::new());
    }
    meta["labels"]["app.kubernetes.io/managed-by"] = Value::String("Helm".into());
    if !meta["annotations"].is_object() {
        meta["annotations"] = Value::Object(serde_json::Map::new());
    }
    meta["annotations"]["meta.helm.sh/release-name"] = Value::String(release.into());
    meta["annotations"]["meta.helm.sh/release-namespace"] = Value::String(namespace.into());
}

/// The drifted objects of `manifest`, the manifest of `release` in
/// `namespace` (where its objects without a namespace live).
pub fn detect(
    store: &Store,
    namespace: &str,
    release: &str,
    manifest: &str,
    ignore: &[IgnoreRule],
) -> Vec<Drift> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(manifest) {
        let Ok(mut obj) = <Value as serde::Deserialize>::deserialize(doc) else {
            continue;
        };
        if !obj.is_object() || disabled(&obj) {
            continue;
        }
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let (Some(api_version), Some(kind), Some(name)) =
            (s("/apiVersion"), s("/kind"), s("/metadata/name"))
        else {
            continue;
        };
        let (group, version) = split_api_version(&api_version);
        let Some(rt) = store.registry().by_kind(group, &kind) else {
            continue;
        };
        let gvr = Gvr::new(group, version, &rt.plural);
        let ns = rt
            .namespaced
            .then(|| s("/metadata/namespace").unwrap_or_else(|| namespace.to_owned()));
        if let Some(ns) = &ns {
            obj["metadata"]["namespace"] = Value::String(ns.clone());
        }
        set_helm_metadata(&mut obj, release, namespace);
        let r = ObjectRef {
            gvr,
            namespace: ns.clone(),
            name: name.clone(),
        };
        let id = match &ns {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        };
        let Ok(live) = store.get(&r) else {
            out.push(Drift {
                id,
                r,
                desired: obj,
                missing: true,
                added: 0,
                changed: 0,
            });
            continue;
        };
        let mut want = compared(&obj);
        for rule in ignore {
            let selected = rule
                .target
                .as_ref()
                .is_none_or(|t| t.selects((group, version), &kind, ns.as_deref(), &name));
            if selected {
                for p in &rule.paths {
                    remove_pointer(&mut want, p);
                }
            }
        }
        let (mut added, mut changed) = (0, 0);
        compare(&want, Some(&live), &mut added, &mut changed);
        if added + changed > 0 {
            out.push(Drift {
                id,
                r,
                desired: obj,
                missing: false,
                added,
                changed,
            });
        }
    }
    out
}

/// Corrects `drifts` by server-side apply (manager `helm`, force).
/// Returns the change set (`Deployment/apps/web created`) and the errors.
pub fn correct(store: &Store, drifts: &[Drift]) -> (Vec<String>, Vec<String>) {
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    for d in drifts {
        match store.apply(&d.r, d.desired.clone(), "helm", true) {
            Ok(_) => done.push(format!(
                "{} {}",
                d.id,
                if d.missing { "created" } else { "configured" }
            )),
            Err(e) => errors.push(format!("{}: {e}", d.id)),
        }
    }
    (done, errors)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_what_the_manifest_sets_is_compared() {
        let desired = compared(&json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s", "labels": {"a": "1"}},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}, "template": {}}}));
        let live = json!({"metadata": {"name": "s", "uid": "u", "labels": {"a": "1", "b": "2"}},
            "spec": {"ports": [{"port": 80, "protocol": "TCP"}], "selector": {"app": "x"}, "clusterIP": "10.0.0.1"},
            "status": {}});
        let (mut a, mut c) = (0, 0);
        compare(&desired, Some(&live), &mut a, &mut c);
        assert_eq!((a, c), (0, 0));
        let mut changed = live.clone();
        changed["spec"]["ports"][0]["port"] = json!(81);
        changed["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("a");
        compare(&desired, Some(&changed), &mut a, &mut c);
        assert_eq!((a, c), (1, 1));
    }

    #[test]
    fn ignored_paths_and_disabled_objects() {
        let mut v = json!({"spec": {"replicas": 2, "a~b": 1, "list": [1, 2]}});
        remove_pointer(&mut v, "/spec/replicas");
        remove_pointer(&mut v, "/spec/a~0b");
        remove_pointer(&mut v, "/spec/list/0");
        assert_eq!(v, json!({"spec": {"list": [2]}}));
        assert!(disabled(
            &json!({"metadata": {"annotations": {DISABLED_KEY: "disabled"}}})
        ));
        assert!(!disabled(
            &json!({"metadata": {"labels": {DISABLED_KEY: "enabled"}}})
        ));
    }
}
