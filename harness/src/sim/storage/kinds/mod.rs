//! The resource kinds the API serves: its type registry ([`Registry`] of
//! [`ResourceType`]s; not to be confused with the image registry of the
//! simulated workloads).
//!
//! Built-in kinds ([`builtin`]) are registered at start; CustomResourceDefinitions
//! add and remove types at runtime. Discovery, OpenAPI and routing all read
//! the registry, so a CRD shows up everywhere in the same instant.

pub mod builtin;
pub mod fields;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::resource::{GroupResource, Gvr};

/// One `additionalPrinterColumns` entry (CRDs) or a built-in table column.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    /// Column header.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: String,
    /// OpenAPI format (`name` for the name column).
    pub format: String,
    /// Description.
    pub description: String,
    /// 0 = default output, >0 = `-o wide` only.
    pub priority: i64,
    /// JSONPath evaluated against the object.
    pub json_path: String,
}

/// A served version of a type.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    /// Version name, e.g. `v1`.
    pub name: String,
    /// CRD printer columns for this version (empty for built-ins).
    pub printer_columns: Vec<PrinterColumn>,
    /// CRD `openAPIV3Schema` of this version, if any.
    pub schema: Option<Value>,
}

/// A resource type the server serves.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group (`""` = core).
    pub group: String,
    /// Served versions, **preferred first**.
    pub versions: Vec<VersionInfo>,
    /// Plural, e.g. `deployments`.
    pub plural: String,
    /// Singular, e.g. `deployment`.
    pub singular: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// List kind, e.g. `DeploymentList`.
    pub list_kind: String,
    /// Namespaced (true) or cluster-scoped (false).
    pub namespaced: bool,
    /// Short names, e.g. `deploy`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Has a `status` subresource (writes to the main resource keep
    /// `.status`; `/status` writes change only `.status`).
    pub status: bool,
    /// Has a `scale` subresource: (spec replicas path, status replicas
    /// path, label selector path), JSON pointers.
    pub scale: Option<ScalePaths>,
    /// Defined by a CustomResourceDefinition (strategic merge patch is
    /// refused; PUT requires a resourceVersion).
    pub custom: bool,
    /// Supports `deletecollection` (namespaces do not).
    pub delete_collection: bool,
}

/// JSON pointers of a scale subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    /// e.g. `/spec/replicas`.
    pub spec_replicas: String,
    /// e.g. `/status/replicas`.
    pub status_replicas: String,
    /// e.g. `/status/selector`, if any.
    pub label_selector: Option<String>,
}

impl ResourceType {
    /// The version-independent identity.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(&self.group, &self.plural)
    }

    /// The preferred (first) version.
    pub fn preferred_version(&self) -> &str {
        self.versions
            .first()
            .map(|v| v.name.as_str())
            .unwrap_or("v1")
    }

    /// The preferred GVR.
    pub fn preferred_gvr(&self) -> Gvr {
        Gvr::new(&self.group, self.preferred_version(), &self.plural)
    }

    /// True when `version` is served.
    pub fn serves(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v.name == version)
    }

    /// The served version `version`, if any.
    pub fn version(&self, version: &str) -> Option<&VersionInfo> {
        self.versions.iter().find(|v| v.name == version)
    }

    /// The verbs of the main resource, as discovery lists them.
    pub fn verbs(&self) -> Vec<&'static str> {
        let mut v = vec!["create", "delete"];
        if self.delete_collection {
            v.push("deletecollection");
        }
        v.extend(["get", "list", "patch", "update", "watch"]);
        v
    }
}

/// The registry: cheap to clone, clones share state.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    inner: Arc<RegistryInner>,
}

#[derive(Debug, Default)]
struct RegistryInner {
    types: RwLock<BTreeMap<GroupResource, Arc<ResourceType>>>,
    generation: AtomicU64,
}

impl Registry {
    /// A registry holding the built-in types.
    pub fn with_builtins() -> Self {
        let r = Registry::default();
        for t in builtin::types() {
            r.register(t);
        }
        r
    }

    /// Adds or replaces a type.
    pub fn register(&self, t: ResourceType) {
        let gr = t.group_resource();
        self.write().insert(gr, Arc::new(t));
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Removes a type (CRD deleted).
    pub fn unregister(&self, gr: &GroupResource) -> Option<Arc<ResourceType>> {
        let out = self.write().remove(gr);
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        out
    }

    /// Bumped on every change; discovery and OpenAPI documents are cached by it.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    /// The type of `gr`, whatever version.
    pub fn get(&self, gr: &GroupResource) -> Option<Arc<ResourceType>> {
        self.read().get(gr).cloned()
    }

    /// The type of `gvr` if that version is served.
    pub fn resolve(&self, gvr: &Gvr) -> Option<Arc<ResourceType>> {
        self.get(&gvr.group_resource())
            .filter(|t| t.serves(&gvr.version))
    }

    /// Lookup by plural within a group and version.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.resolve(&Gvr::new(group, version, plural))
    }

    /// The type of `(group, kind)`.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<Arc<ResourceType>> {
        self.read()
            .values()
            .find(|t| t.group == group && t.kind == kind)
            .cloned()
    }

    /// Every type, sorted by (group, plural).
    pub fn all(&self) -> Vec<Arc<ResourceType>> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<GroupResource, Arc<ResourceType>>> {
        self.inner.types.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<GroupResource, Arc<ResourceType>>> {
        self.inner.types.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Kubernetes version priority: GA > beta > alpha, higher numbers first,
/// then non-conforming names alphabetically. Sorts `a` before `b` when it
/// has higher priority.
pub fn version_priority(a: &str, b: &str) -> std::cmp::Ordering {
    fn parse(v: &str) -> Option<(u32, u8, u32)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let major: u32 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((major, 2, 0));
        }
        let (stage, n) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        Some((major, stage, n.parse().ok()?))
    }
    match (parse(a), parse(b)) {
        (Some((ma, sa, na)), Some((mb, sb, nb))) => sb.cmp(&sa).then(mb.cmp(&ma)).then(nb.cmp(&na)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_priority_orders_ga_beta_alpha() {
        let mut v = vec![
            "v1alpha1", "v2beta1", "foo", "v1", "v2", "v1beta2", "v1beta1",
        ];
        v.sort_by(|a, b| version_priority(a, b));
        assert_eq!(
            v,
            [
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"
            ]
        );
    }

    #[test]
    fn builtins_resolve_by_gvr_and_kind() {
        let r = Registry::with_builtins();
        let d = r.lookup("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert!(r.lookup("apps", "v2", "deployments").is_none());
        assert_eq!(r.by_kind("", "Namespace").unwrap().plural, "namespaces");
    }
}
