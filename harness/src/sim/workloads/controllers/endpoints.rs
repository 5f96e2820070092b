//! The Endpoints and EndpointSlice controllers, for Services with a
//! selector: the pods it selects that have an IP and are not finished or
//! being deleted, ready ones as `addresses` (`conditions.ready: true`),
//! others as `notReadyAddresses` (`ready: false`), on the Service's target
//! ports (a named `targetPort` resolved against the pod's container
//! ports). One Endpoints object named after the Service, one EndpointSlice
//! `<service>-<5 chars>` owned by it (`kubernetes.io/service-name`), both
//! rewritten only when they change; a Service without a selector gets
//! neither, as on a real cluster.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::engine::Engine;
use super::pods;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::store::{DeleteOptions, Gvr, ObjectRef, WriteOptions};

const KCM: &str = "kube-controller-manager";
const SERVICE_NAME: &str = "kubernetes.io/service-name";
const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";

fn endpoints() -> Gvr {
    Gvr::core("endpoints")
}

pub(crate) fn slices() -> Gvr {
    Gvr::new("discovery.k8s.io", "v1", "endpointslices")
}

/// The label selector of a Service (None: no selector).
fn selector_of(svc: &Value) -> Option<Selector> {
    let m = svc.pointer("/spec/selector").and_then(Value::as_object)?;
    if m.is_empty() {
        return None;
    }
    Selector::from_label_selector(&json!({"matchLabels": m})).ok()
}

/// The Services in `ns` whose selector matches `pod`.
pub(crate) fn selecting(e: &Engine, pod: &Value) -> Vec<String> {
    e.store
        .list(
            &Gvr::core("services"),
            Some(pods::namespace(pod)),
            &Default::default(),
        )
        .map(|l| {
            l.items
                .iter()
                .filter(|s| selector_of(s).is_some_and(|sel| sel.matches(pod)))
                .map(|s| pods::key_of(s))
                .collect()
        })
        .unwrap_or_default()
}

/// The port a Service port reaches on `pod` (None: a name it lacks).
fn target_port(port: &Value, pod: &Value) -> Option<i64> {
    match port.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(name)) => pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)?
            .iter()
            .flat_map(|c| {
                c.get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .find(|p| pods::str_at(p, "/name") == name)
            .and_then(|p| p.get("containerPort").and_then(Value::as_i64)),
        _ => port.get("port").and_then(Value::as_i64),
    }
}

fn target_ref(pod: &Value) -> Value {
    json!({"kind": "Pod", "namespace": pods::namespace(pod), "name": pods::name(pod), "uid": pods::uid(pod)})
}

/// Reconciles the Endpoints and EndpointSlice of Service `key`.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let svc = e.store.get(&pods::ref_of(Gvr::core("services"), key)).ok();
    let Some(sel) = svc
        .as_deref()
        .filter(|s| !pods::deleting(s))
        .and_then(selector_of)
    else {
        // Gone, or no selector: the controller's objects go (a slice also
        // goes with its owner).
        let _ = e
            .store
            .delete(&pods::ref_of(endpoints(), key), &DeleteOptions::default());
        return;
    };
    let svc = svc.unwrap_or_default();
    let ns = pods::namespace(&svc).to_owned();
    let mut members: Vec<Arc<Value>> = e
        .store
        .list(&pods::gvr(), Some(&ns), &sel)
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            !pods::str_at(p, "/status/podIP").is_empty()
                && !pods::deleting(p)
                && !pods::is_terminal(p)
        })
        .collect();
    members.sort_by_key(|p| pods::str_at(p, "/status/podIP").to_owned());
    let ports: Vec<&Value> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let resolved: Vec<Value> = ports
        .iter()
        .filter_map(|p| {
            let target = members.iter().find_map(|pod| target_port(p, pod)).or_else(|| {
                p.get("targetPort").and_then(Value::as_i64).or_else(|| p.get("port").and_then(Value::as_i64))
            })?;
            let mut out = json!({"port": target, "protocol": p.get("protocol").cloned().unwrap_or(json!("TCP"))});
            if let Some(n) = p.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                out["name"] = json!(n);
            }
            Some(out)
        })
        .collect();
    write_endpoints(e, &svc, &members, &resolved);
    write_slice(e, &svc, &members, &resolved);
}

