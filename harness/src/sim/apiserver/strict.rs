//! Field validation (`?fieldValidation=Strict|Warn|Ignore`), as
//! kube-apiserver does it: fields the type's schema does not declare, and
//! fields a JSON body names twice.
//!
//! `Strict` refuses the request with 400 `strict decoding error: unknown
//! field "spec.foo"`; `Warn` (the default) accepts it with one `Warning`
//! header per field; `Ignore` is silent. Built-in kinds are checked against
//! the schemas Kubernetes publishes (k8s-openapi's, the ones
//! [`super::openapi`] serves); custom resources against their CRD's
//! structural schema, their `metadata` against ObjectMeta's.
//!
//! What is checked: the object of a create or update, and the body of an
//! apply, merge or strategic-merge patch (a partial object). A JSON patch
//! (`[{"op": …}]`) is not checked; duplicates only in JSON bodies.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::query::Query;
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::status::{ApiError, ApiResult};

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse unknown and duplicate fields.
    Strict,
    /// Accept, with a warning per field (the default).
    Warn,
    /// Accept silently.
    Ignore,
}

impl FieldValidation {
    /// `?fieldValidation=`: absent means Warn.
    ///
    /// # Errors
    /// 400 for another value, as kube-apiserver answers.
    pub fn from_query(q: &Query) -> ApiResult<Self> {
        match q.get("fieldValidation") {
            None | Some("Warn") => Ok(Self::Warn),
            Some("Strict") => Ok(Self::Strict),
            Some("Ignore") => Ok(Self::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}; valid values are Ignore, Warn and Strict"
            ))),
        }
    }

    /// Applies the choice to what [`problems`] found: the warnings to
    /// send (Warn), or the 400 (Strict).
    ///
    /// # Errors
    /// 400 `Kind in version "v" cannot be handled as a Kind: strict
    /// decoding error: …` under Strict when anything was found.
    pub fn judge(self, found: Vec<String>, kind: &str, version: &str) -> ApiResult<Vec<String>> {
        match self {
            _ if found.is_empty() => Ok(Vec::new()),
            Self::Ignore => Ok(Vec::new()),
            Self::Warn => Ok(found),
            Self::Strict => Err(ApiError::bad_request(format!(
                "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
                found.join(", ")
            ))),
        }
    }
}

/// The unknown and duplicate fields of `body` (already decoded as
/// `object`) for `rt` at `version`, as kube-apiserver words them
/// (`unknown field "spec.foo"`, `duplicate field "spec.replicas"`).
pub fn problems(
    rt: &ResourceType,
    version: &str,
    content_type: &str,
    body: &[u8],
    object: &Value,
) -> Vec<String> {
    let mut out = Vec::new();
    if matches!(content_type, "" | "application/json" | "*/*") || content_type.ends_with("json") {
        out.extend(
            duplicates(body)
                .into_iter()
                .map(|p| format!("duplicate field {p:?}")),
        );
    }
    let mut unknown = Vec::new();
    if rt.custom {
        let Some(schema) = rt.version(version).and_then(|v| v.schema.as_ref()) else {
            return out;
        };
        let meta = schemas::object_meta();
        let none = schemas::Defs::empty();
        let Some(obj) = object.as_object() else {
            return out;
        };
        for (k, v) in obj {
            match k.as_str() {
                "apiVersion" | "kind" => {}
                _ if k.starts_with('$') || v.is_null() => {}
                "metadata" => walk(v, &meta.root, &meta, "metadata", &mut unknown),
                _ => match property(schema, k, &none) {
                    Some(s) => walk(v, s, &none, k, &mut unknown),
                    None if closed(schema) => unknown.push(k.clone()),
                    None => {}
                },
            }
        }
    } else if let Some(defs) = schemas::builtin(&rt.group, version, &rt.kind) {
        walk(object, &defs.root, &defs, "", &mut unknown);
    }
    out.extend(unknown.into_iter().map(|p| format!("unknown field {p:?}")));
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Whether an object schema refuses properties it does not list.
fn closed(schema: &Value) -> bool {
    schema.get("properties").is_some()
        && schema.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
        && !schema
            .get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false))
}

/// The schema of property `key`, looking through `$ref` and `allOf`/`anyOf`/`oneOf`.
fn property<'a>(schema: &'a Value, key: &str, defs: &'a schemas::Defs) -> Option<&'a Value> {
    let schema = defs.resolve(schema);
    if let Some(p) = schema.get("properties").and_then(|p| p.get(key)) {
        return Some(p);
    }
    ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(|s| property(s, key, defs))
}

