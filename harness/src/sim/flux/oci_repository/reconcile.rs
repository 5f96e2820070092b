//! The steps of an OCIRepository reconcile, in source-controller's order
//! (`internal/controller/ocirepository_controller.go`):
//!
//! 1. `Reconciling` for a new generation; an URL that is not `oci://`, or
//!    that carries a tag, stalls (`URLInvalid`, "URL validation failed for
//!    '<url>': URL must not contain a tag; remove ':x'");
//! 2. the reference, `digest` > `semver` (with `semverFilter`) > `tag` >
//!    `latest`: a semver range lists the tags and takes the highest match
//!    (`ReadOperationFailed` "failed to determine the artifact tag for
//!    '<url>': …"); the manifest is resolved (`OCIArtifactPullFailed`
//!    "failed to determine artifact digest: …"); the revision is
//!    `<tag>@sha256:<digest>`, or the digest alone;
//! 3. a new revision (or new `ignore`/`layerSelector`): `ArtifactOutdated`
//!    `NewRevision` when one was stored, `Reconciling`/`Ready=Unknown`
//!    "building artifact: new revision '…' for '<url>'"; the layer
//!    `layerSelector.mediaType` selects (the first one by default;
//!    `OCIArtifactLayerOperationFailed` "failed to find layer with media
//!    type '<mt>' in artifact") is pulled, its digest checked
//!    (`OCIArtifactPullFailed` "failed to pull artifact from '<url>': …"),
//!    and extracted with the ignore rules applied and archived again
//!    (`operation: extract`, the default) or stored as pulled (`copy`);
//! 4. `Ready=True`/`ArtifactInStorage=True` `Succeeded` "stored artifact
//!    for digest '<revision>'", `status.artifact` (its `metadata`: the
//!    manifest's annotations), `status.url`, `observedIgnore`,
//!    `observedLayerSelector`; requeue at `spec.interval`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{DEFAULT_TIMEOUT, KIND_DIR, OciRepositoryController};
use crate::flux::duration;
use crate::gitops::oci::{self, Manifest, Ref, pack};
use crate::sim::flux::artifacts::Artifacts;
use crate::sim::flux::reconcile::{Failure, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::source::ignore;
use crate::sim::flux::status::{reasons, types};

/// source-controller's OCIRepository reasons.
pub mod oci_reasons {
    /// The manifest or a layer could not be pulled.
    pub const PULL_FAILED: &str = "OCIArtifactPullFailed";
    /// The selected layer is missing or could not be extracted.
    pub const LAYER_OPERATION_FAILED: &str = "OCIArtifactLayerOperationFailed";
    /// The tags could not be listed, or none matches.
    pub const READ_OPERATION_FAILED: &str = "ReadOperationFailed";
}
use oci_reasons as r;

fn text<'a>(o: &'a Value, p: &str) -> Option<&'a str> {
    o.pointer(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// What `spec.ref` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    Digest(String),
    Semver {
        range: String,
        filter: Option<String>,
    },
    Tag(String),
}

impl Wanted {
    fn read(obj: &Value) -> Wanted {
        if let Some(d) = text(obj, "/spec/ref/digest") {
            return Wanted::Digest(d.to_owned());
        }
        if let Some(s) = text(obj, "/spec/ref/semver") {
            return Wanted::Semver {
                range: s.to_owned(),
                filter: text(obj, "/spec/ref/semverFilter").map(str::to_owned),
            };
        }
        Wanted::Tag(text(obj, "/spec/ref/tag").unwrap_or("latest").to_owned())
    }
}

