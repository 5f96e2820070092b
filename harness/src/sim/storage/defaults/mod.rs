//! Built-in defaulting the API server applies on every write: namespaces,
//! secrets, pod specs ([`pods`]) and the workload kinds ([`workloads`]).

pub mod pods;
mod workloads;

use base64::Engine;
use serde_json::{Value, json};

use crate::sim::storage::kinds::ResourceType;

/// Applies the defaults of `rt` to `obj` (create and update).
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    if matches!(
        (rt.group.as_str(), rt.plural.as_str()),
        ("apps", "deployments" | "replicasets" | "statefulsets")
    ) && obj.pointer("/spec/replicas").is_none_or(Value::is_null)
        && obj.get("spec").is_some_and(Value::is_object)
    {
        obj["spec"]["replicas"] = json!(1);
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "namespaces") => namespace(obj),
        ("", "secrets") => secret(obj),
        ("", "pods") => {
            if let Some(s) = obj.get_mut("spec") {
                pods::spec(s);
            }
        }
        ("", "persistentvolumeclaims") => {
            if let Some(s) = obj.get_mut("spec").and_then(Value::as_object_mut)
                && s.get("volumeMode").is_none_or(Value::is_null)
            {
                s.insert("volumeMode".into(), json!("Filesystem"));
            }
        }
        ("apps", "deployments") => workloads::deployment(obj),
        ("apps", "replicasets") => pods::template(obj),
        ("apps", "statefulsets") => workloads::statefulset(obj),
        ("apps", "daemonsets") => workloads::daemonset(obj),
        ("batch", "jobs") => workloads::job(obj),
        ("batch", "cronjobs") => workloads::cronjob(obj),
        ("autoscaling", "horizontalpodautoscalers") => workloads::hpa(obj),
        _ => {}
    }
}

fn namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !obj.get("spec").is_some_and(Value::is_object) {
        obj["spec"] = json!({});
    }
    if obj.pointer("/spec/finalizers").is_none()
        && obj.pointer("/metadata/deletionTimestamp").is_none()
    {
        obj["spec"]["finalizers"] = json!(["kubernetes"]);
    }
    if !obj.get("status").is_some_and(Value::is_object) {
        obj["status"] = json!({});
    }
    if obj.pointer("/status/phase").is_none() {
        obj["status"]["phase"] = json!("Active");
    }
    if !obj
        .pointer("/metadata/labels")
        .is_some_and(Value::is_object)
    {
        obj["metadata"]["labels"] = json!({});
    }
    obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
}

/// `stringData` is merged into base64 `data` and never stored.
fn secret(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else { return };
    if let Some(Value::Object(sd)) = m.remove("stringData") {
        let data = m.entry("data").or_insert_with(|| json!({}));
        if !data.is_object() {
            *data = json!({});
        }
        for (k, v) in sd {
            let s = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            data[k.as_str()] = json!(base64::engine::general_purpose::STANDARD.encode(s));
        }
    }
    if m.get("type").is_none_or(Value::is_null) {
        m.insert("type".into(), json!("Opaque"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::storage::kinds::Registry;

    #[test]
    fn secret_string_data_becomes_data() {
        let r = Registry::with_builtins();
        let rt = r.lookup("", "v1", "secrets").unwrap();
        let mut s = json!({"metadata": {"name": "s"}, "stringData": {"k": "hi"}});
        apply(&rt, &mut s);
        assert_eq!(s["data"]["k"], "aGk=");
        assert!(s.get("stringData").is_none());
        assert_eq!(s["type"], "Opaque");
    }

    #[test]
    fn namespace_defaults() {
        let r = Registry::with_builtins();
        let rt = r.lookup("", "v1", "namespaces").unwrap();
        let mut n = json!({"metadata": {"name": "t"}});
        apply(&rt, &mut n);
        assert_eq!(n["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(n["status"]["phase"], "Active");
        assert_eq!(n["metadata"]["labels"]["kubernetes.io/metadata.name"], "t");
    }
}
