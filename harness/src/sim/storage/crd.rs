//! CustomResourceDefinitions: validation, the status the API server sets
//! (`acceptedNames`, `storedVersions`, `NamesAccepted`/`Established`), and
//! the resource type a CRD registers.

use serde_json::{Value, json};

use super::resource::GroupResource;
use super::status::{ApiError, ApiResult};
use super::store::conditions::set_condition;
use crate::sim::storage::kinds::{
    PrinterColumn, ResourceType, ScalePaths, VersionInfo, version_priority,
};

/// The finalizer the API server puts on CRDs: it removes every custom
/// resource before the CRD goes.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// True for the `customresourcedefinitions` resource.
pub fn is_crd(gr: &GroupResource) -> bool {
    gr.group == "apiextensions.k8s.io" && gr.resource == "customresourcedefinitions"
}

fn invalid(name: &str, field: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        "CustomResourceDefinition",
        &GroupResource::new("apiextensions.k8s.io", "customresourcedefinitions"),
        name,
        field,
        detail,
    )
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

/// Validates a CRD and sets its status and cleanup finalizer.
///
/// # Errors
/// 422 Invalid for a name that is not `<plural>.<group>`, a bad scope,
/// or not exactly one storage version.
pub fn prepare(obj: &mut Value, old: Option<&Value>, now: &str) -> ApiResult<()> {
    let name = s(obj, "/metadata/name").to_owned();
    let group = s(obj, "/spec/group").to_owned();
    let plural = s(obj, "/spec/names/plural").to_owned();
    let kind = s(obj, "/spec/names/kind").to_owned();
    if group.is_empty() {
        return Err(invalid(&name, "spec.group", "Required value"));
    }
    if plural.is_empty() || kind.is_empty() {
        return Err(invalid(
            &name,
            "spec.names",
            "Required value: plural and kind are required",
        ));
    }
    if name != format!("{plural}.{group}") {
        return Err(invalid(
            &name,
            "metadata.name",
            &format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let scope = s(obj, "/spec/scope");
    if scope != "Namespaced" && scope != "Cluster" {
        return Err(invalid(
            &name,
            "spec.scope",
            &format!(
                "Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\""
            ),
        ));
    }
    let versions = obj
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        return Err(invalid(
            &name,
            "spec.versions",
            "Invalid value: null: must have exactly one version marked as storage version",
        ));
    }
    let storage: Vec<&str> = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    if storage.len() != 1 {
        return Err(invalid(
            &name,
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version",
        ));
    }
    let storage = storage[0].to_owned();

    let singular = match s(obj, "/spec/names/singular") {
        "" => kind.to_ascii_lowercase(),
        x => x.to_owned(),
    };
    let list_kind = match s(obj, "/spec/names/listKind") {
        "" => format!("{kind}List"),
        x => x.to_owned(),
    };
    obj["spec"]["names"]["singular"] = json!(singular);
    obj["spec"]["names"]["listKind"] = json!(list_kind);

    let mut stored: Vec<String> = old
        .and_then(|o| o.pointer("/status/storedVersions"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !stored.contains(&storage) {
        stored.push(storage);
    }
    let mut accepted = obj["spec"]["names"].clone();
    if let Some(m) = accepted.as_object_mut() {
        m.retain(|k, _| {
            matches!(
                k.as_str(),
                "plural" | "singular" | "kind" | "listKind" | "shortNames" | "categories"
            )
        });
    }
    let mut status = old
        .and_then(|o| o.get("status"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !status.is_object() {
        status = json!({});
    }
    status["acceptedNames"] = accepted;
    status["storedVersions"] = json!(stored);
    let mut holder = json!({"status": status});
    set_condition(
        &mut holder,
        "NamesAccepted",
        "True",
        "NoConflicts",
        "no conflicts found",
        now,
        None,
    );
    set_condition(
        &mut holder,
        "Established",
        "True",
        "InitialNamesAccepted",
        "the initial names have been accepted",
        now,
        None,
    );
    obj["status"] = holder["status"].take();

    let deleting = obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    if old.is_none() && !deleting {
        let fins = &mut obj["metadata"]["finalizers"];
        if !fins.is_array() {
            *fins = json!([]);
        }
        if let Some(a) = fins.as_array_mut()
            && !a.iter().any(|f| f == CLEANUP_FINALIZER)
        {
            a.push(json!(CLEANUP_FINALIZER));
        }
    }
    Ok(())
}

fn pointer_of(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |acc, p| acc + "/" + p)
}

/// The resource type a (valid) CRD object defines.
pub fn resource_type(crd: &Value) -> Option<ResourceType> {
    let names = crd.pointer("/spec/names")?;
    let kind = names.get("kind")?.as_str()?.to_owned();
    let list = |k: &str| -> Vec<String> {
        names
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut served: Vec<&Value> = crd
        .pointer("/spec/versions")?
        .as_array()?
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
        .collect();
    if served.is_empty() {
        return None;
    }
    served.sort_by(|a, b| version_priority(s(a, "/name"), s(b, "/name")));
    let preferred = served[0];
    let versions = served
        .iter()
        .map(|v| VersionInfo {
            name: s(v, "/name").to_owned(),
            printer_columns: v
                .get("additionalPrinterColumns")
                .and_then(Value::as_array)
                .map(|cols| {
                    cols.iter()
                        .map(|c| PrinterColumn {
                            name: s(c, "/name").to_owned(),
                            type_: s(c, "/type").to_owned(),
                            format: s(c, "/format").to_owned(),
                            description: s(c, "/description").to_owned(),
                            priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                            json_path: s(c, "/jsonPath").to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            schema: v.pointer("/schema/openAPIV3Schema").cloned(),
        })
        .collect();
    let scale = preferred
        .pointer("/subresources/scale")
        .map(|sc| ScalePaths {
            spec_replicas: pointer_of(s(sc, "/specReplicasPath")),
            status_replicas: pointer_of(s(sc, "/statusReplicasPath")),
            label_selector: sc
                .get("labelSelectorPath")
                .and_then(Value::as_str)
                .map(pointer_of),
        });
    Some(ResourceType {
        group: s(crd, "/spec/group").to_owned(),
        versions,
        plural: names.get("plural")?.as_str()?.to_owned(),
        singular: names
            .get("singular")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| kind.to_ascii_lowercase()),
        list_kind: names
            .get("listKind")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{kind}List")),
        kind,
        namespaced: s(crd, "/spec/scope") != "Cluster",
        short_names: list("shortNames"),
        categories: list("categories"),
        status: preferred.pointer("/subresources/status").is_some(),
        scale,
        custom: true,
        delete_collection: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({"metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1beta1", "served": true, "storage": false},
                         {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                          "additionalPrinterColumns": [{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}]}]}})
    }

    #[test]
    fn status_and_type() {
        let mut c = crd();
        prepare(&mut c, None, "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(c["status"]["storedVersions"], json!(["v1"]));
        assert_eq!(c["status"]["acceptedNames"]["listKind"], "WidgetList");
        assert_eq!(c["status"]["conditions"][1]["type"], "Established");
        assert_eq!(c["metadata"]["finalizers"], json!([CLEANUP_FINALIZER]));
        let t = resource_type(&c).unwrap();
        assert_eq!(t.preferred_version(), "v1");
        assert!(t.status);
        assert_eq!(t.versions[0].printer_columns.len(), 1);
    }

    #[test]
    fn name_must_be_plural_dot_group() {
        let mut c = crd();
        c["metadata"]["name"] = json!("nope");
        assert_eq!(prepare(&mut c, None, "t").unwrap_err().code, 422);
    }
}
