//! The columns `kubectl get` shows for common built-in kinds.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::sim::storage::kinds::ResourceType;

pub(super) type Cell = fn(&Value, Timestamp) -> Value;

/// True for the types whose columns include their own Name and no Age
/// (kube's Event table).
pub(super) fn owns_name_and_age(rt: &ResourceType) -> bool {
    rt.plural == "events" && matches!(rt.group.as_str(), "" | "events.k8s.io")
}

pub(super) struct Column {
    pub(super) name: &'static str,
    pub(super) type_: &'static str,
    pub(super) priority: i64,
    pub(super) cell: Cell,
}

pub(super) const fn col(
    name: &'static str,
    type_: &'static str,
    priority: i64,
    cell: Cell,
) -> Column {
    Column {
        name,
        type_,
        priority,
        cell,
    }
}

fn at<'a>(v: &'a Value, ptr: &str) -> Option<&'a Value> {
    v.pointer(ptr)
}

pub(super) fn int(v: &Value, ptr: &str) -> i64 {
    at(v, ptr).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn text(v: &Value, ptr: &str) -> String {
    match at(v, ptr) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

pub(super) fn or_none(s: String) -> Value {
    json!(if s.is_empty() { "<none>".to_owned() } else { s })
}

fn containers(v: &Value, ptr: &str, field: &str) -> Value {
    let items: Vec<String> = at(v, ptr)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c.get(field).and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    or_none(items.join(","))
}

fn selector(v: &Value) -> Value {
    let labels: Vec<String> = at(v, "/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    or_none(labels.join(","))
}

fn pod_status(v: &Value, _: Timestamp) -> Value {
    if at(v, "/metadata/deletionTimestamp").is_some_and(|d| !d.is_null()) {
        return json!("Terminating");
    }
    let statuses = at(v, "/status/containerStatuses").and_then(Value::as_array);
    for cs in statuses.into_iter().flatten() {
        if let Some(r) = cs.pointer("/state/waiting/reason").and_then(Value::as_str) {
            return json!(r);
        }
        if let Some(r) = cs
            .pointer("/state/terminated/reason")
            .and_then(Value::as_str)
        {
            return json!(r);
        }
    }
    json!(text(v, "/status/phase"))
}

fn pod_ready(v: &Value, _: Timestamp) -> Value {
    let total = at(v, "/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = at(v, "/status/containerStatuses")
        .and_then(Value::as_array)
        .map_or(0, |a| {
            a.iter()
                .filter(|c| c.get("ready") == Some(&json!(true)))
                .count()
        });
    json!(format!("{ready}/{total}"))
}

fn pod_restarts(v: &Value, _: Timestamp) -> Value {
    let n: i64 = at(v, "/status/containerStatuses")
        .and_then(Value::as_array)
        .map_or(0, |a| {
            a.iter()
                .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                .sum()
        });
    json!(n)
}

fn node_status(v: &Value, _: Timestamp) -> Value {
    let ready = at(v, "/status/conditions")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|c| c.get("type") == Some(&json!("Ready"))))
        .and_then(|c| c.get("status").and_then(Value::as_str));
    let mut s = match ready {
        Some("True") => "Ready".to_owned(),
        Some(_) => "NotReady".to_owned(),
        None => "Unknown".to_owned(),
    };
    if at(v, "/spec/unschedulable") == Some(&json!(true)) {
        s.push_str(",SchedulingDisabled");
    }
    json!(s)
}

fn node_roles(v: &Value, _: Timestamp) -> Value {
    let roles: Vec<String> = at(v, "/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter_map(|k| {
                    k.strip_prefix("node-role.kubernetes.io/")
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    or_none(roles.join(","))
}

fn service_ports(v: &Value, _: Timestamp) -> Value {
    let ports: Vec<String> = at(v, "/spec/ports")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    let port = p.get("port").map(|x| x.to_string()).unwrap_or_default();
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                    match p.get("nodePort").and_then(Value::as_u64) {
                        Some(np) if np != 0 => format!("{port}:{np}/{proto}"),
                        _ => format!("{port}/{proto}"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    or_none(ports.join(","))
}

fn count_map(v: &Value, ptr: &str) -> Value {
    json!(at(v, ptr).and_then(Value::as_object).map_or(0, |m| m.len()))
}

pub(super) fn builtin_columns(rt: &ResourceType) -> Vec<Column> {
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "namespaces") => vec![col("Status", "string", 0, |v, _| {
            json!(text(v, "/status/phase"))
        })],
        ("", "configmaps") => vec![col("Data", "integer", 0, |v, _| count_map(v, "/data"))],
        ("", "secrets") => vec![
            col("Type", "string", 0, |v, _| json!(text(v, "/type"))),
            col("Data", "integer", 0, |v, _| count_map(v, "/data")),
        ],
        ("", "pods") => vec![
            col("Ready", "string", 0, pod_ready),
            col("Status", "string", 0, pod_status),
            col("Restarts", "string", 0, pod_restarts),
            col("IP", "string", 1, |v, _| or_none(text(v, "/status/podIP"))),
            col("Node", "string", 1, |v, _| {
                or_none(text(v, "/spec/nodeName"))
            }),
        ],
        ("", "nodes") => vec![
            col("Status", "string", 0, node_status),
            col("Roles", "string", 0, node_roles),
            col("Version", "string", 0, |v, _| {
                json!(text(v, "/status/nodeInfo/kubeletVersion"))
            }),
        ],
        ("", "services") => vec![
            col("Type", "string", 0, |v, _| {
                json!(match text(v, "/spec/type") {
                    t if t.is_empty() => "ClusterIP".to_owned(),
                    t => t,
                })
            }),
            col("Cluster-IP", "string", 0, |v, _| {
                or_none(text(v, "/spec/clusterIP"))
            }),
            col("External-IP", "string", 0, |v, _| {
                or_none(text(v, "/status/loadBalancer/ingress/0/ip"))
            }),
            col("Port(s)", "string", 0, service_ports),
        ],
        ("apps", "deployments") => vec![
            col("Ready", "string", 0, |v, _| {
                json!(format!(
                    "{}/{}",
                    int(v, "/status/readyReplicas"),
                    int(v, "/spec/replicas")
                ))
            }),
            col("Up-to-date", "integer", 0, |v, _| {
                json!(int(v, "/status/updatedReplicas"))
            }),
            col("Available", "integer", 0, |v, _| {
                json!(int(v, "/status/availableReplicas"))
            }),
            col("Containers", "string", 1, |v, _| {
                containers(v, "/spec/template/spec/containers", "name")
            }),
            col("Images", "string", 1, |v, _| {
                containers(v, "/spec/template/spec/containers", "image")
            }),
            col("Selector", "string", 1, |v, _| selector(v)),
        ],
        ("apps", "replicasets") => vec![
            col("Desired", "integer", 0, |v, _| {
                json!(int(v, "/spec/replicas"))
            }),
            col("Current", "integer", 0, |v, _| {
                json!(int(v, "/status/replicas"))
            }),
            col("Ready", "integer", 0, |v, _| {
                json!(int(v, "/status/readyReplicas"))
            }),
        ],
        ("apps", "statefulsets") => vec![col("Ready", "string", 0, |v, _| {
            json!(format!(
                "{}/{}",
                int(v, "/status/readyReplicas"),
                int(v, "/spec/replicas")
            ))
        })],
        ("apps", "daemonsets") => vec![
            col("Desired", "integer", 0, |v, _| {
                json!(int(v, "/status/desiredNumberScheduled"))
            }),
            col("Current", "integer", 0, |v, _| {
                json!(int(v, "/status/currentNumberScheduled"))
            }),
            col("Ready", "integer", 0, |v, _| {
                json!(int(v, "/status/numberReady"))
            }),
            col("Up-to-date", "integer", 0, |v, _| {
                json!(int(v, "/status/updatedNumberScheduled"))
            }),
            col("Available", "integer", 0, |v, _| {
                json!(int(v, "/status/numberAvailable"))
            }),
        ],
        ("batch", "jobs") => vec![col("Completions", "string", 0, |v, _| {
            json!(format!(
                "{}/{}",
                int(v, "/status/succeeded"),
                at(v, "/spec/completions")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
            ))
        })],
        ("", "events") | ("events.k8s.io", "events") => super::events::columns(),
        ("", "persistentvolumeclaims") => super::storage::pvc_columns(),
        ("", "persistentvolumes") => super::storage::pv_columns(),
        ("autoscaling", "horizontalpodautoscalers") => super::storage::hpa_columns(),
        ("batch", "cronjobs") => super::storage::cronjob_columns(),
        _ => Vec::new(),
    }
}
