//! Discovery documents, legacy (`APIVersions`, `APIGroupList`,
//! `APIResourceList`) and aggregated (`apidiscovery.k8s.io/v2`), generated
//! from the registry so CRDs appear and disappear at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::sim::storage::kinds::{Registry, ResourceType, version_priority};

/// The exact Content-Type of aggregated discovery responses.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Named groups and their served versions, preferred first. Built-in groups
/// come first in a stable order, then CRD groups alphabetically.
fn groups(registry: &Registry) -> Vec<(String, Vec<String>)> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in registry.all() {
        if t.group.is_empty() {
            continue;
        }
        let vs = map.entry(t.group.clone()).or_default();
        for v in &t.versions {
            if !vs.contains(&v.name) {
                vs.push(v.name.clone());
            }
        }
    }
    let mut out: Vec<(String, Vec<String>)> = map
        .into_iter()
        .map(|(g, mut vs)| {
            vs.sort_by(|a, b| version_priority(a, b));
            (g, vs)
        })
        .collect();
    out.sort_by_key(|(g, _)| (!is_builtin_group(g), g.clone()));
    out
}

fn is_builtin_group(g: &str) -> bool {
    !g.contains('.') || g.ends_with(".k8s.io")
}

fn types_in(registry: &Registry, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
    registry
        .all()
        .into_iter()
        .filter(|t| t.group == group && t.serves(version))
        .collect()
}

/// `GET /api` (legacy).
pub fn core_versions(server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})
}

fn group_entry(name: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{name}/{v}"), "version": v});
    json!({"name": name, "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv).unwrap_or(Value::Null)})
}

/// `GET /apis` (legacy).
pub fn group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = groups(registry)
        .iter()
        .map(|(g, vs)| group_entry(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/{g}`, None for an unknown group.
pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let (g, vs) = groups(registry).into_iter().find(|(g, _)| g == name)?;
    let mut v = group_entry(&g, &vs);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

/// `GET /api/v1`, `GET /apis/{g}/{v}`; None when nothing is served there.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types = types_in(registry, group, version);
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in &types {
        let mut r = json!({"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
            "kind": t.kind, "verbs": t.verbs()});
        if !t.short_names.is_empty() {
            r["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            r["categories"] = json!(t.categories);
        }
        resources.push(r);
        for (sub, kind, group_override, verbs) in subresources(t) {
            let mut s = json!({"name": format!("{}/{sub}", t.plural), "singularName": "", "namespaced": t.namespaced,
                "kind": kind, "verbs": verbs});
            if let Some((g, v)) = group_override {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

type Sub = (
    &'static str,
    String,
    Option<(&'static str, &'static str)>,
    Vec<&'static str>,
);

fn subresources(t: &ResourceType) -> Vec<Sub> {
    let mut out = Vec::new();
    if t.status {
        out.push((
            "status",
            t.kind.clone(),
            None,
            vec!["get", "patch", "update"],
        ));
    }
    if t.scale.is_some() {
        out.push((
            "scale",
            "Scale".to_owned(),
            Some(("autoscaling", "v1")),
            vec!["get", "patch", "update"],
        ));
    }
    if t.group.is_empty() && t.plural == "namespaces" {
        out.push(("finalize", t.kind.clone(), None, vec!["update"]));
    }
    out
}

fn aggregated_version(registry: &Registry, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = types_in(registry, group, version)
        .iter()
        .map(|t| {
            let rk = json!({"group": t.group, "version": version, "kind": t.kind});
            let subs: Vec<Value> = subresources(t)
                .into_iter()
                .map(|(sub, kind, over, verbs)| {
                    let (g, v) = over.unwrap_or((t.group.as_str(), version)).to_owned();
                    json!({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": kind}, "verbs": verbs})
                })
                .collect();
            let mut r = json!({"resource": t.plural, "responseKind": rk,
                "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": t.singular, "verbs": t.verbs()});
            if !t.short_names.is_empty() {
                r["shortNames"] = json!(t.short_names);
            }
            if !t.categories.is_empty() {
                r["categories"] = json!(t.categories);
            }
            if !subs.is_empty() {
                r["subresources"] = json!(subs);
            }
            r
        })
        .collect();
    json!({"version": version, "freshness": "Current", "resources": resources})
}

/// Aggregated `GET /api`.
pub fn aggregated_core(registry: &Registry) -> Value {
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
        "items": [{"metadata": {"creationTimestamp": null}, "versions": [aggregated_version(registry, "", "v1")]}]})
}

/// Aggregated `GET /apis`.
pub fn aggregated_groups(registry: &Registry) -> Value {
    let items: Vec<Value> = groups(registry)
        .iter()
        .map(|(g, vs)| {
            json!({"metadata": {"name": g, "creationTimestamp": null},
                "versions": vs.iter().map(|v| aggregated_version(registry, g, v)).collect::<Vec<_>>()})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_version_answers() {
        let r = Registry::with_builtins();
        let list = group_list(&r);
        for g in list["groups"].as_array().unwrap() {
            for v in g["versions"].as_array().unwrap() {
                let (name, ver) = (g["name"].as_str().unwrap(), v["version"].as_str().unwrap());
                assert!(resource_list(&r, name, ver).is_some(), "{name}/{ver}");
            }
        }
        let apps = resource_list(&r, "apps", "v1").unwrap();
        let names: Vec<&str> = apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"deployments/status") && names.contains(&"deployments/scale"));
    }

    #[test]
    fn aggregated_has_response_kinds() {
        let r = Registry::with_builtins();
        let agg = aggregated_groups(&r);
        for item in agg["items"].as_array().unwrap() {
            for v in item["versions"].as_array().unwrap() {
                for res in v["resources"].as_array().unwrap() {
                    assert!(res["responseKind"]["kind"].is_string());
                }
            }
        }
        assert_eq!(
            aggregated_core(&r)["items"][0]["versions"][0]["version"],
            "v1"
        );
    }
}
