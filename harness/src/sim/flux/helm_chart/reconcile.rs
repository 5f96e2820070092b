//! The steps of a HelmChart reconcile, in source-controller's order
//! (`internal/controller/helmchart_controller.go`, `internal/helm/chart`):
//!
//! 1. `Reconciling` for a new generation; a `Bucket` source is not
//!    emulated (stalls, saying so);
//! 2. the source: missing → `FetchFailed` `SourceUnavailable` "failed to
//!    get source: …"; without artifact → `NoSourceArtifact` "no artifact
//!    available for <Kind> source '<name>'" (both retried after 30 s, and
//!    at once when the source's artifact moves);
//! 3. the build, into `helmchart/<ns>/<name>/<chart>-<version>.tgz`:
//!    - HelmRepository: the version `spec.version` selects in the stored
//!      index ([`crate::gitops::helm::index`]; none → `Stalled`
//!      `InvalidChartReference` "invalid chart reference: failed to get
//!      chart version for remote reference: no '<chart>' chart with
//!      version matching '<v>' found"), pulled through the mirrors or over
//!      HTTP(S), its digest checked against the index (`ChartPullError`),
//!      unpacked: `ChartPullSucceeded` "pulled '<chart>' chart with version
//!      '<v>'"; revision: the chart version;
//!    - GitRepository: the folder `spec.chart` of the artifact
//!      (`ChartPackageError` when it holds no chart), packaged:
//!      `ChartPackageSucceeded` "packaged '<chart>' chart with version
//!      '<v>'"; revision: the Chart.yaml version, or with
//!      `reconcileStrategy: Revision` `<version>+<first 12 hex of the
//!      commit>` (written into the packaged Chart.yaml, as Flux does);
//!    - an artifact of the same revision is kept (with `ChartVersion`, a
//!      Git change that does not bump the chart's version builds nothing,
//!      as in Flux);
//! 4. `Ready=True`/`ArtifactInStorage=True`, `status.artifact`,
//!    `observedSourceArtifactRevision`, `observedChartName`, `status.url`;
//!    requeue at `spec.interval`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::{HelmChartController, KIND_DIR};
use crate::flux::duration;
use crate::gitops::helm::archive;
use crate::gitops::helm::index::{self, Index};
use crate::gitops::mirror;
use crate::sim::flux::artifacts::Artifacts;
use crate::sim::flux::reconcile::{Failure, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::status::reasons;
use crate::sim::storage::store::ObjectRef;

/// source-controller's HelmChart reasons.
pub mod helm_chart_reasons {
    /// A chart was pulled from a repository.
    pub const CHART_PULL_SUCCEEDED: &str = "ChartPullSucceeded";
    /// A chart was packaged from a source's folder.
    pub const CHART_PACKAGE_SUCCEEDED: &str = "ChartPackageSucceeded";
    /// The source object does not exist.
    pub const SOURCE_UNAVAILABLE: &str = "SourceUnavailable";
    /// The source has no artifact.
    pub const NO_SOURCE_ARTIFACT: &str = "NoSourceArtifact";
    /// No chart or version matches the reference.
    pub const INVALID_CHART_REFERENCE: &str = "InvalidChartReference";
    /// The chart could not be downloaded or unpacked.
    pub const CHART_PULL_ERROR: &str = "ChartPullError";
    /// The chart folder could not be packaged.
    pub const CHART_PACKAGE_ERROR: &str = "ChartPackageError";
}
use helm_chart_reasons as r;

/// How long a chart pull may take.
const PULL_TIMEOUT: Duration = Duration::from_secs(60);

fn text<'a>(o: &'a Value, p: &str) -> Option<&'a str> {
    o.pointer(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A chart built into storage.
struct Built {
    reason: &'static str,
    message: String,
}

/// The steps (see the module docs).
pub(super) async fn reconcile(ctl: &HelmChartController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let interval = text(&obj, "/spec/interval")
        .ok_or("spec.interval: Required value")
        .and_then(|d| duration::parse(d).map_err(|_| "spec.interval: Invalid value"))
        .map_err(|e| Failure::stalled("InvalidSpec", e))?;
    crate::sim::flux::source::new_generation(&mut pass.w);
    let chart = text(&obj, "/spec/chart")
        .ok_or_else(|| Failure::stalled("InvalidSpec", "spec.chart: Required value"))?
        .to_owned();
    let kind = text(&obj, "/spec/sourceRef/kind")
        .unwrap_or_default()
        .to_owned();
    let src_name = text(&obj, "/spec/sourceRef/name")
        .unwrap_or_default()
        .to_owned();
    let gvr = match kind.as_str() {
        "HelmRepository" => crate::sim::flux::helm_repository::gvr(),
        "GitRepository" => crate::sim::flux::source::gvr(),
        other => {
            let msg = format!(
                "source kind '{other}' of a HelmChart is not emulated by gameday's source-controller: drill it on kind with real Flux"
            );
            return Err(Failure::stalled("NotEmulated", msg));
        }
    };
    pass.write();
    let retry = Requeue::After(ctl.dependency_requeue);
    let r_src = ObjectRef::namespaced(gvr.clone(), pass.namespace(), &src_name);
    let Ok(source) = pass.store().get(&r_src) else {
        let msg = format!(
            "failed to get source: {}.{} \"{src_name}\" not found",
            gvr.resource, gvr.group
        );
        return Err(Failure::new(r::SOURCE_UNAVAILABLE, msg, retry));
    };
    let (Some(src_path), Some(src_rev)) = (
        text(&source, "/status/artifact/path"),
        text(&source, "/status/artifact/revision"),
    ) else {
        let msg = format!("no artifact available for {kind} source '{src_name}'");
        return Err(Failure::new(r::NO_SOURCE_ARTIFACT, msg, retry));
    };
    let (src_path, src_rev) = (src_path.to_owned(), src_rev.to_owned());
    let built = if kind == "HelmRepository" {
        let repo_url = text(&source, "/spec/url").unwrap_or_default().to_owned();
        pull(ctl, pass, &chart, &src_path, &repo_url).await?
    } else {
        package(ctl, pass, &chart, &src_path, &src_rev, interval).await?
    };
    pass.w.set("observedSourceArtifactRevision", json!(src_rev));
    pass.w.set("observedChartName", json!(chart));
    let (ns, name) = (pass.namespace().to_owned(), pass.name().to_owned());
    pass.w.set(
        "url",
        json!(Artifacts::url(&format!(
            "{KIND_DIR}/{ns}/{name}/latest.tar.gz"
        ))),
    );
    Ready::new(built.reason, built.message, Requeue::After(interval)).done()
}

/// The stored artifact's revision when its file and tree are still there.
fn stored_revision(ctl: &HelmChartController, pass: &Pass<'_>) -> Option<String> {
    let a = pass.w.get("artifact")?;
    let path = a.get("path")?.as_str()?;
    let present = ctl.artifacts.tarball(path).is_some_and(|f| f.is_file())
        && ctl.artifacts.tree(path).is_some_and(|t| t.is_dir());
    present.then(|| a.get("revision")?.as_str().map(str::to_owned))?
}

/// Records a new artifact of `revision` at `path` and drops older ones.
fn record(
    ctl: &HelmChartController,
    pass: &mut Pass<'_>,
    path: &str,
    revision: &str,
    digest: &str,
    size: u64,
) {
    let now = pass.store().now_rfc3339();
    pass.w.set(
        "artifact",
        json!({"path": path, "url": Artifacts::url(path), "revision": revision,
            "digest": digest, "lastUpdateTime": now, "size": size}),
    );
    let (ns, name) = (pass.namespace().to_owned(), pass.name().to_owned());
    ctl.artifacts
        .collect_garbage_of(KIND_DIR, &ns, &name, Some(path));
}

/// Where the artifact of `chart`@`version` goes: the archive and its tree.
fn paths(
    ctl: &HelmChartController,
    pass: &Pass<'_>,
    chart: &str,
    version: &str,
) -> Result<(String, PathBuf, PathBuf), Failure> {
    let path = format!(
        "{KIND_DIR}/{}/{}/{chart}-{version}.tgz",
        pass.namespace(),
        pass.name()
    );
    match (ctl.artifacts.tarball(&path), ctl.artifacts.tree(&path)) {
        (Some(f), Some(t)) => Ok((path, f, t)),
        _ => Err(Failure::new(
            reasons::STORAGE_OPERATION_FAILED,
            format!("artifact path '{path}' is outside the storage"),
            Requeue::Backoff,
        )),
    }
}

fn storage_failed(e: impl std::fmt::Display) -> Failure {
    Failure::new(
        reasons::STORAGE_OPERATION_FAILED,
        format!("failed to store artifact: {e}"),
        Requeue::Backoff,
    )
}

/// A chart of a HelmRepository: the version the index selects, pulled.
async fn pull(
    ctl: &HelmChartController,
    pass: &mut Pass<'_>,
    chart: &str,
    index_path: &str,
    repo_url: &str,
) -> Result<Built, Failure> {
    let version = text(&pass.obj, "/spec/version").unwrap_or("*").to_owned();
    let index_file = ctl
        .artifacts
        .tarball(index_path)
        .ok_or_else(|| storage_failed("the index path leaves the storage"))?;
    let bytes = std::fs::read(&index_file).map_err(storage_failed)?;
    let index = Index::parse(&bytes).map_err(|e| {
        let msg = format!("chart pull error: failed to load the repository index: {e}");
        Failure::new(r::CHART_PULL_ERROR, msg, Requeue::Backoff)
    })?;
    let entry = index.select(chart, &version).map_err(|e| {
        let msg = format!(
            "invalid chart reference: failed to get chart version for remote reference: {e}"
        );
        Failure::stalled(r::INVALID_CHART_REFERENCE, msg)
    })?;
    let message = format!("pulled '{chart}' chart with version '{}'", entry.version);
    let done = || Built {
        reason: r::CHART_PULL_SUCCEEDED,
        message: message.clone(),
    };
    if stored_revision(ctl, pass).as_deref() == Some(entry.version.as_str())
        && pass.w.get("observedChartName").and_then(Value::as_str) == Some(chart)
    {
        return Ok(done());
    }
    let pull_failed = |e: String| {
        let msg = format!("chart pull error: failed to download chart for remote reference: {e}");
        Failure::new(r::CHART_PULL_ERROR, msg, Requeue::Backoff)
    };
    let url = index::chart_url(repo_url, entry).map_err(pull_failed)?;
    let archive_bytes = mirror::fetch(&ctl.mirrors, &url, PULL_TIMEOUT)
        .await
        .map_err(|e| pull_failed(e.to_string()))?;
    let digest = index::hex(&ring::digest::digest(&ring::digest::SHA256, &archive_bytes));
    if !entry.digest.is_empty() && !entry.digest.eq_ignore_ascii_case(&digest) {
        return Err(pull_failed(format!(
            "{url}: digest sha256:{digest} does not match the index's sha256:{}",
            entry.digest
        )));
    }
    let (path, file, tree) = paths(ctl, pass, chart, &entry.version)?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(storage_failed)?;
    }
    std::fs::write(&file, &archive_bytes).map_err(storage_failed)?;
    let _ = std::fs::remove_dir_all(&tree);
    archive::unpack(&file, &tree)
        .await
        .map_err(|e| pull_failed(format!("{url}: {e}")))?;
    let size = archive_bytes.len() as u64;
    record(
        ctl,
        pass,
        &path,
        &entry.version,
        &format!("sha256:{digest}"),
        size,
    );
    Ok(done())
}

