//! What the engine applies ([`Manifest`]) and how it names objects
//! ([`ObjectId`], [`Versioned`]): Flux's object identity, so that messages,
//! inventories and health checks agree with what `flux` prints.

use std::fmt;

use serde_json::Value;

use super::error::{Failure, ObjectError};

/// One object to apply: the manifest and, when known, where it came from
/// (`apps/podinfo/deployment.yaml, document 2`), which every error about
/// it repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The object as JSON: `apiVersion`, `kind`, `metadata.name` at least.
    pub object: Value,
    /// Where it was defined (a file and document), for messages.
    pub origin: Option<String>,
}

impl Manifest {
    /// A manifest of unknown origin.
    pub fn new(object: Value) -> Manifest {
        Manifest {
            object,
            origin: None,
        }
    }

    /// Records where the manifest was defined.
    #[must_use]
    pub fn with_origin(mut self, origin: impl Into<String>) -> Manifest {
        self.origin = Some(origin.into());
        self
    }

    /// Generated objects as manifests, each named as document N of `what`
    /// (e.g. the Flux install manifests the simulator generates).
    pub fn generated(objects: Vec<Value>, what: &str) -> Vec<Manifest> {
        objects
            .into_iter()
            .enumerate()
            .map(|(i, o)| Manifest::new(o).with_origin(format!("{what}, document {}", i + 1)))
            .collect()
    }

    fn str_at(&self, ptr: &str) -> Option<&str> {
        self.object
            .pointer(ptr)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Reads the identity of the object. The namespace is the manifest's
    /// (None when it has none; the engine decides later from the type's
    /// scope).
    ///
    /// # Errors
    /// An [`ObjectError`] naming what is missing when the manifest is not a
    /// mapping with `apiVersion`, `kind` and `metadata.name`.
    pub fn identify(&self) -> Result<Versioned, ObjectError> {
        let problem = if !self.object.is_object() {
            Some("the document is not a mapping")
        } else if self.str_at("/apiVersion").is_none() {
            Some("missing `apiVersion`")
        } else if self.str_at("/kind").is_none() {
            Some("missing `kind`")
        } else if self.str_at("/metadata/name").is_none() {
            Some("missing `metadata.name`")
        } else {
            None
        };
        let api_version = self.str_at("/apiVersion").unwrap_or_default();
        let (group, version) = split_api_version(api_version);
        let id = ObjectId {
            group: group.to_owned(),
            kind: self.str_at("/kind").unwrap_or("<unknown kind>").to_owned(),
            namespace: self.str_at("/metadata/namespace").map(str::to_owned),
            name: self
                .str_at("/metadata/name")
                .unwrap_or("<unnamed>")
                .to_owned(),
        };
        match problem {
            Some(p) => Err(ObjectError {
                id,
                origin: self.origin.clone(),
                failure: Failure::InvalidManifest(p.to_owned()),
            }),
            None => Ok(Versioned {
                id,
                version: version.to_owned(),
            }),
        }
    }
}

impl From<crate::gitops::render::Object> for Manifest {
    /// A rendered object, with its file and document as origin.
    fn from(o: crate::gitops::render::Object) -> Manifest {
        Manifest {
            origin: Some(o.source.to_string()),
            object: o.manifest,
        }
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The identity of an object as Flux's inventories keep it: group, kind,
/// namespace and name (no version: an object keeps its identity across API
/// versions).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (None for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectId {
    /// A namespaced object's identity.
    pub fn namespaced(group: &str, kind: &str, namespace: &str, name: &str) -> ObjectId {
        ObjectId {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
        }
    }

    /// A cluster-scoped object's identity.
    pub fn cluster(group: &str, kind: &str, name: &str) -> ObjectId {
        ObjectId {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace: None,
            name: name.to_owned(),
        }
    }

    /// Flux's inventory id: `<namespace>_<name>_<group>_<kind>` (empty
    /// namespace for cluster-scoped objects, empty group for core).
    pub fn inventory_id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace.as_deref().unwrap_or_default(),
            self.name,
            self.group,
            self.kind
        )
    }

    /// Parses an inventory id. Kubernetes names, namespaces, groups and
    /// kinds cannot contain `_`, so the four parts are unambiguous.
    ///
    /// # Errors
    /// A message when the id does not have four parts with a name and kind.
    pub fn parse_inventory_id(id: &str) -> Result<ObjectId, String> {
        let parts: Vec<&str> = id.split('_').collect();
        match parts.as_slice() {
            [ns, name, group, kind] if !name.is_empty() && !kind.is_empty() => Ok(ObjectId {
                group: (*group).to_owned(),
                kind: (*kind).to_owned(),
                namespace: (!ns.is_empty()).then(|| (*ns).to_owned()),
                name: (*name).to_owned(),
            }),
            _ => Err(format!(
                "inventory id `{id}` is not `<namespace>_<name>_<group>_<kind>`"
            )),
        }
    }

    /// True for `CustomResourceDefinition`s.
    pub fn is_crd(&self) -> bool {
        self.group == "apiextensions.k8s.io" && self.kind == "CustomResourceDefinition"
    }

    /// True for `Namespace`s.
    pub fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.kind == "Namespace"
    }
}

/// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects, as
/// Flux prints objects.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// An object identity with the API version to address it at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Versioned {
    /// The identity.
    pub id: ObjectId,
    /// The API version (`v1`, `v1beta2`…).
    pub version: String,
}

impl Versioned {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.id.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.id.group, self.version)
        }
    }
}

impl fmt::Display for Versioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.id.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inventory_ids_round_trip() {
        let d = ObjectId::namespaced("apps", "Deployment", "podinfo", "podinfo");
        assert_eq!(d.inventory_id(), "podinfo_podinfo_apps_Deployment");
        assert_eq!(ObjectId::parse_inventory_id(&d.inventory_id()), Ok(d));
        let ns = ObjectId::cluster("", "Namespace", "flux-system");
        assert_eq!(ns.inventory_id(), "_flux-system__Namespace");
        assert_eq!(
            ObjectId::parse_inventory_id("_flux-system__Namespace"),
            Ok(ns)
        );
        assert!(ObjectId::parse_inventory_id("a_b_c").is_err());
        assert!(ObjectId::parse_inventory_id("ns__apps_Deployment").is_err());
    }

    #[test]
    fn display_is_flux_style() {
        assert_eq!(
            ObjectId::namespaced("apps", "Deployment", "podinfo", "podinfo").to_string(),
            "Deployment/podinfo/podinfo"
        );
        assert_eq!(
            ObjectId::cluster("", "Namespace", "podinfo").to_string(),
            "Namespace/podinfo"
        );
    }

    #[test]
    fn identify_names_what_is_missing() {
        let ok = Manifest::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}}));
        let v = ok.identify().unwrap();
        assert_eq!(v.version, "v1");
        assert_eq!(v.api_version(), "apps/v1");
        assert_eq!(
            v.id,
            ObjectId::namespaced("apps", "Deployment", "shop", "web")
        );
        let no_kind = Manifest::new(json!({"apiVersion": "v1", "metadata": {"name": "x"}}))
            .with_origin("a.yaml, document 1");
        let err = no_kind.identify().unwrap_err();
        assert!(err.to_string().contains("missing `kind`"), "{err}");
        assert!(err.to_string().contains("a.yaml, document 1"), "{err}");
        assert!(Manifest::new(json!("text")).identify().is_err());
    }
}
