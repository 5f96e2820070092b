//! Helm's release storage, written as Helm's own `--wait` writes it when a
//! release's objects do not become ready in time: the emulation runs helm
//! without `--wait` and judges health on the simulated clock, so when that
//! judgment fails it marks the revision `failed` itself, as Helm's
//! `failRelease` does (status `failed`, description `Release "<name>"
//! failed: <err>` for an install, `Upgrade "<name>" failed: <err>` for an
//! upgrade, `Rollback "<name>" failed: <err>` for a rollback) — so `helm
//! list`, `helm history` and the HelmRelease agree, as on a real cluster.
//!
//! The storage Secret's `release` is base64 of the gzip of the release's
//! JSON; it is read with `gzip -d` and written back gzip-compressed too
//! (`gzip -n -9`), as Helm writes it.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::process::Cmd;
use crate::sim::storage::store::{Gvr, ObjectRef, Store, WriteOptions};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const GZIP: &[u8] = &[0x1f, 0x8b, 0x08];
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

async fn gunzip(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if !bytes.starts_with(GZIP) {
        return Ok(bytes);
    }
    let out = Cmd::new("gzip")
        .args(["-d", "-c"])
        .stdin(bytes)
        .timeout(TOOL_TIMEOUT)
        .output()
        .await
        .map_err(|e| format!("gzip -d: {e}"))?;
    Ok(out.stdout.into_bytes())
}

async fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let dir = tempfile::Builder::new()
        .prefix("gameday-helm-storage-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let file = dir.path().join("release");
    std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
    Cmd::new("gzip")
        .args(["-n", "-9", "-f"])
        .arg(&file)
        .timeout(TOOL_TIMEOUT)
        .output()
        .await
        .map_err(|e| format!("gzip: {e}"))?;
    std::fs::read(dir.path().join("release.gz")).map_err(|e| e.to_string())
}

/// The verb of a failed action in Helm's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// `Release "<name>" failed: …`.
    Install,
    /// `Upgrade "<name>" failed: …`.
    Upgrade,
    /// `Rollback "<name>" failed: …`.
    Rollback,
}

/// Marks revision `version` of `release` in `namespace` failed with
/// `err`, as Helm's `failRelease` does.
///
/// # Errors
/// The storage Secret is missing or does not decode.
pub async fn mark_failed(
    store: &Store,
    namespace: &str,
    release: &str,
    version: u32,
    action: Failed,
    err: &str,
) -> Result<(), String> {
    let name = format!("sh.helm.release.v1.{release}.v{version}");
    let r = ObjectRef::namespaced(Gvr::core("secrets"), namespace, &name);
    let secret = store.get(&r).map_err(|e| e.to_string())?;
    let data = secret
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{name} holds no release"))?;
    let payload = B64.decode(data).map_err(|e| format!("{name}: {e}"))?;
    let packed = B64.decode(&payload).map_err(|e| format!("{name}: {e}"))?;
    let json_bytes = gunzip(packed).await?;
    let mut rel: Value = serde_json::from_slice(&json_bytes).map_err(|e| format!("{name}: {e}"))?;
    let verb = match action {
        Failed::Install => "Release",
        Failed::Upgrade => "Upgrade",
        Failed::Rollback => "Rollback",
    };
    rel["info"]["status"] = json!("failed");
    rel["info"]["description"] = json!(format!("{verb} \"{release}\" failed: {err}"));
    let text = serde_json::to_vec(&rel).map_err(|e| e.to_string())?;
    let packed = gzip(&text).await?;
    let encoded = B64.encode(B64.encode(packed));
    let modified = store.clock().now().as_second().to_string();
    store
        .mutate(&r, false, &WriteOptions::manager("helm"), |s| {
            s["data"]["release"] = json!(encoded);
            s["metadata"]["labels"]["status"] = json!("failed");
            s["metadata"]["labels"]["modifiedAt"] = json!(modified);
            Ok(())
        })
        .map(drop)
        .map_err(|e| e.to_string())
}
