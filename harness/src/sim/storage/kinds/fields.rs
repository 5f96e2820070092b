//! Per-type fields that field selectors may name.
//!
//! Every type supports `metadata.name` and `metadata.namespace`; some
//! built-ins support more, exactly as the real API server does.

use serde_json::Value;

use crate::sim::storage::resource::GroupResource;

/// The fields `gr` supports beyond `metadata.name` / `metadata.namespace`.
fn extra_fields(gr: &GroupResource) -> &'static [&'static str] {
    match (gr.group.as_str(), gr.resource.as_str()) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "namespaces") => &["status.phase"],
        ("", "secrets") => &["type"],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("events.k8s.io", "events") => &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "type",
        ],
        ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        _ => &[],
    }
}

/// True when `field` may be used in a field selector on `gr`.
pub fn supports(gr: &GroupResource, field: &str) -> bool {
    field == "metadata.name" || field == "metadata.namespace" || extra_fields(gr).contains(&field)
}

/// The value of a supported field as a field selector compares it: the
/// string form, `""` when absent.
pub fn value(obj: &Value, field: &str) -> String {
    let mut cur = obj;
    for part in field.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // Event `source` is an object; the server compares its component.
        Value::Object(m) => m
            .get("component")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Value::Array(_) => String::new(),
    }
}
