//! Identity of resource types and objects: [`Gvr`], [`GroupResource`], [`ObjectRef`].

use std::fmt;

/// A resource type independent of its version: `(group, plural)`.
///
/// Objects are stored once per `GroupResource`; every served version of a
/// type reads the same objects (only `apiVersion` is rewritten on read).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupResource {
    /// API group, `""` for the core group.
    pub group: String,
    /// Plural resource name, e.g. `deployments`.
    pub resource: String,
}

impl GroupResource {
    /// A group/resource pair.
    pub fn new(group: &str, resource: &str) -> Self {
        GroupResource {
            group: group.to_owned(),
            resource: resource.to_owned(),
        }
    }

    /// `plural` for the core group, `plural.group` otherwise (the form
    /// Kubernetes error messages use).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.qualified())
    }
}

/// A resource type at one version: `(group, version, plural)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvr {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Plural resource name, e.g. `configmaps`.
    pub resource: String,
}

impl Gvr {
    /// A group/version/resource triple.
    pub fn new(group: &str, version: &str, resource: &str) -> Self {
        Gvr {
            group: group.to_owned(),
            version: version.to_owned(),
            resource: resource.to_owned(),
        }
    }

    /// A core-group (`v1`) resource, e.g. `Gvr::core("pods")`.
    pub fn core(resource: &str) -> Self {
        Gvr::new("", "v1", resource)
    }

    /// The `apiVersion` string of this group/version (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }

    /// The version-independent identity.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(&self.group, &self.resource)
    }
}

impl fmt::Display for Gvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.api_version(), self.resource)
    }
}

/// `v1` for the core group, `group/version` otherwise.
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// One object: its type (at a version), namespace (None for cluster-scoped
/// types) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The resource type and the version the caller speaks.
    pub gvr: Gvr,
    /// Namespace; `None` for cluster-scoped types.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// A namespaced object.
    pub fn namespaced(gvr: Gvr, namespace: &str, name: &str) -> Self {
        ObjectRef {
            gvr,
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
        }
    }

    /// A cluster-scoped object.
    pub fn cluster(gvr: Gvr, name: &str) -> Self {
        ObjectRef {
            gvr,
            namespace: None,
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.gvr, self.name),
            None => write!(f, "{} {}", self.gvr, self.name),
        }
    }
}
