//! Kind → API resource mapping through cached discovery.
//!
//! The engine needs, for every `apiVersion`/`kind`, the resource's plural
//! name and scope. It asks the API server once per group version
//! (`/apis/<group>/<version>`, what `kube::discovery::pinned_kind` reads)
//! and caches the whole list. A kind missing from a cached list is looked up
//! again — once per [`ResourceCache::resolve_all`] call — because a CRD
//! applied a moment ago adds kinds to a group version that was cached
//! before it existed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use kube::Client;
use kube::core::discovery::ApiResource;

use super::error::Failure;
use super::object::split_api_version;

/// Where objects of one kind live in the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Group, version, kind and plural.
    pub resource: ApiResource,
    /// True for namespaced kinds.
    pub namespaced: bool,
}

type GvKinds = Arc<HashMap<String, Mapping>>;

/// A discovery cache shared by every apply of one [`super::Applier`].
#[derive(Debug, Default)]
pub struct ResourceCache {
    by_gv: Mutex<HashMap<String, GvKinds>>,
}

impl ResourceCache {
    fn cached(&self, api_version: &str) -> Option<GvKinds> {
        self.by_gv
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(api_version)
            .cloned()
    }

    /// Forgets what is known about `api_version` (after a CRD changed it).
    pub fn invalidate(&self, api_version: &str) {
        self.by_gv
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(api_version);
    }

    /// Fetches the resource list of a group version. A 404 (the group
    /// version is not served) gives an empty list, not an error.
    async fn fetch(&self, client: &Client, api_version: &str) -> Result<GvKinds, Failure> {
        let (group, version) = split_api_version(api_version);
        let listed = if group.is_empty() {
            client.list_core_api_resources(version).await
        } else {
            client.list_api_group_resources(api_version).await
        };
        let list = match listed {
            Ok(l) => l,
            Err(kube::Error::Api(s)) if s.code == 404 => {
                let empty: GvKinds = Arc::new(HashMap::new());
                return Ok(empty);
            }
            Err(e) => return Err(Failure::from_kube(&e)),
        };
        let kinds: HashMap<String, Mapping> = list
            .resources
            .iter()
            .filter(|r| !r.name.contains('/'))
            .map(|r| {
                (
                    r.kind.clone(),
                    Mapping {
                        resource: ApiResource {
                            group: group.to_owned(),
                            version: version.to_owned(),
                            api_version: api_version.to_owned(),
                            kind: r.kind.clone(),
                            plural: r.name.clone(),
                        },
                        namespaced: r.namespaced,
                    },
                )
            })
            .collect();
        let kinds = Arc::new(kinds);
        self.by_gv
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(api_version.to_owned(), kinds.clone());
        Ok(kinds)
    }

    /// Resolves every `(apiVersion, kind)` of a batch: from the cache, and
    /// with one refresh per group version that is missing or lacks a kind.
    /// Kinds the cluster does not serve map to [`Failure::UnknownKind`].
    pub async fn resolve_all(
        &self,
        client: &Client,
        wanted: &BTreeSet<(String, String)>,
    ) -> BTreeMap<(String, String), Result<Mapping, Failure>> {
        let mut out = BTreeMap::new();
        let mut refresh: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (api_version, kind) in wanted {
            match self.cached(api_version).and_then(|m| m.get(kind).cloned()) {
                Some(m) => {
                    out.insert((api_version.clone(), kind.clone()), Ok(m));
                }
                None => refresh.entry(api_version).or_default().push(kind),
            }
        }
        for (api_version, kinds) in refresh {
            let fetched = self.fetch(client, api_version).await;
            for kind in kinds {
                let result = match &fetched {
                    Ok(m) => m.get(kind).cloned().ok_or_else(|| Failure::UnknownKind {
                        api_version: api_version.to_owned(),
                        kind: kind.to_owned(),
                    }),
                    Err(f) => Err(f.clone()),
                };
                out.insert((api_version.to_owned(), kind.to_owned()), result);
            }
        }
        out
    }

    /// Resolves one kind (see [`ResourceCache::resolve_all`]).
    ///
    /// # Errors
    /// [`Failure::UnknownKind`] or the failure of the discovery request.
    pub async fn resolve(
        &self,
        client: &Client,
        api_version: &str,
        kind: &str,
    ) -> Result<Mapping, Failure> {
        let key = (api_version.to_owned(), kind.to_owned());
        let mut wanted = BTreeSet::new();
        wanted.insert(key.clone());
        self.resolve_all(client, &wanted)
            .await
            .remove(&key)
            .unwrap_or_else(|| {
                Err(Failure::UnknownKind {
                    api_version: api_version.to_owned(),
                    kind: kind.to_owned(),
                })
            })
    }
}

/// The preferred version of `group`'s `kind`, for references that name no
/// version (a Kustomization's `healthChecks` may omit `apiVersion`).
///
/// # Errors
/// [`Failure::UnknownKind`] when the group or kind is not served.
pub async fn preferred_version(
    client: &Client,
    group: &str,
    kind: &str,
) -> Result<String, Failure> {
    let unknown = || Failure::UnknownKind {
        api_version: group.to_owned(),
        kind: kind.to_owned(),
    };
    let g = match kube::discovery::group(client, group).await {
        Ok(g) => g,
        Err(kube::Error::Api(s)) if s.code == 404 => return Err(unknown()),
        Err(kube::Error::Discovery(_)) => return Err(unknown()),
        Err(e) => return Err(Failure::from_kube(&e)),
    };
    g.recommended_kind(kind)
        .map(|(ar, _)| ar.version)
        .ok_or_else(unknown)
}
