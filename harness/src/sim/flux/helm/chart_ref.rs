//! A HelmRelease's `spec.chartRef`, as helm-controller handles it: the
//! chart is the artifact of an `OCIRepository` (a chart pushed to a
//! registry, usually with `layerSelector` `operation: copy`) or of a
//! `HelmChart`, in the HelmRelease's namespace unless the reference names
//! another. For an OCIRepository the chart's version gets the artifact's
//! digest as build metadata (`6.6.1+0cc9a8446c95`, the
//! `lastAttemptedRevision` and the version Helm records), and a semver tag
//! must equal the chart's version.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::HelmController;
use super::release::Chart;
use crate::sim::flux::reconcile::Failure;
use crate::sim::flux::runner::{Key, Requeue};
use crate::sim::flux::spec::SourceRef;
use crate::sim::flux::status::reasons;
use crate::sim::storage::store::{Event, EventType, ObjectRef, Store};

fn text<'a>(o: &'a Value, p: &str) -> Option<&'a str> {
    o.pointer(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The folder of the chart in an artifact tree: the tree itself when it
/// has a `Chart.yaml`, else its one folder that has.
fn chart_dir(tree: &Path) -> Option<PathBuf> {
    if tree.join("Chart.yaml").is_file() {
        return Some(tree.to_owned());
    }
    let mut found = std::fs::read_dir(tree)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Chart.yaml").is_file());
    let one = found.next()?;
    found.next().is_none().then_some(one)
}

/// The chart `r` names, once its source is Ready at its generation with
/// an artifact.
///
/// # Errors
/// A kind other than OCIRepository or HelmChart stalls (`InvalidChartReference`);
/// a missing source is `ArtifactFailed` "could not get Source object: …",
/// one not ready `SourceNotReady` (both retried after the dependency
/// requeue); an artifact without a chart, or whose tag is not the chart's
/// version, `ArtifactFailed`.
pub fn chart(
    ctl: &HelmController,
    store: &Store,
    hr: &Value,
    r: &SourceRef,
) -> Result<Chart, Failure> {
    let gvr = match r.kind.as_str() {
        "OCIRepository" => crate::sim::flux::oci_repository::gvr(),
        "HelmChart" => crate::sim::flux::helm_chart::gvr(),
        other => {
            let msg = format!(
                "spec.chartRef.kind '{other}' is not emulated by gameday's helm-controller (OCIRepository and HelmChart are): drill it on kind with real Flux"
            );
            return Err(Failure::stalled("InvalidChartReference", msg));
        }
    };
    let retry = Requeue::After(ctl.dependency_requeue);
    let id = format!("{} '{}/{}'", r.kind, r.namespace, r.name);
    let Ok(source) = store.get(&ObjectRef::namespaced(gvr, &r.namespace, &r.name)) else {
        let msg = format!("could not get Source object: {id} not found");
        return Err(Failure::new(reasons::ARTIFACT_FAILED, msg, retry));
    };
    let not_ready = |why: &str| {
        let msg = format!("{id} is not ready: {why}");
        Failure::new(super::reconcile::helm_reasons::SOURCE_NOT_READY, msg, retry)
    };
    super::chart_template::source_ready(&source).map_err(|why| not_ready(&why))?;
    let revision = text(&source, "/status/artifact/revision")
        .unwrap_or_default()
        .to_owned();
    let tree = text(&source, "/status/artifact/path")
        .and_then(|p| ctl.artifacts.tree(p))
        .filter(|t| t.is_dir())
        .ok_or_else(|| not_ready("does not have an artifact"))?;
    let artifact_failed =
        |msg: String| Failure::new(reasons::ARTIFACT_FAILED, msg, Requeue::Backoff);
    let dir = chart_dir(&tree).ok_or_else(|| {
        artifact_failed(format!(
            "Could not load chart: no Chart.yaml in the artifact of {id}"
        ))
    })?;
    let loaded = Chart::load(&dir, ".")
        .map_err(|e| artifact_failed(format!("Could not load chart: {e}")))?;
    if r.kind != "OCIRepository" {
        return Ok(loaded);
    }
    // `<tag>@sha256:<hex>` or `sha256:<hex>`.
    let (tag, digest) = match revision.rsplit_once('@') {
        Some((t, d)) => (Some(t), d),
        None => (None, revision.as_str()),
    };
    if let Some(tag) = tag
        && crate::gitops::fetch::semver::Version::parse(&tag.replace('_', "+")).is_some()
        && tag.replace('_', "+") != loaded.version
    {
        let msg = format!(
            "artifact revision {tag} does not match chart version {}",
            loaded.version
        );
        return Err(Failure::new(reasons::ARTIFACT_FAILED, msg, retry));
    }
    let hex = digest.trim_start_matches("sha256:");
    let base = loaded.version.split('+').next().unwrap_or(&loaded.version);
    let version = format!("{base}+{}", &hex[..hex.len().min(12)]);
    // The source's artifact stays as stored: the chart with its new
    // version is a copy, kept with the HelmRelease's working files.
    let ns = text(hr, "/metadata/namespace").unwrap_or("default");
    let name = text(hr, "/metadata/name").unwrap_or_default();
    let copy = ctl
        .artifacts
        .kind_dir("helmrelease", ns, name)
        .join(&version);
    let storage = |e: std::io::Error| {
        Failure::new(
            reasons::ARTIFACT_FAILED,
            format!("Could not load chart: {}: {e}", copy.display()),
            Requeue::Backoff,
        )
    };
    if !copy.join("Chart.yaml").is_file() {
        let parent = copy.parent().unwrap_or(&copy).to_owned();
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir_all(&copy).map_err(storage)?;
        crate::gitops::repo::fixture::copy_tree(&dir, &copy).map_err(storage)?;
        crate::sim::flux::helm_chart::set_version(&copy.join("Chart.yaml"), &version)
            .map_err(storage)?;
    }
    let mut chart = Chart::load(&copy, ".")
        .map_err(|e| artifact_failed(format!("Could not load chart: {e}")))?;
    chart.oci_digest = Some(digest.to_owned());
    Ok(chart)
}

/// The HelmReleases whose `chartRef` names the HelmChart or OCIRepository
/// of `ev`, when its artifact moved or it became Ready.
pub fn users_of(ev: &Event, all: impl Fn() -> Vec<std::sync::Arc<Value>>) -> Vec<Key> {
    let kind = if ev.resource == crate::sim::flux::oci_repository::gvr().group_resource() {
        "OCIRepository"
    } else if ev.resource == crate::sim::flux::helm_chart::gvr().group_resource() {
        "HelmChart"
    } else {
        return Vec::new();
    };
    let moved = ev.kind != EventType::Deleted
        && super::chart_template::source_moved(&ev.object, ev.old.as_deref());
    if !moved {
        return Vec::new();
    }
    let (Some(ns), Some(name)) = (
        text(&ev.object, "/metadata/namespace"),
        text(&ev.object, "/metadata/name"),
    ) else {
        return Vec::new();
    };
    all()
        .iter()
        .filter(|hr| {
            hr.pointer("/spec/chartRef").is_some_and(|_| {
                SourceRef::read_at(hr, "/spec/chartRef")
                    .is_ok_and(|r| r.kind == kind && r.namespace == ns && r.name == name)
            })
        })
        .filter_map(|hr| crate::sim::flux::runner::key_of(hr))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_the_tree_or_its_one_chart_folder() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("podinfo")).unwrap();
        std::fs::write(
            t.path().join("podinfo/Chart.yaml"),
            "name: podinfo\nversion: 6.6.1\n",
        )
        .unwrap();
        assert_eq!(chart_dir(t.path()).unwrap(), t.path().join("podinfo"));
        std::fs::write(t.path().join("Chart.yaml"), "name: top\nversion: 1.0.0\n").unwrap();
        assert_eq!(chart_dir(t.path()).unwrap(), t.path());
    }
}