fn walk(value: &Value, schema: &Value, defs: &schemas::Defs, path: &str, out: &mut Vec<String>) {
    let schema = defs.resolve(schema);
    match value {
        Value::Object(map) => {
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map {
                // Strategic-merge directives (`$patch`, `$setElementOrder/…`)
                // and merge-patch deletions name no field to keep.
                if k.starts_with('$') || v.is_null() {
                    continue;
                }
                let embedded =
                    schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true));
                if embedded && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                match (property(schema, k, defs), additional) {
                    (Some(s), _) | (None, Some(s)) => walk(v, s, defs, &join(path, k), out),
                    (None, None) if closed(schema) => out.push(join(path, k)),
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    walk(v, s, defs, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// The paths named twice in a JSON object body (none when it does not parse).
fn duplicates(body: &[u8]) -> Vec<String> {
    let mut found = BTreeSet::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    if (Walker {
        path: String::new(),
        found: &mut found,
    })
    .deserialize(&mut de)
    .is_err()
    {
        return Vec::new();
    }
    found.into_iter().collect()
}

/// Walks a JSON document recording the paths of keys seen twice.
struct Walker<'a> {
    path: String,
    found: &'a mut BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for Walker<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walker<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq
            .next_element_seed(Walker {
                path: format!("{}[{i}]", self.path),
                found: self.found,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&self.path, &key);
            if !seen.insert(key) {
                self.found.insert(path.clone());
            }
            map.next_value_seed(Walker {
                path,
                found: self.found,
            })?;
        }
        Ok(())
    }
}

/// The built-in kinds' schemas, from k8s-openapi (Kubernetes' own).
pub mod schemas {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock};

    use serde_json::{Map, Value};

    /// A root schema and the definitions its `$ref`s point to.
    #[derive(Debug, Clone)]
    pub struct Defs {
        /// The kind's schema.
        pub root: Value,
        /// Every definition, by name.
        pub definitions: Arc<Map<String, Value>>,
    }

    impl Defs {
        /// No definitions (CRD schemas are self-contained).
        pub fn empty() -> Defs {
            Defs {
                root: Value::Null,
                definitions: Arc::default(),
            }
        }

        /// Follows `$ref`s and single-element `allOf`s (how a generator
        /// adds a description to a reference), at most a few hops.
        pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
            for _ in 0..8 {
                if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                    let name = r.rsplit('/').next().unwrap_or(r);
                    match self.definitions.get(name) {
                        Some(s) => schema = s,
                        None => break,
                    }
                    continue;
                }
                match schema.get("allOf").and_then(Value::as_array) {
                    Some(all) if all.len() == 1 && schema.get("properties").is_none() => {
                        schema = &all[0];
                    }
                    _ => break,
                }
            }
            schema
        }
    }

    macro_rules! kinds {
        ($($group:literal $version:literal $kind:literal => $ty:ty;)*) => {
            fn generate() -> (HashMap<(&'static str, &'static str, &'static str), Value>, Map<String, Value>) {
                let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
                let mut roots = HashMap::new();
                $(
                    roots.insert(($group, $version, $kind), generator.subschema_for::<$ty>().to_value());
                )*
                generator.subschema_for::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>();
                let definitions = generator.take_definitions(true);
                (roots, definitions.into_iter().collect())
            }
        };
    }

    kinds! {
        "" "v1" "Namespace" => k8s_openapi::api::core::v1::Namespace;
        "" "v1" "ConfigMap" => k8s_openapi::api::core::v1::ConfigMap;
        "" "v1" "Secret" => k8s_openapi::api::core::v1::Secret;
        "" "v1" "ServiceAccount" => k8s_openapi::api::core::v1::ServiceAccount;
        "" "v1" "Service" => k8s_openapi::api::core::v1::Service;
        "" "v1" "Pod" => k8s_openapi::api::core::v1::Pod;
        "" "v1" "Event" => k8s_openapi::api::core::v1::Event;
        "" "v1" "Node" => k8s_openapi::api::core::v1::Node;
        "" "v1" "PersistentVolumeClaim" => k8s_openapi::api::core::v1::PersistentVolumeClaim;
        "" "v1" "PersistentVolume" => k8s_openapi::api::core::v1::PersistentVolume;
        "" "v1" "ResourceQuota" => k8s_openapi::api::core::v1::ResourceQuota;
        "" "v1" "LimitRange" => k8s_openapi::api::core::v1::LimitRange;
        "" "v1" "Endpoints" => k8s_openapi::api::core::v1::Endpoints;
        "apps" "v1" "Deployment" => k8s_openapi::api::apps::v1::Deployment;
        "apps" "v1" "ReplicaSet" => k8s_openapi::api::apps::v1::ReplicaSet;
        "apps" "v1" "StatefulSet" => k8s_openapi::api::apps::v1::StatefulSet;
        "apps" "v1" "DaemonSet" => k8s_openapi::api::apps::v1::DaemonSet;
        "apps" "v1" "ControllerRevision" => k8s_openapi::api::apps::v1::ControllerRevision;
        "batch" "v1" "Job" => k8s_openapi::api::batch::v1::Job;
        "batch" "v1" "CronJob" => k8s_openapi::api::batch::v1::CronJob;
        "networking.k8s.io" "v1" "Ingress" => k8s_openapi::api::networking::v1::Ingress;
        "networking.k8s.io" "v1" "NetworkPolicy" => k8s_openapi::api::networking::v1::NetworkPolicy;
        "networking.k8s.io" "v1" "IngressClass" => k8s_openapi::api::networking::v1::IngressClass;
        "autoscaling" "v2" "HorizontalPodAutoscaler" => k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
        "policy" "v1" "PodDisruptionBudget" => k8s_openapi::api::policy::v1::PodDisruptionBudget;
        "rbac.authorization.k8s.io" "v1" "Role" => k8s_openapi::api::rbac::v1::Role;
        "rbac.authorization.k8s.io" "v1" "RoleBinding" => k8s_openapi::api::rbac::v1::RoleBinding;
        "rbac.authorization.k8s.io" "v1" "ClusterRole" => k8s_openapi::api::rbac::v1::ClusterRole;
        "rbac.authorization.k8s.io" "v1" "ClusterRoleBinding" => k8s_openapi::api::rbac::v1::ClusterRoleBinding;
        "coordination.k8s.io" "v1" "Lease" => k8s_openapi::api::coordination::v1::Lease;
        "events.k8s.io" "v1" "Event" => k8s_openapi::api::events::v1::Event;
        "storage.k8s.io" "v1" "StorageClass" => k8s_openapi::api::storage::v1::StorageClass;
        "scheduling.k8s.io" "v1" "PriorityClass" => k8s_openapi::api::scheduling::v1::PriorityClass;
        "discovery.k8s.io" "v1" "EndpointSlice" => k8s_openapi::api::discovery::v1::EndpointSlice;
        "apiextensions.k8s.io" "v1" "CustomResourceDefinition" => k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    }

    struct All {
        roots: HashMap<(&'static str, &'static str, &'static str), Value>,
        definitions: Arc<Map<String, Value>>,
    }

    static ALL: LazyLock<All> = LazyLock::new(|| {
        let (roots, definitions) = generate();
        All {
            roots,
            definitions: Arc::new(definitions),
        }
    });

    /// The schema of a built-in kind (None: not one the simulator knows).
    pub fn builtin(group: &str, version: &str, kind: &str) -> Option<Defs> {
        let root = ALL.roots.get(&(group, version, kind))?;
        Some(Defs {
            root: root.clone(),
            definitions: ALL.definitions.clone(),
        })
    }

    /// ObjectMeta's schema.
    pub fn object_meta() -> Defs {
        Defs {
            root: serde_json::json!({"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}),
            definitions: ALL.definitions.clone(),
        }
    }

    /// Every definition, for the OpenAPI documents.
    pub fn definitions() -> Arc<Map<String, Value>> {
        ALL.definitions.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::storage::kinds::Registry;
    use serde_json::json;

    fn deployments() -> ResourceType {
        (*Registry::with_builtins()
            .resolve(&crate::sim::Gvr::new("apps", "v1", "deployments"))
            .unwrap())
        .clone()
    }

    #[test]
    fn unknown_fields_of_a_builtin_are_named_by_path() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "colour": "red"},
            "spec": {"foo": 1, "replicas": 1, "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}}}});
        let body = serde_json::to_vec(&obj).unwrap();
        let found = problems(&deployments(), "v1", "application/json", &body, &obj);
        assert_eq!(
            found,
            vec![
                r#"unknown field "metadata.colour""#,
                r#"unknown field "spec.foo""#,
                r#"unknown field "spec.template.spec.containers[0].imagee""#,
            ]
        );
    }

    #[test]
    fn maps_and_known_fields_pass() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"any": "thing"}, "annotations": {"a": "b"}},
            "data": {"whatever": "x"}});
        let rt = Registry::with_builtins()
            .resolve(&crate::sim::Gvr::new("", "v1", "configmaps"))
            .unwrap();
        let body = serde_json::to_vec(&obj).unwrap();
        assert!(problems(&rt, "v1", "application/json", &body, &obj).is_empty());
    }

    #[test]
    fn duplicates_are_found_in_json() {
        let body =
            br#"{"metadata": {"name": "a", "name": "b"}, "spec": {"x": [{"k": 1, "k": 2}]}}"#;
        assert_eq!(
            duplicates(body),
            vec!["metadata.name".to_owned(), "spec.x[0].k".to_owned()]
        );
    }

    #[test]
    fn judged_by_the_clients_choice() {
        let found = vec![r#"unknown field "spec.foo""#.to_owned()];
        let e = FieldValidation::Strict
            .judge(found.clone(), "Deployment", "v1")
            .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.to_string().contains(
                r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo""#
            ),
            "{e}"
        );
        let warned = FieldValidation::Warn
            .judge(found.clone(), "D", "v1")
            .unwrap();
        assert_eq!(warned, found);
        let ignored = FieldValidation::Ignore.judge(found, "D", "v1").unwrap();
        assert!(ignored.is_empty());
    }
}
