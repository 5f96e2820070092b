//! The steps of a GitRepository reconcile, in the source-controller's
//! order, after the skeleton's deletion (dropping the artifacts), finalizer
//! and suspension ([`crate::sim::flux::reconcile`]):
//!
//! 1. `Reconciling` for a new generation; an URL not matching
//!    `^(http|https|ssh)://` stalls (`Stalled=True`, `URLInvalid`), as
//!    does an unusable `spec.ref` (`InvalidRef`);
//! 2. resolve and fetch the reference — failures give `Ready=False` and
//!    `FetchFailed=True` (`GitOperationFailed`, "failed to checkout and
//!    determine revision: …"), keep the old artifact and retry with backoff;
//! 3. a new revision (or new `spec.ignore`/`spec.include`, or an included
//!    artifact that moved): `Reconciling`/`Ready=Unknown` "building
//!    artifact: new upstream revision '…'" (and `ArtifactOutdated` when one
//!    existed); archive and extract it, copy the includes in
//!    (`IncludeUnavailable`: `NotFound`, `NoArtifact`, `CopyFailure`), drop
//!    what the ignore rules exclude (`ignore.rs`) and archive the rest
//!    again (`StorageOperationFailed`, backoff);
//! 4. `Ready=True`/`ArtifactInStorage=True` "stored artifact for revision
//!    '…'", `status.artifact`, `observedIgnore`, `observedInclude`,
//!    `includedArtifacts`, `observedGeneration`; requeue at `spec.interval`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{SourceController, ignore, include};
use crate::flux::duration;
use crate::gitops::fetch::{self as git, Follow};
use crate::gitops::repo::Revision;
use crate::sim::flux::artifacts::Artifacts;
use crate::sim::flux::reconcile::{Failure, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::status::{Working, reasons, types};

/// Default `spec.timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `spec.interval`.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

fn str_at<'a>(o: &'a Value, ptr: &str) -> Option<&'a str> {
    o.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn duration_at(o: &Value, ptr: &str) -> Option<Duration> {
    str_at(o, ptr).and_then(|i| duration::parse(i).ok())
}

/// The steps (see the module docs).
pub(super) async fn reconcile(ctl: &SourceController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let interval = duration_at(&obj, "/spec/interval").unwrap_or(DEFAULT_INTERVAL);
    let timeout = duration_at(&obj, "/spec/timeout").unwrap_or(DEFAULT_TIMEOUT);
    new_generation(&mut pass.w);
    let url = url(&obj, &mut pass.w)?;
    pass.w.clear(types::STALLED);
    let follow = Follow::from_spec(obj.pointer("/spec/ref"))
        .map_err(|e| Failure::stalled("InvalidRef", e))?;
    include::read(&obj).map_err(|e| Failure::stalled("InvalidSpec", e))?;
    pass.write();

    let bare = ctl.artifacts.git_cache(pass.namespace(), pass.name());
    let revision = git::checkout(&ctl.git, &bare, &url, &follow, timeout)
        .await
        .map_err(|e| {
            let msg = format!("failed to checkout and determine revision: {e}");
            Failure::new(reasons::GIT_OPERATION_FAILED, msg, Requeue::Backoff)
        })?;
    store_artifact(ctl, pass, &bare, &revision, timeout).await?;
    let msg = format!("stored artifact for revision '{revision}'");
    Ready::new(reasons::SUCCEEDED, msg, Requeue::After(interval)).done()
}

/// `Reconciling` and `Ready=Unknown` for a generation not yet observed.
pub(crate) fn new_generation(w: &mut Working) {
    let observed = w
        .get("observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    if observed != w.generation {
        let msg = format!(
            "processing object: new generation {observed} -> {}",
            w.generation
        );
        w.mark(types::RECONCILING, "True", reasons::PROGRESSING, &msg);
        w.mark(
            types::READY,
            "Unknown",
            reasons::PROGRESSING,
            "reconciliation in progress",
        );
    }
}

