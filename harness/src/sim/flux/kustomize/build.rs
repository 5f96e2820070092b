//! The build step of a Kustomization reconcile, in Flux's order: SOPS
//! sources decrypted in a scratch copy of the tree (when
//! `spec.decryption` is set and the build reads encrypted files), the
//! build as kustomize-controller builds it ([`fluxbuild`]), then per
//! object SOPS decryption ([`decrypt_objects`]), post-build substitution
//! ([`substitute_objects`]) and `commonMetadata`. Every failure is
//! `BuildFailed` with Flux's message.
//!
//! The keys (`decryption.secretRef`) and the variables
//! (`postBuild.substituteFrom`) are read from the cluster, in the
//! Kustomization's namespace, at each reconcile.

use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use super::spec::{Decryption, PostBuild, Spec};
use crate::gitops::render::fluxbuild;
use crate::gitops::render::substitute::{self, Variables};
use crate::gitops::render::{Object, RenderOptions};
use crate::gitops::sops::{self, Decryptor, Keys};
use crate::sim::storage::store::{Gvr, ObjectRef, Store};

/// Builds `spec.path` of the artifact tree `tree` (see the module docs).
///
/// # Errors
/// The `BuildFailed` message.
pub(super) async fn build(
    store: &Store,
    namespace: &str,
    spec: &Spec,
    tree: &Path,
    opts: &RenderOptions,
) -> Result<Vec<Object>, String> {
    let decryptor = match &spec.decryption {
        Some(d) => Some(decryptor(store, namespace, d, opts).await?),
        None => None,
    };
    let prepared = match &decryptor {
        Some(dec) => Some(
            sops::sources::prepare(tree, Path::new(&spec.path), dec)
                .await
                .map_err(|e| crate::error_chain::one_line(&e))?,
        ),
        None => None,
    };
    let root = prepared.as_ref().map_or(tree, |p| p.root.as_path());
    let rendered = fluxbuild::build(root, &spec.path, &spec.build, opts)
        .await
        .map_err(|e| {
            format!(
                "kustomize build failed: {}",
                crate::error_chain::one_line(&e)
            )
        })?;
    let mut objects = rendered.objects;
    if let Some(dec) = &decryptor {
        decrypt_objects(&mut objects, dec).await?;
    }
    if let Some(pb) = &spec.post_build {
        substitute_objects(&mut objects, store, namespace, pb)?;
    }
    if let Some(metadata) = &spec.build.common_metadata {
        fluxbuild::set_common_metadata(&mut objects, metadata);
    }
    Ok(objects)
}

/// The decryptor of `spec.decryption`, with the keys of its Secret.
///
/// # Errors
/// Flux's messages: the Secret's NotFound (`secrets "sops-age" not
/// found`), a key that does not import, a provider other than `sops`.
async fn decryptor(
    store: &Store,
    namespace: &str,
    d: &Decryption,
    opts: &RenderOptions,
) -> Result<Decryptor, String> {
    if d.provider != "sops" {
        return Err(format!(
            "spec.decryption.provider: Unsupported value: \"{}\": supported values: \"sops\"",
            d.provider
        ));
    }
    let keys = match &d.secret {
        Some(name) => {
            let secret = store
                .get(&ObjectRef::namespaced(secrets(), namespace, name))
                .map_err(|e| e.message)?;
            Keys::from_secret(&secret)
        }
        None => Keys::default(),
    };
    Decryptor::new(&keys, &opts.tools)
        .await
        .map_err(|e| crate::error_chain::one_line(&e))
}

/// Decrypts every built object that holds SOPS data (see
/// [`crate::gitops::sops`]).
///
/// # Errors
/// `decryption failed for '<id>': …`, for the first object that fails.
pub async fn decrypt_objects(objects: &mut [Object], dec: &Decryptor) -> Result<(), String> {
    for o in objects.iter_mut() {
        if !sops::needs_decryption(&o.manifest) {
            continue;
        }
        dec.decrypt_object(&mut o.manifest).await.map_err(|e| {
            format!(
                "decryption failed for '{}': {}",
                substitute::flux_id(&o.manifest),
                crate::error_chain::one_line(&e)
            )
        })?;
    }
    Ok(())
}

/// Substitutes `postBuild`'s variables, read from the cluster, in every
/// object (see [`crate::gitops::render::substitute`]).
///
/// # Errors
/// A `substituteFrom` object that is missing and not optional (`substitute
/// from 'ConfigMap/<n>' error: configmaps "<n>" not found`, prefixed with
/// the first object it would have been used for, as Flux loads the
/// variables per object), or a substitution error.
pub fn substitute_objects(
    objects: &mut [Object],
    store: &Store,
    namespace: &str,
    pb: &PostBuild,
) -> Result<(), String> {
    let Some(first) = objects.iter().find(|o| !substitute::disabled(&o.manifest)) else {
        return Ok(());
    };
    let vars = variables(store, namespace, pb).map_err(|e| {
        format!(
            "post build failed for '{}': {e}",
            substitute::flux_id(&first.manifest)
        )
    })?;
    let mut manifests: Vec<Value> = objects
        .iter_mut()
        .map(|o| std::mem::take(&mut o.manifest))
        .collect();
    let result = substitute::substitute_all(&mut manifests, &vars);
    for (o, m) in objects.iter_mut().zip(manifests) {
        o.manifest = m;
    }
    result.map_err(|e| e.to_string())
}

