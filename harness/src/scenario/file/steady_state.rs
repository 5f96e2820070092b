//! `spec.steadyState`: what "healthy" means, as a list of checks, each
//! written as a single-key map (`- kustomizations: all`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::duration::HumanDuration;

/// What "healthy" means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SteadyStateSpec {
    /// Longest wait for the steady state, before the disaster and after recovery. Default 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// Checks that must all pass. Default: every Kustomization Ready (with
    /// Flux) and every workload ready in the namespaces the source defines.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "serde_yaml::with::singleton_map_recursive"
    )]
    #[schemars(with = "Vec<CheckSpec>")]
    pub checks: Vec<CheckSpec>,
}

/// One steady-state check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum CheckSpec {
    /// Flux Kustomizations Ready at the source's head revision: `all`, or a
    /// list of names (`name` in `flux-system`, or `namespace/name`).
    Kustomizations(Selection),
    /// Deployments, StatefulSets and DaemonSets ready, Jobs complete.
    Workloads(WorkloadsCheck),
    /// One object exists, optionally with a condition `True`.
    Object(ObjectCheck),
}

/// `all`, or a list of names.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// The word `all`.
    All,
    /// Names.
    Names(Vec<String>),
}

impl Serialize for Selection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Selection::All => serializer.serialize_str("all"),
            Selection::Names(names) => names.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Selection {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Selection;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`all` or a list of names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Selection, E> {
                if v == "all" {
                    Ok(Selection::All)
                } else {
                    Err(E::custom(format!(
                        "invalid value {v:?}: expected `all` or a list of names such as [apps, infrastructure]"
                    )))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Selection, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(Selection::Names(names))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for Selection {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Selection".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`all`, or a list of names.",
            "oneOf": [
                {"const": "all"},
                {"type": "array", "items": {"type": "string"}}
            ]
        })
    }
}

/// Which workloads must be ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadsCheck {
    /// Namespaces to check. Default: every namespace the source defines objects in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<String>>,
}

/// A reference to one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectCheck {
    /// API version, e.g. `apps/v1`.
    pub api_version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace (omit for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// A condition type that must be `True`, e.g. `Available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}