/// The steps (see the module docs).
pub(super) async fn reconcile(ctl: &OciRepositoryController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let interval = text(&obj, "/spec/interval")
        .ok_or("spec.interval: Required value")
        .and_then(|d| duration::parse(d).map_err(|_| "spec.interval: Invalid value"))
        .map_err(|e| Failure::stalled("InvalidSpec", e))?;
    let timeout = text(&obj, "/spec/timeout")
        .and_then(|d| duration::parse(d).ok())
        .unwrap_or(DEFAULT_TIMEOUT);
    let insecure = obj
        .pointer("/spec/insecure")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    crate::sim::flux::source::new_generation(&mut pass.w);
    let url = text(&obj, "/spec/url").unwrap_or_default().to_owned();
    if let Err(e) = oci::Url::parse(&url) {
        pass.w.clear(types::RECONCILING);
        let generation = pass.w.generation;
        pass.w.set("observedGeneration", json!(generation));
        let msg = format!(
            "URL validation failed for '{}': {e}",
            crate::process::redact(&url)
        );
        return Err(Failure::stalled(reasons::URL_INVALID, msg));
    }
    pass.w.clear(types::STALLED);
    pass.write();

    let wanted = Wanted::read(&obj);
    let reference = match &wanted {
        Wanted::Digest(d) => Ref::Digest(d.clone()),
        Wanted::Tag(t) => Ref::Tag(t.clone()),
        Wanted::Semver { range, filter } => {
            let tag = select_tag(ctl, &url, range, filter.as_deref(), insecure, timeout).await?;
            Ref::Tag(tag)
        }
    };
    let manifest = ctl
        .oci
        .manifest(&url, &reference, insecure, timeout)
        .await
        .map_err(|e| {
            let msg = format!("failed to determine artifact digest: {e}");
            Failure::new(r::PULL_FAILED, msg, Requeue::Backoff)
        })?;
    let revision = match &reference {
        Ref::Tag(t) => format!("{t}@{}", manifest.digest),
        Ref::Digest(_) => manifest.digest.clone(),
    };
    store_artifact(ctl, pass, &url, &revision, &manifest, insecure, timeout).await?;
    let msg = format!("stored artifact for digest '{revision}'");
    Ready::new(reasons::SUCCEEDED, msg, Requeue::After(interval)).done()
}

/// The highest tag of the repository matching `range` (and `filter`).
///
/// # Errors
/// `ReadOperationFailed`: the tags could not be listed, the filter or
/// range does not parse, or nothing matches.
async fn select_tag(
    ctl: &OciRepositoryController,
    url: &str,
    range: &str,
    filter: Option<&str>,
    insecure: bool,
    timeout: Duration,
) -> Result<String, Failure> {
    let failed = |e: String| {
        let msg = format!("failed to determine the artifact tag for '{url}': {e}");
        Failure::new(r::READ_OPERATION_FAILED, msg, Requeue::Backoff)
    };
    let tags = ctl
        .oci
        .tags(url, insecure, timeout)
        .await
        .map_err(|e| failed(e.to_string()))?;
    oci::highest_tag(&tags, range, filter, false)
        .map_err(failed)?
        .ok_or_else(|| failed(format!("no match found for semver: {range}")))
}

/// The layer selector: (media type, copy).
fn layer_selector(obj: &Value) -> (Option<String>, bool) {
    (
        text(obj, "/spec/layerSelector/mediaType").map(str::to_owned),
        text(obj, "/spec/layerSelector/operation") == Some("copy"),
    )
}

