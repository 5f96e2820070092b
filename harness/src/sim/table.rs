//! `meta.k8s.io/v1` Table responses for `kubectl get`: built-in columns
//! for the common kinds, CRD `additionalPrinterColumns`, Name + Age else.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::jsonpath;
use super::registry::{PrinterColumn, ResourceType};

type Cell = fn(&Value, Timestamp) -> Value;

struct Column {
    name: &'static str,
    type_: &'static str,
    priority: i64,
    cell: Cell,
}

const fn col(name: &'static str, type_: &'static str, priority: i64, cell: Cell) -> Column {
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

fn int(v: &Value, ptr: &str) -> i64 {
    at(v, ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn text(v: &Value, ptr: &str) -> String {
    match at(v, ptr) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn or_none(s: String) -> Value {
    json!(if s.is_empty() { "<none>".to_owned() } else { s })
}

/// kubectl's `HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (m, h) = (s / 60, s / 3600);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s.is_multiple_of(60) {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m.is_multiple_of(60) {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h.is_multiple_of(24) {
            format!("{}d", h / 24)
        } else {
            format!("{}d{}h", h / 24, h % 24)
        }
    } else if h < 24 * 365 * 2 {
        format!("{}d", h / 24)
    } else if h < 24 * 365 * 8 {
        let (y, d) = (h / 24 / 365, (h / 24) % 365);
        if d == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{d}d")
        }
    } else {
        format!("{}y", h / 24 / 365)
    }
}

fn age_of(ts: Option<&Value>, now: Timestamp) -> Value {
    let Some(t) = ts
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok())
    else {
        return json!("<unknown>");
    };
    json!(human_duration(crate::clock::duration_between(t, now)))
}

fn age(v: &Value, now: Timestamp) -> Value {
    age_of(at(v, "/metadata/creationTimestamp"), now)
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
                    match p.get("nodePort") {
                        Some(np) => format!("{port}:{np}/{proto}"),
                        None => format!("{port}/{proto}"),
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

fn builtin_columns(rt: &ResourceType) -> Vec<Column> {
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
        ("", "events") => vec![
            col("Type", "string", 0, |v, _| json!(text(v, "/type"))),
            col("Reason", "string", 0, |v, _| json!(text(v, "/reason"))),
            col("Object", "string", 0, |v, _| {
                json!(format!(
                    "{}/{}",
                    text(v, "/involvedObject/kind").to_lowercase(),
                    text(v, "/involvedObject/name")
                ))
            }),
            col("Message", "string", 0, |v, _| json!(text(v, "/message"))),
        ],
        _ => Vec::new(),
    }
}

fn crd_cell(c: &PrinterColumn, v: &Value, now: Timestamp) -> Value {
    let vals = jsonpath::select(v, &c.json_path);
    if c.type_ == "date" {
        return match vals.first() {
            Some(x) => age_of(Some(x), now),
            None => Value::Null,
        };
    }
    match vals.as_slice() {
        [] => Value::Null,
        [one] => one.clone(),
        many => json!(
            many.iter()
                .map(|x| x
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| x.to_string()))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn definition(name: &str, type_: &str, format: &str, priority: i64) -> Value {
    json!({"name": name, "type": type_, "format": format, "description": "", "priority": priority})
}

/// The Table of `items` (as served at `version`).
pub fn table(
    rt: &ResourceType,
    version: &str,
    items: &[std::sync::Arc<Value>],
    rev: u64,
    cont: Option<&str>,
    full: bool,
    now: Timestamp,
) -> Value {
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    let printer = rt
        .version(version)
        .map(|v| v.printer_columns.clone())
        .unwrap_or_default();
    let builtin = builtin_columns(rt);
    if rt.custom && !printer.is_empty() {
        defs.extend(
            printer
                .iter()
                .map(|c| definition(&c.name, &c.type_, &c.format, c.priority)),
        );
    } else {
        defs.extend(
            builtin
                .iter()
                .map(|c| definition(c.name, c.type_, "", c.priority)),
        );
        defs.push(definition("Age", "string", "", 0));
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut cells = vec![json!(o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default())];
            if rt.custom && !printer.is_empty() {
                cells.extend(printer.iter().map(|c| crd_cell(c, o, now)));
            } else {
                cells.extend(builtin.iter().map(|c| (c.cell)(o, now)));
                cells.push(age(o, now));
            }
            let object = if full {
                (**o).clone()
            } else {
                let mut meta = o.get("metadata").cloned().unwrap_or_else(|| json!({}));
                if let Some(m) = meta.as_object_mut() {
                    m.remove("managedFields");
                }
                json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta})
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rev.to_string(), "continue": cont.unwrap_or("")},
        "columnDefinitions": defs, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::registry::Registry;
    use std::sync::Arc;

    #[test]
    fn durations_like_kubectl() {
        assert_eq!(human_duration(Duration::from_secs(59)), "59s");
        assert_eq!(human_duration(Duration::from_secs(190)), "3m10s");
        assert_eq!(
            human_duration(Duration::from_secs(3600 * 3 + 60 * 12)),
            "3h12m"
        );
        assert_eq!(human_duration(Duration::from_secs(86400 * 2)), "2d");
    }

    #[test]
    fn deployment_columns() {
        let r = Registry::with_builtins();
        let rt = r.lookup("apps", "v1", "deployments").unwrap();
        let now: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let d = Arc::new(
            json!({"metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"replicas": 3}, "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}),
        );
        let t = table(&rt, "v1", &[d], 7, None, false, now);
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            &names[..5],
            ["Name", "Ready", "Up-to-date", "Available", "Containers"]
        );
        assert_eq!(
            t["rows"][0]["cells"].as_array().unwrap()[..4],
            [json!("web"), json!("2/3"), json!(3), json!(2)]
        );
        assert_eq!(
            t["rows"][0]["cells"].as_array().unwrap().last().unwrap(),
            &json!("5m")
        );
    }
}
