//! One GitRepository reconcile, as the source-controller does it:
//!
//! 1. deletion: drop the artifacts, remove the finalizer;
//! 2. add the finalizer; stop when suspended;
//! 3. `Reconciling` for a new generation; an URL not matching
//!    `^(http|https|ssh)://` stalls (`Stalled=True`, `URLInvalid`);
//! 4. resolve and fetch the reference — failures give `Ready=False` and
//!    `FetchFailed=True` (`GitOperationFailed`, "failed to checkout and
//!    determine revision: …"), keep the old artifact and retry with backoff;
//! 5. a new revision: `Reconciling`/`Ready=Unknown` "building artifact: new
//!    upstream revision '…'" (and `ArtifactOutdated` when one existed),
//!    archive and extract it;
//! 6. `Ready=True`/`ArtifactInStorage=True` "stored artifact for revision
//!    '…'", `status.artifact`, `observedGeneration`; requeue at
//!    `spec.interval`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{SourceController, gvr};
use crate::clock::Busy;
use crate::flux::duration;
use crate::gitops::fetch::{self as git, Follow};
use crate::sim::flux::artifacts::Artifacts;
use crate::sim::flux::runner::{Key, Requeue};
use crate::sim::flux::status::{
    FINALIZER, Working, deleting, has_finalizer, reasons, suspended, types,
};
use crate::sim::storage::store::{ObjectRef, WriteOptions};

/// Field manager of status writes (Flux's `gotk-<controller>`).
const STATUS_MANAGER: &str = "gotk-source-controller";
/// Default `spec.timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

fn str_at<'a>(o: &'a Value, ptr: &str) -> Option<&'a str> {
    o.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(super) async fn reconcile(
    ctl: &SourceController,
    (ns, name): Key,
    busy: Busy,
) -> (Requeue, Busy) {
    let store = &ctl.store;
    let r = ObjectRef::namespaced(gvr(), &ns, &name);
    let Ok(obj) = store.get(&r) else {
        return (Requeue::Never, busy);
    };
    if deleting(&obj) {
        ctl.artifacts.collect_garbage(&ns, &name, None);
        let _ = store.mutate(
            &r,
            false,
            &WriteOptions::manager("source-controller"),
            |o| {
                if let Some(f) = o
                    .pointer_mut("/metadata/finalizers")
                    .and_then(Value::as_array_mut)
                {
                    f.retain(|x| x.as_str() != Some(FINALIZER));
                }
                Ok(())
            },
        );
        return (Requeue::Never, busy);
    }
    if !has_finalizer(&obj) {
        let _ = store.mutate(
            &r,
            false,
            &WriteOptions::manager("source-controller"),
            |o| {
                let meta = &mut o["metadata"];
                match meta.get_mut("finalizers").and_then(Value::as_array_mut) {
                    Some(f) => f.push(json!(FINALIZER)),
                    None => meta["finalizers"] = json!([FINALIZER]),
                }
                Ok(())
            },
        );
    }
    if suspended(&obj) {
        return (Requeue::Never, busy);
    }
    let mut w = Working::new(&obj, store.now_rfc3339());
    let write = |w: &Working| {
        let status = w.obj.get("status").cloned().unwrap_or_else(|| json!({}));
        let _ = store.mutate(&r, true, &WriteOptions::manager(STATUS_MANAGER), |o| {
            o["status"] = status;
            Ok(())
        });
    };
    let interval = str_at(&obj, "/spec/interval")
        .and_then(|i| duration::parse(i).ok())
        .unwrap_or(Duration::from_secs(60));
    let timeout = str_at(&obj, "/spec/timeout")
        .and_then(|i| duration::parse(i).ok())
        .unwrap_or(DEFAULT_TIMEOUT);
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

    let url = str_at(&obj, "/spec/url").unwrap_or_default().to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with("ssh://")) {
        let msg = format!(
            "invalid URL '{}': must start with http://, https:// or ssh:// (spec.url must match ^(http|https|ssh)://)",
            crate::process::redact(&url)
        );
        w.mark(types::STALLED, "True", reasons::URL_INVALID, &msg);
        w.fail(reasons::URL_INVALID, &msg);
        w.clear(types::RECONCILING);
        let generation = w.generation;
        w.set("observedGeneration", json!(generation));
        w.finalize();
        write(&w);
        return (Requeue::Never, busy);
    }
    w.clear(types::STALLED);
    let follow = match Follow::from_spec(obj.pointer("/spec/ref")) {
        Ok(f) => f,
        Err(e) => {
            w.mark(types::STALLED, "True", "InvalidRef", &e);
            w.fail("InvalidRef", &e);
            w.finalize();
            write(&w);
            return (Requeue::Never, busy);
        }
    };
    write(&w);

    let bare = ctl.artifacts.git_cache(&ns, &name);
    let revision = match git::checkout(&ctl.git, &bare, &url, &follow, timeout).await {
        Ok(rev) => rev,
        Err(e) => {
            let msg = format!("failed to checkout and determine revision: {e}");
            w.mark(
                types::FETCH_FAILED,
                "True",
                reasons::GIT_OPERATION_FAILED,
                &msg,
            );
            w.fail(reasons::GIT_OPERATION_FAILED, &msg);
            if w.condition(types::RECONCILING).is_none() {
                w.mark(
                    types::RECONCILING,
                    "True",
                    reasons::PROGRESSING_WITH_RETRY,
                    &msg,
                );
            }
            w.finalize();
            write(&w);
            tracing::debug!(gitrepository = %format!("{ns}/{name}"), error = %msg, "fetch failed");
            return (Requeue::Backoff, busy);
        }
    };
    let rev = revision.to_string();
    let path = Artifacts::git_path(&ns, &name, &revision.sha);
    let current = w
        .get("artifact")
        .and_then(|a| a.get("revision"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let stored = ctl.artifacts.tree(&path).is_some_and(|t| t.is_dir());
    if current.as_deref() != Some(rev.as_str()) || !stored {
        let msg = format!("building artifact: new upstream revision '{rev}'");
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
        write(&w);
        let (Some(tarball), Some(tree)) = (ctl.artifacts.tarball(&path), ctl.artifacts.tree(&path))
        else {
            return (Requeue::Backoff, busy);
        };
        match git::store(&ctl.git, &bare, &revision.sha, &tarball, &tree, timeout).await {
            Ok(s) => {
                w.set(
                    "artifact",
                    json!({"revision": rev, "digest": s.digest, "path": path, "url": Artifacts::url(&path),
                        "size": s.size, "lastUpdateTime": store.now_rfc3339()}),
                );
                ctl.artifacts.collect_garbage(&ns, &name, Some(&path));
            }
            Err(e) => {
                w.fail(reasons::STORAGE_OPERATION_FAILED, &e);
                w.finalize();
                write(&w);
                return (Requeue::Backoff, busy);
            }
        }
    }
    let msg = format!("stored artifact for revision '{rev}'");
    w.mark(types::READY, "True", reasons::SUCCEEDED, &msg);
    w.mark(types::ARTIFACT_IN_STORAGE, "True", reasons::SUCCEEDED, &msg);
    for t in [
        types::FETCH_FAILED,
        types::ARTIFACT_OUTDATED,
        types::STALLED,
    ] {
        w.clear(t);
    }
    w.finalize();
    write(&w);
    (Requeue::After(interval), busy)
}
