//! A minimal OpenAPI v3: the index and one document per group/version
//! with a PATCH operation per kind that declares the `fieldValidation`
//! parameter. That is what `kubectl apply`/`create -f` check before
//! sending `fieldValidation=Strict` instead of validating client-side.

use serde_json::{Map, Value, json};

use crate::sim::storage::kinds::Registry;
use crate::sim::storage::resource::api_version;

fn group_versions(registry: &Registry) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in registry.all() {
        for v in &t.versions {
            let gv = (t.group.clone(), v.name.clone());
            if !out.contains(&gv) {
                out.push(gv);
            }
        }
    }
    out.sort();
    out
}

fn path_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`.
pub fn index(registry: &Registry) -> Value {
    let hash = format!("{:016x}", registry.generation());
    let mut paths = Map::new();
    for (g, v) in group_versions(registry) {
        let key = path_key(&g, &v);
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1`, `/openapi/v3/apis/{g}/{v}`; None when unknown.
pub fn document(
    registry: &Registry,
    group: &str,
    version: &str,
    k8s_version: &str,
) -> Option<Value> {
    let types: Vec<_> = registry
        .all()
        .into_iter()
        .filter(|t| t.group == group && t.serves(version))
        .collect();
    if types.is_empty() {
        return None;
    }
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for t in &types {
        let path = if t.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", t.plural)
        } else {
            format!("{prefix}/{}/{{name}}", t.plural)
        };
        let gvk = json!({"group": group, "version": version, "kind": t.kind});
        let param = |name: &str, ty: &str| json!({"name": name, "in": "query", "schema": {"type": ty}, "uniqueItems": true});
        let schema_name = format!(
            "{}.{}",
            api_version(group, version).replace('/', "."),
            t.kind
        );
        let op = |verb: &str, action: &str| {
            let mut params = vec![
                param("fieldValidation", "string"),
                param("fieldManager", "string"),
                param("dryRun", "string"),
            ];
            if verb == "patch" {
                params.push(param("force", "boolean"));
            }
            json!({"operationId": format!("{verb}{}", t.kind),
                "parameters": params,
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema_name}")}}}}},
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk})
        };
        paths.insert(path, json!({
            "get": {"operationId": format!("read{}", t.kind), "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk},
            "put": op("replace", "put"),
            "patch": op("patch", "patch"),
            "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}]
        }));
        let schema = t
            .version(version)
            .and_then(|v| v.schema.clone())
            .unwrap_or_else(
                || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            );
        let mut schema = schema;
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(schema_name, schema);
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": k8s_version},
        "paths": paths, "components": {"schemas": schemas}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_ops_declare_field_validation() {
        let r = Registry::with_builtins();
        let idx = index(&r);
        assert!(
            idx["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/api/v1?hash=")
        );
        let doc = document(&r, "", "v1", "v1.33.0").unwrap();
        let ns = &doc["paths"]["/api/v1/namespaces/{name}"]["patch"];
        assert_eq!(ns["x-kubernetes-group-version-kind"]["kind"], "Namespace");
        assert!(
            ns["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        assert!(
            doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"].is_object()
        );
        assert!(document(&r, "nope", "v1", "x").is_none());
    }
}
