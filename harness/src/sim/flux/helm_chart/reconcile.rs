//! The steps of a HelmChart reconcile, in source-controller's order
//! (`internal/controller/helmchart_controller.go`, `internal/helm/chart`):
//!
//! 1. `Reconciling` for a new generation; a `Bucket` source is not
//!    emulated (stalls, saying so);
//! 2. the source: missing → `FetchFailed` `SourceUnavailable` "failed to
//!    get source: …"; without artifact → `NoSourceArtifact` "no artifact
//!    available for <Kind> source '<name>'" (both retried with
//!    controller-runtime's backoff, as Flux returns an error or
//!    `ResultRequeue` for them, and at once when the source's artifact
//!    moves or an OCI HelmRepository appears);
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
    let retry = Requeue::Backoff;
    let r_src = ObjectRef::namespaced(gvr.clone(), pass.namespace(), &src_name);
    let Ok(source) = pass.store().get(&r_src) else {
        let msg = format!(
            "failed to get source: {}.{} \"{src_name}\" not found",
            gvr.resource, gvr.group
        );
        return Err(Failure::new(r::SOURCE_UNAVAILABLE, msg, retry));
    };
    if kind == "HelmRepository" && text(&source, "/spec/type") == Some("oci") {
        // An OCI HelmRepository is static: no artifact, the chart is
        // pulled from the registry.
        let built = pull_oci(ctl, pass, &chart, &source).await?;
        pass.w.unset("observedSourceArtifactRevision");
        return finish(pass, &chart, built, interval);
    }
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
    finish(pass, &chart, built, interval)
}

/// Step 4: the status of a built chart, `Ready`.
fn finish(pass: &mut Pass<'_>, chart: &str, built: Built, interval: Duration) -> Reconciled {
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

/// What the spec asks of a build besides the chart: `valuesFiles` and
/// the build metadata of the version (`reconcileStrategy`).
struct Plan {
    /// `spec.valuesFiles` (empty: none; `[values.yaml]` alone is none).
    values_files: Vec<String>,
    /// `spec.ignoreMissingValuesFiles`.
    ignore_missing: bool,
    /// `metadata.generation` (the version metadata with values files).
    generation: i64,
    /// `reconcileStrategy: Revision` (Git sources only).
    revision_strategy: bool,
}

impl Plan {
    fn read(obj: &Value) -> Plan {
        let mut values_files: Vec<String> = obj
            .pointer("/spec/valuesFiles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if values_files == ["values.yaml"] {
            values_files.clear();
        }
        Plan {
            values_files,
            ignore_missing: obj
                .pointer("/spec/ignoreMissingValuesFiles")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            generation: obj
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1),
            revision_strategy: text(obj, "/spec/reconcileStrategy") == Some("Revision"),
        }
    }

    /// The artifact's version: the chart's, its build metadata replaced
    /// by `<12 hex of the commit>` (Revision strategy, `git_rev` given)
    /// and `<generation>` (values files), joined by `.`.
    fn version(&self, chart_version: &str, git_rev: Option<&str>) -> String {
        let mut meta = Vec::new();
        if self.revision_strategy
            && let Some(rev) = git_rev
        {
            let sha = rev.rsplit(':').next().unwrap_or(rev);
            meta.push(sha[..sha.len().min(12)].to_owned());
        }
        if !self.values_files.is_empty() {
            meta.push(self.generation.to_string());
        }
        if meta.is_empty() {
            return chart_version.to_owned();
        }
        let base = chart_version.split('+').next().unwrap_or(chart_version);
        format!("{base}+{}", meta.join("."))
    }

    /// ` and merged values files [a.yaml, b.yaml]`, or nothing.
    fn merged_note(&self) -> String {
        if self.values_files.is_empty() {
            String::new()
        } else {
            format!(
                " and merged values files [{}]",
                self.values_files.join(", ")
            )
        }
    }
}