/// `spec.url`, which must match `^(http|https|ssh)://`.
///
/// # Errors
/// Otherwise the object stalls (`URLInvalid`); the source-controller
/// counts that generation as handled: `Reconciling` goes and
/// `observedGeneration` is recorded.
fn url(obj: &Value, w: &mut Working) -> Result<String, Failure> {
    let url = str_at(obj, "/spec/url").unwrap_or_default().to_owned();
    if url.starts_with("http://") || url.starts_with("https://") || url.starts_with("ssh://") {
        return Ok(url);
    }
    w.clear(types::RECONCILING);
    let generation = w.generation;
    w.set("observedGeneration", json!(generation));
    let msg = format!(
        "invalid URL '{}': must start with http://, https:// or ssh:// (spec.url must match ^(http|https|ssh)://)",
        crate::process::redact(&url)
    );
    Err(Failure::stalled(reasons::URL_INVALID, msg))
}

/// Archives and extracts `revision` unless it is the artifact in storage
/// already; records it in `status.artifact` and drops older artifacts.
///
/// # Errors
/// `StorageOperationFailed` (backoff) when archiving fails.
async fn store_artifact(
    ctl: &SourceController,
    pass: &mut Pass<'_>,
    bare: &std::path::Path,
    revision: &Revision,
    timeout: Duration,
) -> Result<(), Failure> {
    let rev = revision.to_string();
    let (ns, name) = (pass.namespace().to_owned(), pass.name().to_owned());
    let path = Artifacts::git_path(&ns, &name, &revision.sha);
    let current = pass
        .w
        .get("artifact")
        .and_then(|a| a.get("revision"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let stored = ctl.artifacts.tree(&path).is_some_and(|t| t.is_dir());
    if current.as_deref() == Some(rev.as_str()) && stored && !filters_changed(ctl, pass) {
        return Ok(());
    }
    let msg = format!("building artifact: new upstream revision '{rev}'");
    let w = &mut pass.w;
    w.mark(types::RECONCILING, "True", reasons::PROGRESSING, &msg);
    w.mark(types::READY, "Unknown", reasons::PROGRESSING, &msg);
    if current.is_some() {
        w.mark(
            types::ARTIFACT_OUTDATED,
            "True",
            reasons::NEW_REVISION,
            &format!("new upstream revision '{rev}'"),
        );
    }
    pass.write();
    let failed = |e: String| Failure::new(reasons::STORAGE_OPERATION_FAILED, e, Requeue::Backoff);
    let (Some(tarball), Some(tree)) = (ctl.artifacts.tarball(&path), ctl.artifacts.tree(&path))
    else {
        return Err(failed(format!(
            "artifact path '{path}' is outside the storage"
        )));
    };
    git::store(&ctl.git, bare, &revision.sha, &tarball, &tree, timeout)
        .await
        .map_err(failed)?;
    let obj = pass.obj.clone();
    let includes = include::read(&obj).unwrap_or_default();
    let included = include::copy_all(pass.store(), &ctl.artifacts, &ns, &includes, &tree)
        .map_err(|(reason, msg)| Failure::new(reason, msg, Requeue::Backoff))?;
    let spec_ignore = obj.pointer("/spec/ignore").and_then(Value::as_str);
    ignore::filter(&tree, spec_ignore)
        .map_err(|e| failed(format!("failed to apply the ignore rules: {e}")))?;
    let s = git::pack(&tree, &tarball, timeout).await.map_err(failed)?;
    match spec_ignore {
        Some(i) => pass.w.set("observedIgnore", json!(i)),
        None => pass.w.unset("observedIgnore"),
    }
    match include::observed(&obj) {
        Value::Null => pass.w.unset("observedInclude"),
        v => pass.w.set("observedInclude", v),
    }
    if included.is_empty() {
        pass.w.unset("includedArtifacts");
    } else {
        pass.w.set("includedArtifacts", Value::Array(included));
    }
    pass.w.set(
        "artifact",
        json!({"revision": rev, "digest": s.digest, "path": path, "url": Artifacts::url(&path),
            "size": s.size, "lastUpdateTime": pass.store().now_rfc3339()}),
    );
    ctl.artifacts.collect_garbage(&ns, &name, Some(&path));
    Ok(())
}

/// Whether `spec.ignore` or `spec.include` changed since the artifact was
/// built, or an included repository's artifact moved.
fn filters_changed(ctl: &SourceController, pass: &Pass<'_>) -> bool {
    let obj = &pass.obj;
    let observed = |f: &str| pass.w.get(f).cloned().unwrap_or(Value::Null);
    let ignore = obj.pointer("/spec/ignore").cloned().unwrap_or(Value::Null);
    if observed("observedIgnore") != ignore || observed("observedInclude") != include::observed(obj)
    {
        return true;
    }
    let revisions = |v: &Value| -> Vec<Value> {
        v.as_array()
            .map(|a| a.iter().map(|x| x["revision"].clone()).collect())
            .unwrap_or_default()
    };
    let recorded = revisions(&observed("includedArtifacts"));
    let current: Vec<Value> = include::read(obj)
        .unwrap_or_default()
        .iter()
        .map(|i| {
            ctl.store
                .get(&crate::sim::storage::store::ObjectRef::namespaced(
                    super::gvr(),
                    pass.namespace(),
                    &i.name,
                ))
                .ok()
                .and_then(|o| o.pointer("/status/artifact/revision").cloned())
                .unwrap_or(Value::Null)
        })
        .collect();
    recorded != current
}

/// `Ready=True` with `ArtifactInStorage=True` (same reason and message);
/// the failure conditions go.
pub(crate) fn mark_ready(w: &mut Working, ready: &Ready) {
    w.mark(types::READY, "True", ready.reason, &ready.message);
    w.mark(
        types::ARTIFACT_IN_STORAGE,
        "True",
        ready.reason,
        &ready.message,
    );
    for t in [
        types::FETCH_FAILED,
        types::INCLUDE_UNAVAILABLE,
        types::ARTIFACT_OUTDATED,
        types::STALLED,
    ] {
        w.clear(t);
    }
}

/// The reasons of a failed fetch of a source (git, a Helm index or
/// chart, an OCI artifact): they also set `FetchFailed=True`.
pub(crate) const FETCH_REASONS: &[&str] = &[
    reasons::GIT_OPERATION_FAILED,
    "Failed",
    "IndexationFailed",
    "AuthenticationFailed",
    "SourceUnavailable",
    "NoSourceArtifact",
    "ChartPullError",
    "OCIArtifactPullFailed",
    "OCIArtifactLayerOperationFailed",
    "ReadOperationFailed",
];

/// Flux's marks ([`crate::sim::flux::reconcile::Controller::mark_failed`]);
/// a failed git operation also sets `FetchFailed=True` and, when
/// `Reconciling` is not there, `Reconciling` (`ProgressingWithRetry`).
pub(crate) fn mark_failed(w: &mut Working, failure: &Failure) {
    let fetch = FETCH_REASONS.contains(&failure.reason);
    let included = [
        include::NOT_FOUND,
        include::NO_ARTIFACT,
        include::COPY_FAILURE,
    ];
    if included.contains(&failure.reason) {
        w.mark(
            types::INCLUDE_UNAVAILABLE,
            "True",
            failure.reason,
            &failure.message,
        );
    }
    if fetch {
        w.mark(
            types::FETCH_FAILED,
            "True",
            failure.reason,
            &failure.message,
        );
    }
    if failure.stalled {
        w.mark(types::STALLED, "True", failure.reason, &failure.message);
    }
    w.fail(failure.reason, &failure.message);
    if fetch && w.condition(types::RECONCILING).is_none() {
        w.mark(
            types::RECONCILING,
            "True",
            reasons::PROGRESSING_WITH_RETRY,
            &failure.message,
        );
    }
}
