//! A Flux Kustomization's build, as kustomize-controller does it
//! (fluxcd/pkg `kustomize/kustomize_generator.go`): the kustomization file
//! of `spec.path` — its own, or one generated for a plain folder, listing
//! every manifest and every sub-folder with its own kustomization file —
//! gets the Kustomization's `targetNamespace` (as `namespace`),
//! `namePrefix`/`nameSuffix`, `patches` (strategic-merge and JSON6902,
//! with `target` selectors), `images` and `components` (with
//! `ignoreMissingComponents`) laid over it (`overlay.rs`), and real
//! kustomize (`kubectl kustomize`) builds it. The file is rewritten in a
//! scratch copy of the source, never in the artifact.
//!
//! A spec without those fields builds the path as [`super::render_with`]
//! does, without a copy: the result is the same, and it keeps the file and
//! line of every object of a plain folder.
//!
//! `commonMetadata` is not part of the build: kustomize-controller sets it
//! on every object after decryption and post-build substitution, just
//! before applying ([`set_common_metadata`]).

mod overlay;
mod scratch;
mod spec;

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

pub use spec::{BuildSpec, CommonMetadata, Image, Patch, Selector};

use super::plain::{self, Entry};
use super::{
    Error, KUSTOMIZATION_FILES, Method, Object, RenderOptions, Rendered, check_duplicates,
    kustomization_file, kustomize, locate,
};