/// The stored artifact's revision when its file and tree are still there
/// and it was built from the same chart name and values files.
fn stored_revision(ctl: &HelmChartController, pass: &Pass<'_>, chart: &str) -> Option<String> {
    let a = pass.w.get("artifact")?;
    let path = a.get("path")?.as_str()?;
    let present = ctl.artifacts.tarball(path).is_some_and(|f| f.is_file())
        && ctl.artifacts.tree(path).is_some_and(|t| t.is_dir());
    let same_chart = pass.w.get("observedChartName").and_then(Value::as_str) == Some(chart);
    let files = pass
        .obj
        .pointer("/spec/valuesFiles")
        .cloned()
        .unwrap_or(Value::Null);
    let observed = pass
        .w
        .get("observedValuesFiles")
        .cloned()
        .unwrap_or(Value::Null);
    let same_files = files == observed
        || (files.as_array().is_none_or(Vec::is_empty)
            && observed.as_array().is_none_or(Vec::is_empty));
    (present && same_chart && same_files).then(|| a.get("revision")?.as_str().map(str::to_owned))?
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
    match pass
        .obj
        .pointer("/spec/valuesFiles")
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        Some(v) => pass.w.set("observedValuesFiles", v.clone()),
        None => pass.w.unset("observedValuesFiles"),
    }
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

/// A chart of a HelmRepository: the version the index selects, pulled
/// (and packaged again with its values files merged, when it has some).
async fn pull(
    ctl: &HelmChartController,
    pass: &mut Pass<'_>,
    chart: &str,
    index_path: &str,
    repo_url: &str,
) -> Result<Built, Failure> {
    let version = text(&pass.obj, "/spec/version").unwrap_or("*").to_owned();
    let plan = Plan::read(&pass.obj);
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
    let revision = plan.version(&entry.version, None);
    let built = pulled(chart, &revision, &plan);
    if stored_revision(ctl, pass, chart).as_deref() == Some(revision.as_str()) {
        return Ok(built);
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
    store_pulled(ctl, pass, chart, &revision, &archive_bytes, &plan, &url).await?;
    Ok(built)
}

/// Stores a pulled chart archive as the artifact of `revision`: unpacked,
/// and packaged again with its values files merged when it has some.
async fn store_pulled(
    ctl: &HelmChartController,
    pass: &mut Pass<'_>,
    chart: &str,
    revision: &str,
    archive_bytes: &[u8],
    plan: &Plan,
    url: &str,
) -> Result<(), Failure> {
    let pull_failed = |e: String| {
        let msg = format!("chart pull error: failed to download chart for remote reference: {e}");
        Failure::new(r::CHART_PULL_ERROR, msg, Requeue::Backoff)
    };
    let digest = index::hex(&ring::digest::digest(&ring::digest::SHA256, archive_bytes));
    let (path, file, tree) = paths(ctl, pass, chart, revision)?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(storage_failed)?;
    }
    std::fs::write(&file, archive_bytes).map_err(storage_failed)?;
    let _ = std::fs::remove_dir_all(&tree);
    archive::unpack(&file, &tree)
        .await
        .map_err(|e| pull_failed(format!("{url}: {e}")))?;
    if plan.values_files.is_empty() {
        let size = archive_bytes.len() as u64;
        record(
            ctl,
            pass,
            &path,
            revision,
            &format!("sha256:{digest}"),
            size,
        );
        return Ok(());
    }
    // Values files of a repository chart are files of the chart.
    merge_values(&tree, &tree, plan)?;
    set_version(&tree.join("Chart.yaml"), revision).map_err(storage_failed)?;
    let (digest, size) = archive::pack(&tree, chart, &file).await.map_err(|e| {
        Failure::new(
            r::CHART_PACKAGE_ERROR,
            format!("chart package error: {e}"),
            Requeue::Backoff,
        )
    })?;
    record(ctl, pass, &path, revision, &digest, size);
    Ok(())
}