fn labels_of(svc: &Value) -> Map<String, Value> {
    svc.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn upsert(e: &Engine, r: &ObjectRef, ns: &str, fresh: Value, set: impl Fn(&mut Value)) {
    match e.store.get(r) {
        Ok(_) => {
            let _ = e.store.mutate(r, false, &WriteOptions::manager(KCM), |o| {
                set(o);
                Ok(())
            });
        }
        Err(_) => {
            let mut obj = fresh;
            set(&mut obj);
            let _ = e
                .store
                .create(&r.gvr, Some(ns), obj, &WriteOptions::manager(KCM));
        }
    }
}

fn write_endpoints(e: &Engine, svc: &Value, members: &[Arc<Value>], ports: &[Value]) {
    let (ns, name) = (pods::namespace(svc), pods::name(svc));
    let address = |p: &Arc<Value>| {
        json!({"ip": pods::str_at(p, "/status/podIP"), "nodeName": pods::str_at(p, "/spec/nodeName"),
            "targetRef": target_ref(p)})
    };
    let ready: Vec<Value> = members
        .iter()
        .filter(|p| pods::is_ready(p))
        .map(address)
        .collect();
    let not_ready: Vec<Value> = members
        .iter()
        .filter(|p| !pods::is_ready(p))
        .map(address)
        .collect();
    let mut subset = json!({"ports": ports});
    if !ready.is_empty() {
        subset["addresses"] = json!(ready);
    }
    if !not_ready.is_empty() {
        subset["notReadyAddresses"] = json!(not_ready);
    }
    let subsets = (!members.is_empty() && !ports.is_empty()).then(|| json!([subset]));
    let labels = labels_of(svc);
    let fresh = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns}});
    upsert(
        e,
        &ObjectRef::namespaced(endpoints(), ns, name),
        ns,
        fresh,
        |o| {
            o["metadata"]["labels"] = Value::Object(labels.clone());
            match &subsets {
                Some(s) => o["subsets"] = s.clone(),
                None => {
                    if let Some(m) = o.as_object_mut() {
                        m.remove("subsets");
                    }
                }
            }
        },
    );
}

fn write_slice(e: &Engine, svc: &Value, members: &[Arc<Value>], ports: &[Value]) {
    let (ns, name) = (pods::namespace(svc), pods::name(svc));
    let existing = e
        .store
        .list(
            &slices(),
            Some(ns),
            &Selector::labels(&format!("{SERVICE_NAME}={name}")).unwrap_or_default(),
        )
        .ok()
        .and_then(|l| l.items.first().cloned());
    let slice_name = match &existing {
        Some(s) => pods::name(s).to_owned(),
        None => format!(
            "{name}-{}",
            e.jitter.suffix(&["endpointslice", ns, name], 0, 5)
        ),
    };
    let points: Vec<Value> = members
        .iter()
        .map(|p| {
            let ready = pods::is_ready(p);
            json!({"addresses": [pods::str_at(p, "/status/podIP")],
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "nodeName": pods::str_at(p, "/spec/nodeName"), "targetRef": target_ref(p)})
        })
        .collect();
    let slice_ports: Vec<Value> = ports
        .iter()
        .map(|p| {
            let mut q = p.clone();
            if q.get("name").is_none() {
                q["name"] = json!("");
            }
            q
        })
        .collect();
    let mut labels = labels_of(svc);
    labels.insert(SERVICE_NAME.into(), json!(name));
    labels.insert(MANAGED_BY.into(), json!("endpointslice-controller.k8s.io"));
    let fresh = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": slice_name, "namespace": ns,
            "ownerReferences": [pods::owner_ref(svc, "v1", "Service")]},
        "addressType": "IPv4"});
    upsert(
        e,
        &ObjectRef::namespaced(slices(), ns, &slice_name),
        ns,
        fresh,
        |o| {
            o["metadata"]["labels"] = Value::Object(labels.clone());
            o["endpoints"] = json!(points);
            o["ports"] = json!(slice_ports);
        },
    );
}