/// Pulls and stores the artifact of `revision` unless it is the one in
/// storage already (with the same ignore rules and layer selector).
async fn store_artifact(
    ctl: &OciRepositoryController,
    pass: &mut Pass<'_>,
    url: &str,
    revision: &str,
    manifest: &Manifest,
    insecure: bool,
    timeout: Duration,
) -> Result<(), Failure> {
    let obj = pass.obj.clone();
    let spec_ignore = obj.pointer("/spec/ignore").cloned().unwrap_or(Value::Null);
    let selector = obj
        .pointer("/spec/layerSelector")
        .cloned()
        .unwrap_or(Value::Null);
    let current = pass
        .w
        .get("artifact")
        .and_then(|a| a.get("revision"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let digest_part = revision.rsplit('@').next().unwrap_or(revision);
    let (ns, name) = (pass.namespace().to_owned(), pass.name().to_owned());
    let path = format!("{KIND_DIR}/{ns}/{name}/{digest_part}.tar.gz");
    let stored = ctl.artifacts.tree(&path).is_some_and(|t| t.is_dir())
        && ctl.artifacts.tarball(&path).is_some_and(|t| t.is_file());
    let observed = |f: &str| pass.w.get(f).cloned().unwrap_or(Value::Null);
    if current.as_deref() == Some(revision)
        && stored
        && observed("observedIgnore") == spec_ignore
        && observed("observedLayerSelector") == selector
    {
        return Ok(());
    }
    let msg = format!("new revision '{revision}' for '{url}'");
    let w = &mut pass.w;
    w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        &format!("building artifact: {msg}"),
    );
    w.mark(
        types::READY,
        "Unknown",
        reasons::PROGRESSING,
        &format!("building artifact: {msg}"),
    );
    if current.is_some() {
        w.mark(
            types::ARTIFACT_OUTDATED,
            "True",
            reasons::NEW_REVISION,
            &msg,
        );
    }
    pass.write();

    let (media_type, copy) = layer_selector(&obj);
    let layer = match &media_type {
        Some(mt) => manifest.layers.iter().find(|l| &l.media_type == mt),
        None => manifest.layers.first(),
    }
    .ok_or_else(|| {
        let msg = format!(
            "failed to find layer with media type '{}' in artifact",
            media_type.as_deref().unwrap_or("<any>")
        );
        Failure::new(r::LAYER_OPERATION_FAILED, msg, Requeue::Backoff)
    })?;
    let blob = ctl
        .oci
        .layer(url, layer, insecure, timeout)
        .await
        .map_err(|e| {
            let msg = format!("failed to pull artifact from '{url}': {e}");
            Failure::new(r::PULL_FAILED, msg, Requeue::Backoff)
        })?;
    let storage = |e: String| Failure::new(reasons::STORAGE_OPERATION_FAILED, e, Requeue::Backoff);
    let (Some(tarball), Some(tree)) = (ctl.artifacts.tarball(&path), ctl.artifacts.tree(&path))
    else {
        return Err(storage(format!(
            "artifact path '{path}' is outside the storage"
        )));
    };
    let _ = std::fs::remove_dir_all(&tree);
    pack::extract(&blob, &tree).map_err(|e| {
        let msg = format!("failed to extract layer contents from artifact: {e}");
        Failure::new(r::LAYER_OPERATION_FAILED, msg, Requeue::Backoff)
    })?;
    let (digest, size) = if copy {
        pack::write_atomically(&tarball, &blob)
            .map_err(|e| storage(format!("failed to store artifact: {e}")))?;
        (layer.digest.clone(), blob.len() as u64)
    } else {
        ignore::filter(&tree, spec_ignore.as_str())
            .map_err(|e| storage(format!("failed to apply the ignore rules: {e}")))?;
        let s = crate::gitops::fetch::pack(&tree, &tarball, timeout)
            .await
            .map_err(storage)?;
        (s.digest, s.size)
    };
    match &spec_ignore {
        Value::Null => pass.w.unset("observedIgnore"),
        v => pass.w.set("observedIgnore", v.clone()),
    }
    match &selector {
        Value::Null => pass.w.unset("observedLayerSelector"),
        v => pass.w.set("observedLayerSelector", v.clone()),
    }
    let mut artifact = json!({"revision": revision, "digest": digest, "path": path,
        "url": Artifacts::url(&path), "size": size, "lastUpdateTime": pass.store().now_rfc3339()});
    if !manifest.annotations.is_empty() {
        artifact["metadata"] = json!(manifest.annotations);
    }
    pass.w.set("artifact", artifact);
    pass.w.set(
        "url",
        json!(Artifacts::url(&format!(
            "{KIND_DIR}/{ns}/{name}/latest.tar.gz"
        ))),
    );
    ctl.artifacts
        .collect_garbage_of(KIND_DIR, &ns, &name, Some(&path));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_follows_flux_s_precedence() {
        let o = json!({"spec": {"ref": {"digest": "sha256:ab", "semver": "1.x", "tag": "v1"}}});
        assert_eq!(Wanted::read(&o), Wanted::Digest("sha256:ab".into()));
        let o = json!({"spec": {"ref": {"semver": "1.x", "semverFilter": ".*-rc", "tag": "v1"}}});
        assert_eq!(
            Wanted::read(&o),
            Wanted::Semver {
                range: "1.x".into(),
                filter: Some(".*-rc".into())
            }
        );
        assert_eq!(
            Wanted::read(&json!({"spec": {}})),
            Wanted::Tag("latest".into())
        );
    }
}