/// Why a Kustomization could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Reading the path or running kustomize failed.
    #[error(transparent)]
    Render(#[from] Error),
    /// A component is an absolute path or leaves the source.
    #[error(
        "component path '{component}' must be local and relative to spec.path, inside the source; fix spec.components"
    )]
    Component {
        /// The component as given.
        component: String,
    },
    /// The path's kustomization file is not a YAML mapping.
    #[error("{}: not a kustomization file (a YAML mapping is expected)", .file.display())]
    NotAKustomization {
        /// The file, relative to the source root.
        file: PathBuf,
    },
    /// The path's kustomization file is not valid YAML.
    #[error("{}: invalid YAML", .file.display())]
    KustomizationYaml {
        /// The file, relative to the source root.
        file: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_yaml::Error,
    },
    /// The scratch copy could not be made or written.
    #[error("could not prepare the build in a scratch copy of the source")]
    Scratch {
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Builds `path` of the source at `root` as kustomize-controller builds a
/// Kustomization with `spec` (see the module docs). `commonMetadata` is
/// left to [`set_common_metadata`].
///
/// # Errors
/// See [`BuildError`]: everything [`super::render_with`] fails on, an
/// invalid component, an unreadable kustomization file, a kustomize
/// failure (a patch that matches nothing it names, a missing component).
pub async fn build(
    root: &Path,
    path: &str,
    spec: &BuildSpec,
    opts: &RenderOptions,
) -> Result<Rendered, BuildError> {
    if !spec.overlays() {
        return Ok(super::render_with(root, path, opts).await?);
    }
    let rel = locate(root, path).await?;
    let components = components(root, &rel, spec)?;
    let (root_owned, rel_owned, spec_owned) = (root.to_owned(), rel.clone(), spec.clone());
    let (scratch, file) = tokio::task::spawn_blocking(move || {
        let scratch =
            scratch::copy(&root_owned).map_err(|source| BuildError::Scratch { source })?;
        let file = write_kustomization(scratch.path(), &rel_owned, &spec_owned, &components)?;
        Ok::<_, BuildError>((scratch, file))
    })
    .await
    .map_err(|e| BuildError::Scratch {
        source: std::io::Error::other(e.to_string()),
    })??;
    let objects = kustomize::build(scratch.path(), &rel, &file, opts).await?;
    check_duplicates(&objects)?;
    Ok(Rendered {
        path: rel,
        method: Method::Kustomize,
        objects,
    })
}

/// Sets `commonMetadata` on every object, replacing labels and annotations
/// of the same keys, as kustomize-controller does before applying.
pub fn set_common_metadata(objects: &mut [Object], metadata: &CommonMetadata) {
    for o in objects {
        let Some(obj) = o.manifest.as_object_mut() else {
            continue;
        };
        let meta = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(meta) = meta.as_object_mut() else {
            continue;
        };
        for (field, pairs) in [
            ("labels", &metadata.labels),
            ("annotations", &metadata.annotations),
        ] {
            if pairs.is_empty() {
                continue;
            }
            let slot = meta
                .entry(field)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Some(map) = slot.as_object_mut() {
                for (k, v) in pairs {
                    map.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
    }
}

/// The components to append: local relative paths (checked to stay in the
/// source), without the missing ones when `ignoreMissingComponents`.
fn components(root: &Path, rel: &Path, spec: &BuildSpec) -> Result<Vec<String>, BuildError> {
    let mut kept = Vec::with_capacity(spec.components.len());
    for c in &spec.components {
        let invalid = || BuildError::Component {
            component: c.clone(),
        };
        if Path::new(c).is_absolute() || c.contains("://") {
            return Err(invalid());
        }
        let mut inside = rel.to_owned();
        for part in Path::new(c).components() {
            match part {
                Component::Normal(p) => inside.push(p),
                Component::CurDir => {}
                Component::ParentDir => {
                    if !inside.pop() {
                        return Err(invalid());
                    }
                }
                Component::RootDir | Component::Prefix(_) => return Err(invalid()),
            }
        }
        if spec.ignore_missing_components && !root.join(&inside).exists() {
            continue;
        }
        kept.push(c.clone());
    }
    Ok(kept)
}

/// Writes the kustomization file of `rel` in the scratch tree `root` with
/// the spec laid over it; returns it (relative to `root`).
fn write_kustomization(
    root: &Path,
    rel: &Path,
    spec: &BuildSpec,
    components: &[String],
) -> Result<PathBuf, BuildError> {
    let dir = root.join(rel);
    let (name, mut kus) = match kustomization_file(&dir) {
        Some(name) => {
            let file = rel.join(name);
            let text = std::fs::read_to_string(dir.join(name)).map_err(|source| Error::Read {
                path: file.clone(),
                source,
            })?;
            let value: Value =
                serde_yaml::from_str(&text).map_err(|source| BuildError::KustomizationYaml {
                    file: file.clone(),
                    source,
                })?;
            match value {
                Value::Object(map) => (name, map),
                Value::Null => (name, Map::new()),
                _ => return Err(BuildError::NotAKustomization { file }),
            }
        }
        None => (
            KUSTOMIZATION_FILES[0],
            overlay::generated(&resources(root, rel)?),
        ),
    };
    overlay::apply(&mut kus, spec, components);
    let text = serde_yaml::to_string(&Value::Object(kus)).map_err(|e| BuildError::Scratch {
        source: std::io::Error::other(e.to_string()),
    })?;
    scratch::replace(&dir.join(name), &text).map_err(|source| BuildError::Scratch { source })?;
    Ok(rel.join(name))
}

/// The resources of the kustomization Flux generates for the plain folder
/// `rel`, relative to it (`./deploy.yaml`, `./sub/app`).
fn resources(root: &Path, rel: &Path) -> Result<Vec<String>, BuildError> {
    let local = |p: &Path| {
        let inner = p.strip_prefix(rel).unwrap_or(p);
        format!("./{}", inner.display())
    };
    Ok(plain::list(root, rel)?
        .iter()
        .map(|e| match e {
            Entry::File(file) => local(file),
            Entry::Kustomize { dir, .. } => local(dir),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(manifest: Value) -> Object {
        Object {
            manifest,
            source: super::super::Provenance {
                file: "a.yaml".into(),
                document: 0,
                line: None,
                built: true,
            },
        }
    }

    #[test]
    fn common_metadata_overrides_keys_and_keeps_others() {
        let mut objects = vec![
            object(
                json!({"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"team": "old", "app": "x"}}}),
            ),
            object(json!({"kind": "ConfigMap", "metadata": {"name": "b"}})),
        ];
        let md = CommonMetadata {
            labels: [("team".to_owned(), "new".to_owned())].into(),
            annotations: [("owner".to_owned(), "sre".to_owned())].into(),
        };
        set_common_metadata(&mut objects, &md);
        assert_eq!(
            objects[0].manifest["metadata"]["labels"],
            json!({"team": "new", "app": "x"})
        );
        assert_eq!(
            objects[1].manifest["metadata"]["annotations"],
            json!({"owner": "sre"})
        );
    }

    #[test]
    fn components_stay_local() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("components/ha")).unwrap();
        let spec = |c: &[&str], ignore| BuildSpec {
            components: c.iter().map(|s| (*s).to_owned()).collect(),
            ignore_missing_components: ignore,
            ..BuildSpec::default()
        };
        let rel = Path::new("apps/web");
        let kept = components(
            root.path(),
            rel,
            &spec(&["../../components/ha", "../../nope"], true),
        );
        assert_eq!(kept.unwrap(), ["../../components/ha"]);
        let kept = components(root.path(), rel, &spec(&["../../nope"], false)).unwrap();
        assert_eq!(kept, ["../../nope"], "kustomize reports it");
        for bad in ["/etc", "../../../x", "https://example.com/c"] {
            let err = components(root.path(), rel, &spec(&[bad], false)).unwrap_err();
            assert!(err.to_string().contains(&format!("'{bad}'")), "{err}");
        }
    }
}
