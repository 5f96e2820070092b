//! `bootstrap.secrets`: what Git cannot hold (a SOPS key, a deploy key),
//! restored from files before the first reconciliation, as Secrets — in
//! this one place, whichever method bootstraps ([`restore`]).

use base64::Engine;
use serde_json::json;

use super::{Error, Result};
use crate::gitops::apply::{Applier, Manifest};
use crate::scenario::model::SecretSource;

/// Restores `secrets` (with their namespaces) through `applier`.
///
/// # Errors
/// [`Error::SecretFile`] when a file cannot be read; [`Error::Apply`]
/// when the Secrets do not apply.
pub async fn restore(applier: &Applier, secrets: &[SecretSource]) -> Result<()> {
    let restored = manifests(secrets)?;
    if !restored.is_empty() {
        applier
            .apply(restored)
            .await
            .check()
            .map_err(|source| Error::Apply {
                step: "restoring bootstrap.secrets",
                source,
            })?;
    }
    Ok(())
}

/// The manifests of `secrets`: each Secret (type `Opaque`, the file's
/// bytes under its key) preceded by its Namespace, so that a secret for a
/// namespace the repository creates later can be restored first.
///
/// # Errors
/// [`Error::SecretFile`] when a file cannot be read.
fn manifests(secrets: &[SecretSource]) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    let mut namespaces = std::collections::BTreeSet::new();
    for s in secrets {
        let bytes = std::fs::read(&s.from_file).map_err(|source| Error::SecretFile {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            file: s.from_file.clone(),
            source,
        })?;
        if namespaces.insert(s.namespace.clone()) {
            out.push(
                Manifest::new(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": s.namespace}}))
                    .with_origin(format!("spec.bootstrap.secrets (namespace of {}/{})", s.namespace, s.name)),
            );
        }
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        out.push(
            Manifest::new(
                json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": s.name, "namespace": s.namespace},
                "data": {s.key.clone(): data}}),
            )
            .with_origin(format!(
                "spec.bootstrap.secrets ({})",
                s.from_file.display()
            )),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_carry_the_file_under_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("age.agekey");
        std::fs::write(&file, "AGE-SECRET-KEY-1").unwrap();
        let m = manifests(&[SecretSource {
            namespace: "flux-system".into(),
            name: "sops-age".into(),
            from_file: file,
            key: "age.agekey".into(),
        }])
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].object["kind"], "Namespace");
        assert_eq!(
            m[1].object["data"]["age.agekey"],
            "QUdFLVNFQ1JFVC1LRVktMQ=="
        );
        let missing = manifests(&[SecretSource {
            namespace: "n".into(),
            name: "s".into(),
            from_file: "/nonexistent/key".into(),
            key: "k".into(),
        }]);
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/key for Secret n/s")
        );
    }
}