/// The variables of `postBuild`, in Flux's precedence.
///
/// # Errors
/// `substitute from '<Kind>/<name>' error: <NotFound>`.
pub fn variables(store: &Store, namespace: &str, pb: &PostBuild) -> Result<Variables, String> {
    let mut vars = Variables::new();
    for r in &pb.substitute_from {
        let gvr = if r.kind == "Secret" {
            secrets()
        } else {
            Gvr::new("", "v1", "configmaps")
        };
        let obj = match store.get(&ObjectRef::namespaced(gvr, namespace, &r.name)) {
            Ok(o) => o,
            Err(e) if r.optional && e.code == 404 => continue,
            Err(e) => {
                return Err(format!(
                    "substitute from '{}/{}' error: {}",
                    r.kind, r.name, e.message
                ));
            }
        };
        let data = obj.get("data").and_then(Value::as_object);
        let b64 = base64::engine::general_purpose::STANDARD;
        for (k, v) in data.into_iter().flatten() {
            let Some(v) = v.as_str() else { continue };
            let value = if r.kind == "Secret" {
                String::from_utf8_lossy(&b64.decode(v).unwrap_or_default()).into_owned()
            } else {
                v.to_owned()
            };
            vars.extend([(k.clone(), value)]);
        }
    }
    vars.extend(pb.substitute.iter().cloned());
    Ok(vars)
}

fn secrets() -> Gvr {
    Gvr::new("", "v1", "secrets")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::clock::Clock;
    use crate::sim::flux::kustomize::spec::SubstituteRef;
    use crate::sim::storage::kinds::Registry;
    use crate::sim::storage::store::{StoreOptions, WriteOptions};

    fn store() -> Store {
        let store = Store::new(
            Registry::with_builtins(),
            Clock::wall(),
            StoreOptions::default(),
        );
        let w = WriteOptions::manager("test");
        let ns =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}});
        store
            .create(&Gvr::new("", "v1", "namespaces"), None, ns, &w)
            .unwrap();
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
            "data": {"X": "from-a", "Y": "from-a", "Z": "from-a"}});
        store
            .create(
                &Gvr::new("", "v1", "configmaps"),
                Some("flux-system"),
                cm,
                &w,
            )
            .unwrap();
        // Y=from-b, Z=from-b ("line\n" loses its newline).
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"},
            "data": {"Y": "ZnJvbS1i", "Z": "ZnJvbS1i", "N": "bGluZQo="}});
        store
            .create(&secrets(), Some("flux-system"), secret, &w)
            .unwrap();
        store
    }

    fn from(kind: &str, name: &str, optional: bool) -> SubstituteRef {
        SubstituteRef {
            kind: kind.into(),
            name: name.into(),
            optional,
        }
    }

    #[test]
    fn later_sources_win_and_inline_wins_over_all() {
        let pb = PostBuild {
            substitute: vec![("Z".into(), "inline".into())],
            substitute_from: vec![
                from("ConfigMap", "a", false),
                from("Secret", "absent", true),
                from("Secret", "b", false),
            ],
        };
        let vars = variables(&store(), "flux-system", &pb).unwrap();
        assert_eq!(vars.get("X"), Some("from-a"));
        assert_eq!(vars.get("Y"), Some("from-b"));
        assert_eq!(vars.get("Z"), Some("inline"));
        assert_eq!(vars.get("N"), Some("line"));
    }

    #[test]
    fn a_missing_source_fails_unless_optional() {
        let pb = PostBuild {
            substitute: vec![],
            substitute_from: vec![from("ConfigMap", "absent", false)],
        };
        assert_eq!(
            variables(&store(), "flux-system", &pb).unwrap_err(),
            "substitute from 'ConfigMap/absent' error: configmaps \"absent\" not found"
        );
        let mut objects = vec![Object {
            manifest: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
            source: crate::gitops::render::Provenance {
                file: "d.yaml".into(),
                document: 0,
                line: None,
                built: true,
            },
        }];
        assert_eq!(
            substitute_objects(&mut objects, &store(), "flux-system", &pb).unwrap_err(),
            "post build failed for 'apps_v1_Deployment/web': substitute from 'ConfigMap/absent' error: configmaps \"absent\" not found"
        );
    }
}