/// The build's reason and message for a pulled chart.
fn pulled(chart: &str, revision: &str, plan: &Plan) -> Built {
    if plan.values_files.is_empty() {
        Built {
            reason: r::CHART_PULL_SUCCEEDED,
            message: format!("pulled '{chart}' chart with version '{revision}'"),
        }
    } else {
        Built {
            reason: r::CHART_PACKAGE_SUCCEEDED,
            message: format!(
                "packaged '{chart}' chart with version '{revision}'{}",
                plan.merged_note()
            ),
        }
    }
}

/// A chart of an OCI HelmRepository: `<url>/<chart>` in the registry, at
/// the tag `spec.version` names or, for a range, the highest matching
/// tag (Helm's `_` read as `+`); its chart layer pulled and checked
/// against its digest.
async fn pull_oci(
    ctl: &HelmChartController,
    pass: &mut Pass<'_>,
    chart: &str,
    source: &Value,
) -> Result<Built, Failure> {
    use crate::gitops::fetch::semver::Version;
    use crate::gitops::oci::{self, Ref, pack};
    let version = text(&pass.obj, "/spec/version").unwrap_or("*").to_owned();
    let plan = Plan::read(&pass.obj);
    let base = text(source, "/spec/url")
        .unwrap_or_default()
        .trim_end_matches('/');
    let url = format!("{base}/{chart}");
    let insecure = source
        .pointer("/spec/insecure")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let timeout = text(source, "/spec/timeout")
        .and_then(|d| duration::parse(d).ok())
        .unwrap_or(PULL_TIMEOUT);
    let pull_failed = |e: String| {
        let msg = format!("chart pull error: failed to download chart for remote reference: {e}");
        Failure::new(r::CHART_PULL_ERROR, msg, Requeue::Backoff)
    };
    if let Err(e) = oci::Url::parse(&url) {
        let msg = format!("invalid chart reference: {e}");
        return Err(Failure::stalled(r::INVALID_CHART_REFERENCE, msg));
    }
    // A plain version is a tag: no listing (as Flux).
    let tag = if Version::parse(&version).is_some()
        && !version.contains(['<', '>', '~', '^', '*', 'x', ' ', '|', ','])
    {
        version.replace('+', "_")
    } else {
        let tags = ctl.oci.tags(&url, insecure, timeout).await.map_err(|e| {
            let msg =
                format!("chart pull error: failed to get chart version for remote reference: {e}");
            Failure::new(r::CHART_PULL_ERROR, msg, Requeue::Backoff)
        })?;
        oci::highest_tag(&tags, &version, None, true)
            .map_err(|e| Failure::stalled(r::INVALID_CHART_REFERENCE, format!("invalid chart reference: {e}")))?
            .ok_or_else(|| {
                let msg = format!(
                    "chart pull error: failed to get chart version for remote reference: could not locate a version matching provided version string {version}"
                );
                Failure::new(r::CHART_PULL_ERROR, msg, Requeue::Backoff)
            })?
    };
    let revision = plan.version(&tag.replace('_', "+"), None);
    let built = pulled(chart, &revision, &plan);
    if stored_revision(ctl, pass, chart).as_deref() == Some(revision.as_str()) {
        return Ok(built);
    }
    let manifest = ctl
        .oci
        .manifest(&url, &Ref::Tag(tag.clone()), insecure, timeout)
        .await
        .map_err(|e| pull_failed(e.to_string()))?;
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == pack::HELM_CHART || l.media_type == pack::HELM_CHART_LEGACY)
        .ok_or_else(|| {
            pull_failed(format!(
                "{url}:{tag}: no layer of media type {} in the artifact (is it a Helm chart?)",
                pack::HELM_CHART
            ))
        })?;
    let bytes = ctl
        .oci
        .layer(&url, layer, insecure, timeout)
        .await
        .map_err(|e| pull_failed(e.to_string()))?;
    store_pulled(
        ctl,
        pass,
        chart,
        &revision,
        &bytes,
        &plan,
        &format!("{url}:{tag}"),
    )
    .await?;
    Ok(built)
}

