//! The steps of a HelmRepository reconcile, in source-controller's order
//! (`internal/controller/helmrepository_controller.go`):
//!
//! 1. `Reconciling` for a new generation; `type: oci` is static (its
//!    status emptied, its artifacts dropped, no conditions: the HelmCharts
//!    pull from the registry); an URL that is not `http(s)://` stalls
//!    (`URLInvalid`; an `oci://` URL: "'oci' URL scheme cannot be used
//!    with 'default' HelmRepository type");
//! 2. fetch `<url>/index.yaml` (mirror or HTTP): a failure is
//!    `FetchFailed=True` and `Ready=False` `Failed` "failed to fetch Helm
//!    repository index: …", retried with backoff, the old artifact kept;
//!    an index that does not load is `IndexationFailed`;
//! 3. a new revision (sha256 of the index): `ArtifactOutdated`
//!    `NewRevision` when one was stored, `Reconciling`/`Ready=Unknown`
//!    "building artifact: new index revision '…'"; the index is stored;
//! 4. `Ready=True`/`ArtifactInStorage=True` `Succeeded` "stored artifact:
//!    revision 'sha256:…'", `status.artifact`, `status.url`; requeue at
//!    `spec.interval` (1m when unset).

use std::time::Duration;

use serde_json::{Value, json};

use super::{DEFAULT_TIMEOUT, HelmRepositoryController, KIND_DIR};
use crate::flux::duration;
use crate::gitops::helm::index::{Index, hex, of_folder};
use crate::gitops::mirror;
use crate::sim::flux::artifacts::Artifacts;
use crate::sim::flux::reconcile::{Failure, Outcome, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::status::{reasons, types};

/// source-controller's reasons of a failed index fetch.
pub mod helm_repository_reasons {
    /// The index could not be fetched.
    pub const FAILED: &str = "Failed";
    /// The index could not be loaded.
    pub const INDEXATION_FAILED: &str = "IndexationFailed";
}
use helm_repository_reasons as r;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

fn text<'a>(o: &'a Value, p: &str) -> Option<&'a str> {
    o.pointer(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The steps (see the module docs).
pub(super) async fn reconcile(ctl: &HelmRepositoryController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let dur = |p: &str| text(&obj, p).and_then(|d| duration::parse(d).ok());
    let interval = dur("/spec/interval")
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_INTERVAL);
    let timeout = dur("/spec/timeout").unwrap_or(DEFAULT_TIMEOUT);
    crate::sim::flux::source::new_generation(&mut pass.w);
    let url = text(&obj, "/spec/url").unwrap_or_default().to_owned();
    if text(&obj, "/spec/type") == Some("oci") {
        // Static, as in source-controller: no artifact, an empty status,
        // no conditions; its HelmCharts pull from the registry.
        ctl.artifacts
            .collect_garbage_of(KIND_DIR, pass.namespace(), pass.name(), None);
        pass.w.obj["status"] = json!({});
        return Ok(Outcome::Waiting(Requeue::Never));
    }
    if url.starts_with("oci://") {
        return Err(Failure::stalled(
            reasons::URL_INVALID,
            "'oci' URL scheme cannot be used with 'default' HelmRepository type",
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        let msg = format!(
            "invalid Helm repository URL '{}': spec.url must match ^(http|https|oci)://",
            crate::process::redact(&url)
        );
        return Err(Failure::stalled(reasons::URL_INVALID, msg));
    }
    pass.w.clear(types::STALLED);
    pass.write();

    let bytes = fetch_index(ctl, &url, timeout).await.map_err(|e| {
        let msg = format!("failed to fetch Helm repository index: {e}");
        Failure::new(r::FAILED, msg, Requeue::Backoff)
    })?;
    Index::parse(&bytes).map_err(|e| {
        let msg = format!("failed to load Helm repository from index YAML: {e}");
        Failure::new(r::INDEXATION_FAILED, msg, Requeue::Backoff)
    })?;
    let digest = format!(
        "sha256:{}",
        hex(&ring::digest::digest(&ring::digest::SHA256, &bytes))
    );
    store(ctl, pass, &bytes, &digest)?;
    let msg = format!("stored artifact: revision '{digest}'");
    Ready::new(reasons::SUCCEEDED, msg, Requeue::After(interval)).done()
}

/// `<url>/index.yaml`, from a mirror (indexing a mirror folder that has
/// none) or over HTTP(S).
async fn fetch_index(
    ctl: &HelmRepositoryController,
    url: &str,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let index_url = format!("{}/index.yaml", url.trim_end_matches('/'));
    if let Some(folder) = ctl.mirrors.resolve(url).filter(|f| f.is_dir())
        && !folder.join("index.yaml").exists()
    {
        let mut cache = ctl.generated.lock().await;
        if let Some(b) = cache.get(&folder) {
            return Ok(b.clone());
        }
        let index = of_folder(&folder).await.map_err(|e| {
            format!(
                "{index_url} (mirrored by {}, indexed by gameday): {e}",
                folder.display()
            )
        })?;
        let bytes = serde_yaml::to_string(&index)
            .map_err(|e| e.to_string())?
            .into_bytes();
        cache.insert(folder, bytes.clone());
        return Ok(bytes);
    }
    mirror::fetch(&ctl.mirrors, &index_url, timeout)
        .await
        .map_err(|e| e.to_string())
}

/// Stores the index unless it is the artifact already.
fn store(
    ctl: &HelmRepositoryController,
    pass: &mut Pass<'_>,
    bytes: &[u8],
    digest: &str,
) -> Result<(), Failure> {
    let (ns, name) = (pass.namespace().to_owned(), pass.name().to_owned());
    let hexed = digest.trim_start_matches("sha256:");
    let path = format!("{KIND_DIR}/{ns}/{name}/index-{hexed}.yaml");
    let current = pass
        .w
        .get("artifact")
        .and_then(|a| a.get("revision"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let file = ctl.artifacts.tarball(&path).ok_or_else(|| {
        Failure::new(
            reasons::STORAGE_OPERATION_FAILED,
            format!("artifact path '{path}' is outside the storage"),
            Requeue::Backoff,
        )
    })?;
    if current.as_deref() == Some(digest) && file.is_file() {
        return Ok(());
    }
    let msg = format!("new index revision '{digest}'");
    if current.is_some() {
        pass.w.mark(
            types::ARTIFACT_OUTDATED,
            "True",
            reasons::NEW_REVISION,
            &msg,
        );
    }
    let building = format!("building artifact: {msg}");
    pass.w
        .mark(types::RECONCILING, "True", reasons::PROGRESSING, &building);
    pass.w
        .mark(types::READY, "Unknown", reasons::PROGRESSING, &building);
    pass.write();
    let failed = |e: std::io::Error| {
        Failure::new(
            reasons::STORAGE_OPERATION_FAILED,
            format!("failed to store artifact: {e}"),
            Requeue::Backoff,
        )
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(&file, bytes).map_err(failed)?;
    let now = pass.store().now_rfc3339();
    pass.w.set(
        "artifact",
        json!({"path": path, "url": Artifacts::url(&path), "revision": digest,
            "digest": digest, "lastUpdateTime": now, "size": bytes.len()}),
    );
    pass.w.set(
        "url",
        json!(Artifacts::url(&format!(
            "{KIND_DIR}/{ns}/{name}/index.yaml"
        ))),
    );
    ctl.artifacts
        .collect_garbage_of(KIND_DIR, &ns, &name, Some(&path));
    Ok(())
}
