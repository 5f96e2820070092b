//! Changes made by hand, as a person with kubectl would make them (a
//! drill's `setup` steps): the drift Git does not know about, which the
//! drill later checks recovery for.
//!
//! - [`apply()`]: server-side apply of a file or folder of manifests with
//!   kubectl's field manager;
//! - [`delete()`]: one object deleted (a missing one is fine);
//! - [`manifests`]: reading the manifests of a file or folder.

pub mod manifests;

use std::path::{Path, PathBuf};

use kube::api::{Api, DeleteParams, DynamicObject};

use crate::clock::Clock;
use crate::gitops::apply::{self, Applier, ApplyOptions, Manifest};
use crate::scenario::model::ObjectRef;

/// Why a change by hand failed. The messages say `setup`: that is where
/// changes by hand come from.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifests could not be read.
    #[error("setup")]
    Read(#[source] manifests::Error),
    /// The manifests did not apply.
    #[error("setup: applying {}", .path.display())]
    Apply {
        /// The file or folder.
        path: PathBuf,
        /// Which objects failed and why.
        #[source]
        source: apply::Error,
    },
    /// A Kubernetes API call failed.
    #[error("{what}")]
    Kube {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

/// Applies the manifests of `path` (a file, or a folder's YAML files) on
/// the cluster `client` talks to, as a person with kubectl would
/// (server-side, field manager `kubectl`); returns how many objects were
/// applied.
///
/// # Errors
/// [`Error::Read`] when the manifests cannot be read, [`Error::Apply`]
/// when they do not apply.
pub async fn apply(client: kube::Client, clock: Clock, path: &Path) -> Result<usize, Error> {
    let docs = manifests::read_manifests(path).map_err(Error::Read)?;
    let applier = Applier::new(client, clock, ApplyOptions::manager("kubectl"));
    let n = docs.len();
    let manifests: Vec<Manifest> = docs
        .into_iter()
        .map(|v| Manifest::new(v).with_origin(path.display().to_string()))
        .collect();
    applier
        .apply(manifests)
        .await
        .check()
        .map_err(|source| Error::Apply {
            path: path.to_owned(),
            source,
        })?;
    Ok(n)
}

/// Deletes one object (in the background, as `kubectl delete` does).
///
/// # Errors
/// [`Error::Kube`] when the kind is unknown or the API call fails (a
/// missing object is fine).
pub async fn delete(client: kube::Client, o: &ObjectRef) -> Result<(), Error> {
    let api_version = o.api_version.clone().unwrap_or_else(|| "v1".into());
    let (group, version) = api_version
        .rsplit_once('/')
        .unwrap_or(("", api_version.as_str()));
    let gvk = kube::api::GroupVersionKind::gvk(group, version, &o.kind);
    let (ar, caps) = kube::discovery::pinned_kind(&client, &gvk)
        .await
        .map_err(|source| Error::Kube {
            what: format!("finding the resource of {api_version} {}", o.kind),
            source,
        })?;
    let api: Api<DynamicObject> = match (&o.namespace, caps.scope) {
        (Some(ns), kube::discovery::Scope::Namespaced) => Api::namespaced_with(client, ns, &ar),
        _ => Api::all_with(client, &ar),
    };
    match api.delete(&o.name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(source) => Err(Error::Kube {
            what: format!("deleting {o}"),
            source,
        }),
    }
}