/// A chart of a GitRepository: the folder `chart` of its artifact,
/// packaged (its values files, relative to the source's root, merged).
async fn package(
    ctl: &HelmChartController,
    pass: &mut Pass<'_>,
    chart: &str,
    src_path: &str,
    src_rev: &str,
    interval: Duration,
) -> Result<Built, Failure> {
    let plan = Plan::read(&pass.obj);
    let failed = |e: String| {
        let msg = format!("chart package error: {e}");
        Failure::new(r::CHART_PACKAGE_ERROR, msg, Requeue::After(interval))
    };
    let root = ctl
        .artifacts
        .tree(src_path)
        .filter(|t| t.is_dir())
        .ok_or_else(|| storage_failed("the source's artifact is not in storage"))?;
    let rel = chart.trim_start_matches("./").trim_start_matches('/');
    if rel.split('/').any(|p| p == "..") {
        return Err(failed(format!("path '{chart}' leaves the source")));
    }
    let dir = root.join(rel);
    let meta = read_chart_yaml(&dir).map_err(|e| failed(format!("path '{chart}': {e}")))?;
    let field = |f: &str| {
        meta.get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (name, chart_version) = (field("name"), field("version"));
    if name.is_empty() || chart_version.is_empty() {
        return Err(failed(format!(
            "path '{chart}': Chart.yaml has no name or version"
        )));
    }
    let version = plan.version(&chart_version, Some(src_rev));
    let built = Built {
        reason: r::CHART_PACKAGE_SUCCEEDED,
        message: format!(
            "packaged '{name}' chart with version '{version}'{}",
            plan.merged_note()
        ),
    };
    if stored_revision(ctl, pass, chart).as_deref() == Some(version.as_str()) {
        return Ok(built);
    }
    let (path, file, out) = paths(ctl, pass, &name, &version)?;
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(storage_failed)?;
    crate::gitops::repo::fixture::copy_tree(&dir, &out).map_err(storage_failed)?;
    if !plan.values_files.is_empty() {
        merge_values(&root, &out, &plan)?;
    }
    if version != chart_version {
        set_version(&out.join("Chart.yaml"), &version).map_err(storage_failed)?;
    }
    let (digest, size) = archive::pack(&out, &name, &file).await.map_err(failed)?;
    record(ctl, pass, &path, &version, &digest, size);
    Ok(built)
}

/// Merges the plan's values files (paths under `base`; `values.yaml` is
/// the chart's own) in order, the last winning, into `chart/values.yaml`,
/// which they replace, as source-controller does.
///
/// # Errors
/// `ValuesFilesError` (stalls): a file missing (unless
/// `ignoreMissingValuesFiles`), leaving `base`, or not a YAML map.
fn merge_values(base: &Path, chart: &Path, plan: &Plan) -> Result<(), Failure> {
    let failed =
        |e: String| Failure::stalled("ValuesFilesError", format!("values files merge error: {e}"));
    let own = std::fs::read_to_string(chart.join("values.yaml")).unwrap_or_default();
    let mut merged = Value::Object(serde_json::Map::new());
    for f in &plan.values_files {
        let rel = f.trim_start_matches("./");
        if Path::new(rel).is_absolute() || rel.split('/').any(|p| p == "..") {
            return Err(failed(format!("path '{f}' leaves the source")));
        }
        let text = if rel == "values.yaml" {
            own.clone()
        } else {
            match std::fs::read_to_string(base.join(rel)) {
                Ok(t) => t,
                Err(_) if plan.ignore_missing => continue,
                Err(_) => return Err(failed(format!("no values file found at path '{f}'"))),
            }
        };
        let doc: Value = serde_yaml::from_str::<Option<Value>>(&text)
            .map_err(|e| failed(format!("failed to parse values file '{f}': {e}")))?
            .unwrap_or(Value::Null);
        match doc {
            Value::Null => {}
            Value::Object(_) => crate::sim::flux::helm::values::merge(&mut merged, doc),
            _ => return Err(failed(format!("values file '{f}' is not a map"))),
        }
    }
    let yaml = serde_yaml::to_string(&merged).map_err(|e| failed(e.to_string()))?;
    std::fs::write(chart.join("values.yaml"), yaml).map_err(|e| failed(e.to_string()))
}

fn read_chart_yaml(dir: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml"))
        .map_err(|e| format!("no Chart.yaml: {e}"))?;
    serde_yaml::from_str(&text).map_err(|e| format!("Chart.yaml does not parse: {e}"))
}

/// Rewrites the `version:` line of a Chart.yaml.
pub(crate) fn set_version(chart_yaml: &Path, version: &str) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(files: &[&str], revision: bool) -> Plan {
        Plan {
            values_files: files.iter().map(|f| (*f).to_owned()).collect(),
            ignore_missing: false,
            generation: 3,
            revision_strategy: revision,
        }
    }

    #[test]
    fn artifact_versions_carry_flux_s_build_metadata() {
        let rev = "main@sha1:0123456789abcdef0123";
        assert_eq!(plan(&[], false).version("6.0.3", Some(rev)), "6.0.3");
        assert_eq!(
            plan(&[], true).version("6.0.3+old", Some(rev)),
            "6.0.3+0123456789ab"
        );
        assert_eq!(plan(&["a.yaml"], false).version("6.0.3", None), "6.0.3+3");
        assert_eq!(
            plan(&["a.yaml"], true).version("6.0.3", Some(rev)),
            "6.0.3+0123456789ab.3"
        );
        // A repository chart ignores the strategy.
        assert_eq!(plan(&[], true).version("6.0.3", None), "6.0.3");
    }

    #[test]
    fn values_files_merge_in_order_and_replace_the_chart_s_values() {
        let t = tempfile::tempdir().unwrap();
        let chart = t.path().join("chart");
        std::fs::create_dir_all(&chart).unwrap();
        std::fs::write(chart.join("values.yaml"), "a: 1\nb: {c: 1, d: 1}\n").unwrap();
        std::fs::write(t.path().join("prod.yaml"), "b: {c: 2}\ne: 5\n").unwrap();
        merge_values(
            t.path(),
            &chart,
            &plan(&["values.yaml", "prod.yaml"], false),
        )
        .unwrap();
        let got: Value =
            serde_yaml::from_str(&std::fs::read_to_string(chart.join("values.yaml")).unwrap())
                .unwrap();
        assert_eq!(got, json!({"a": 1, "b": {"c": 2, "d": 1}, "e": 5}));
        // Without values.yaml in the list, the chart's own values go.
        merge_values(t.path(), &chart, &plan(&["prod.yaml"], false)).unwrap();
        let got: Value =
            serde_yaml::from_str(&std::fs::read_to_string(chart.join("values.yaml")).unwrap())
                .unwrap();
        assert_eq!(got, json!({"b": {"c": 2}, "e": 5}));
        let e = merge_values(t.path(), &chart, &plan(&["nope.yaml"], false)).unwrap_err();
        assert_eq!(
            (e.reason, e.message.as_str(), e.stalled),
            (
                "ValuesFilesError",
                "values files merge error: no values file found at path 'nope.yaml'",
                true
            )
        );
        let mut ignoring = plan(&["nope.yaml"], false);
        ignoring.ignore_missing = true;
        assert!(merge_values(t.path(), &chart, &ignoring).is_ok());
        assert!(merge_values(t.path(), &chart, &plan(&["../x.yaml"], false)).is_err());
    }
}