/// A chart of a GitRepository: the folder `chart` of its artifact,
/// packaged.
async fn package(
    ctl: &HelmChartController,
    pass: &mut Pass<'_>,
    chart: &str,
    src_path: &str,
    src_rev: &str,
    interval: Duration,
) -> Result<Built, Failure> {
    let failed = |e: String| {
        let msg = format!("chart package error: {e}");
        Failure::new(r::CHART_PACKAGE_ERROR, msg, Requeue::After(interval))
    };
    let tree = ctl
        .artifacts
        .tree(src_path)
        .filter(|t| t.is_dir())
        .ok_or_else(|| storage_failed("the source's artifact is not in storage"))?;
    let rel = chart.trim_start_matches("./").trim_start_matches('/');
    if rel.split('/').any(|p| p == "..") {
        return Err(failed(format!("path '{chart}' leaves the source")));
    }
    let dir = tree.join(rel);
    let meta = read_chart_yaml(&dir).map_err(|e| failed(format!("path '{chart}': {e}")))?;
    let field = |f: &str| {
        meta.get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (name, mut version) = (field("name"), field("version"));
    if name.is_empty() || version.is_empty() {
        return Err(failed(format!(
            "path '{chart}': Chart.yaml has no name or version"
        )));
    }
    let strategy = text(&pass.obj, "/spec/reconcileStrategy").unwrap_or("ChartVersion");
    if strategy == "Revision" {
        let sha = src_rev.rsplit(':').next().unwrap_or(src_rev);
        let base = version.split('+').next().unwrap_or(&version).to_owned();
        version = format!("{base}+{}", &sha[..sha.len().min(12)]);
    }
    let message = format!("packaged '{name}' chart with version '{version}'");
    if stored_revision(ctl, pass).as_deref() == Some(version.as_str())
        && pass.w.get("observedChartName").and_then(Value::as_str) == Some(chart)
    {
        return Ok(Built {
            reason: r::CHART_PACKAGE_SUCCEEDED,
            message,
        });
    }
    let (path, file, out) = paths(ctl, pass, &name, &version)?;
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(storage_failed)?;
    crate::gitops::repo::fixture::copy_tree(&dir, &out).map_err(storage_failed)?;
    if strategy == "Revision" {
        set_version(&out.join("Chart.yaml"), &version).map_err(storage_failed)?;
    }
    let (digest, size) = archive::pack(&out, &name, &file).await.map_err(failed)?;
    record(ctl, pass, &path, &version, &digest, size);
    Ok(Built {
        reason: r::CHART_PACKAGE_SUCCEEDED,
        message,
    })
}

fn read_chart_yaml(dir: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml"))
        .map_err(|e| format!("no Chart.yaml: {e}"))?;
    serde_yaml::from_str(&text).map_err(|e| format!("Chart.yaml does not parse: {e}"))
}

/// Rewrites the `version:` line of a Chart.yaml.
fn set_version(chart_yaml: &Path, version: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(chart_yaml)?;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("version:") {
                format!("version: {version}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(chart_yaml, out.join("\n") + "\n")
}
