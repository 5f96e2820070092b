//! `meta.k8s.io/v1` Table responses for `kubectl get`: built-in columns
//! for the common kinds (`columns.rs`), CRD `additionalPrinterColumns`,
//! Name + Age otherwise.

mod columns;
mod events;
pub mod jsonpath;
mod storage;

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::sim::storage::kinds::{PrinterColumn, ResourceType};
use columns::builtin_columns;

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

pub(super) fn age_of(ts: Option<&Value>, now: Timestamp) -> Value {
    let Some(t) = ts
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok())
    else {
        return json!("<unknown>");
    };
    json!(human_duration(crate::clock::duration_between(t, now)))
}

fn age(v: &Value, now: Timestamp) -> Value {
    age_of(v.pointer("/metadata/creationTimestamp"), now)
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
    let own = columns::owns_name_and_age(rt);
    if own {
        defs.clear();
    }
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
        if !own {
            defs.push(definition("Age", "string", "", 0));
        }
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut cells = vec![json!(o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default())];
            if own {
                cells.clear();
            }
            if rt.custom && !printer.is_empty() {
                cells.extend(printer.iter().map(|c| crd_cell(c, o, now)));
            } else {
                cells.extend(builtin.iter().map(|c| (c.cell)(o, now)));
                if !own {
                    cells.push(age(o, now));
                }
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
    use crate::sim::storage::kinds::Registry;
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
