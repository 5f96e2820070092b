//! The Helm side of a HelmRelease: the chart in the artifact, Helm's
//! release storage, `helm upgrade --install` and `helm uninstall` by the
//! real helm, and the health of the objects a release applied.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::HelmController;
use super::spec::Spec;
use crate::clock::Busy;
use crate::flux::health_exprs::HealthExprs;
use crate::gitops::apply::ObjectId;
use crate::gitops::helm::{Crds, Helm, Upgrade};
use crate::sim::flux::reconcile::Cleanup;
use crate::sim::flux::status::suspended;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::store::{Gvr, Store};

/// A chart folder and what its `Chart.yaml` says.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The folder.
    pub dir: PathBuf,
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `appVersion`.
    pub app_version: String,
    /// The digest of the OCI artifact it came from (a `chartRef` to an
    /// OCIRepository), recorded as the history's `ociDigest`.
    pub oci_digest: Option<String>,
}

impl Chart {
    /// The chart at `path` in the artifact tree `tree`.
    ///
    /// # Errors
    /// What is missing or does not parse.
    pub fn load(tree: &Path, path: &str) -> Result<Chart, String> {
        let rel = path.trim_start_matches("./").trim_start_matches('/');
        let dir = tree.join(rel);
        let meta = dir.join("Chart.yaml");
        let text = std::fs::read_to_string(&meta)
            .map_err(|e| format!("no chart at path '{path}' in the artifact: {e}"))?;
        let doc: Value = serde_yaml::from_str(&text)
            .map_err(|e| format!("Chart.yaml of '{path}' does not parse: {e}"))?;
        let field = |f: &str| doc.get(f).and_then(Value::as_str).map(str::to_owned);
        Ok(Chart {
            name: field("name").ok_or_else(|| format!("Chart.yaml of '{path}': name missing"))?,
            version: field("version")
                .ok_or_else(|| format!("Chart.yaml of '{path}': version missing"))?,
            app_version: field("appVersion").unwrap_or_default(),
            oci_digest: None,
            dir,
        })
    }

    /// `<name>@<version>`, as helm-controller's messages name a chart.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// The latest revision in Helm's release storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its number.
    pub version: u32,
    /// `deployed`, `failed`, `pending-install`…
    pub status: String,
}

/// The latest revision of `release` in `namespace` (Helm's `secret`
/// driver: Secrets labelled `owner=helm,name=<release>`).
pub fn latest(store: &Store, namespace: &str, release: &str) -> Option<Stored> {
    let secrets = store
        .list(&Gvr::core("secrets"), Some(namespace), &Selector::default())
        .ok()?;
    secrets
        .items
        .iter()
        .filter_map(|s| {
            let label = |l: &str| s.pointer(&format!("/metadata/labels/{l}"))?.as_str();
            (label("owner")? == "helm" && label("name")? == release).then_some(())?;
            Some(Stored {
                version: label("version")?.parse().ok()?,
                status: label("status").unwrap_or_default().to_owned(),
            })
        })
        .max_by_key(|s| s.version)
}

/// helm against the simulated cluster.
///
/// # Errors
/// helm is not installed (the message says how to install it).
pub fn helm(ctl: &HelmController) -> Result<Helm, String> {
    Helm::new(&ctl.lookup, &ctl.kubeconfig).map_err(|e| text(&e))
}

/// helm's own message for a failed command, the whole chain otherwise.
pub fn text(e: &crate::gitops::helm::Error) -> String {
    match e {
        crate::gitops::helm::Error::Failed { message, .. } => message.clone(),
        e => crate::error_chain::one_line(e),
    }
}

/// `helm upgrade --install` of `chart` with `values`, without `--wait`,
/// with the chart's CRDs or without them (`--skip-crds`), hooks bounded
/// by `timeout`. Returns the objects Helm applied (from `helm get
/// manifest`).
///
/// # Errors
/// helm's error.
pub async fn upgrade(
    helm: &Helm,
    spec: &Spec,
    chart: &Chart,
    values: &Value,
    crds: Crds,
    timeout: Duration,
) -> Result<String, String> {
    let u = Upgrade {
        release: &spec.release_name,
        namespace: &spec.namespace,
        chart: &chart.dir,
        values,
        timeout,
        crds,
        max_history: spec.max_history,
        create_namespace: spec.create_namespace,
        disable_hooks: false,
        description: None,
    };
    helm.upgrade_install(&u).await.map_err(|e| text(&e))?;
    helm.get_manifest(&spec.release_name, &spec.namespace)
        .await
        .map_err(|e| text(&e))
}

/// The objects of a release's manifest, namespaced ones without a
/// namespace put in `namespace`.
pub fn targets(store: &Store, namespace: &str, manifest: &str) -> Vec<ObjectId> {
    serde_yaml::Deserializer::from_str(manifest)
        .filter_map(|d| serde::Deserialize::deserialize(d).ok())
        .filter_map(|o: Value| {
            let s = |p: &str| o.pointer(p).and_then(Value::as_str).map(str::to_owned);
            let api_version = s("/apiVersion")?;
            let kind = s("/kind")?;
            let group = crate::gitops::apply::object::split_api_version(&api_version)
                .0
                .to_owned();
            let namespaced = store
                .registry()
                .by_kind(&group, &kind)
                .is_none_or(|rt| rt.namespaced);
            Some(ObjectId {
                namespace: namespaced
                    .then(|| s("/metadata/namespace").unwrap_or_else(|| namespace.to_owned())),
                name: s("/metadata/name")?,
                group,
                kind,
            })
        })
        .collect()
}

/// Waits (simulated clock, at most `timeout`) for `targets` to be
/// healthy, with the kustomize-controller's health checks.
pub async fn wait_healthy(
    store: &Store,
    targets: &[ObjectId],
    timeout: Duration,
    busy: Busy,
) -> (Result<(), String>, Busy) {
    let exprs = HealthExprs::default();
    let (r, busy) =
        crate::sim::flux::kustomize::health::wait(store, targets, &exprs, timeout, busy).await;
    let r = r
        .map(drop)
        .map_err(|e| e.flux_health_message().unwrap_or_else(|| e.to_string()));
    (r, busy)
}

/// Whether Helm's storage still holds revision `version` of `release`
/// (a rollback target).
pub fn stored(store: &Store, namespace: &str, release: &str, version: u64) -> bool {
    let name = format!("sh.helm.release.v1.{release}.v{version}");
    store
        .get(&crate::sim::storage::store::ObjectRef::namespaced(
            Gvr::core("secrets"),
            namespace,
            &name,
        ))
        .is_ok()
}

/// Deletion: `helm uninstall` of the release the object's status records,
/// unless suspended; a release already gone is done.
pub async fn uninstall(ctl: &HelmController, obj: &Value) -> Cleanup {
    let recorded = obj
        .pointer("/status/history/0")
        .and_then(|h| Some((h.get("name")?.as_str()?, h.get("namespace")?.as_str()?)));
    let Some((release, namespace)) = recorded.filter(|_| !suspended(obj)) else {
        return Cleanup::Done;
    };
    if latest(&ctl.store, namespace, release).is_none() {
        return Cleanup::Done;
    }
    let Ok(helm) = helm(ctl) else {
        return Cleanup::Done;
    };
    match helm.uninstall(release, namespace, false).await {
        Ok(()) => Cleanup::Done,
        Err(e) if e.to_string().contains("not found") => Cleanup::Done,
        Err(_) => Cleanup::Retry,
    }
}
