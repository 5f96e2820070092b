//! Folders with a kustomization file, built by real kustomize.

use std::path::Path;

use super::error::{Error, Result};
use super::{Object, Provenance, RenderOptions, objects_of};
use crate::gitops::yaml::documents;
use crate::process::Cmd;

/// Runs `kubectl kustomize` on `dir` (relative to `root`) and reads its
/// output. `file` is the kustomization file, for provenance.
pub(super) async fn build(
    root: &Path,
    dir: &Path,
    file: &Path,
    opts: &RenderOptions,
) -> Result<Vec<Object>> {
    let out = Cmd::new(&opts.kubectl)
        .arg("kustomize")
        // Flux builds with LoadRestrictionsNone: a kustomization may use
        // files outside its own folder (but inside the source).
        .arg("--load-restrictor=LoadRestrictionsNone")
        .arg(root.join(dir))
        .timeout(opts.timeout)
        .output()
        .await
        .map_err(|source| Error::Kustomize {
            dir: dir.to_owned(),
            source,
        })?;
    let docs = documents::parse(&out.stdout).map_err(|source| Error::KustomizeOutput {
        dir: dir.to_owned(),
        source,
    })?;
    let mut objects = Vec::with_capacity(docs.len());
    for doc in docs {
        if doc.value.is_null() {
            continue;
        }
        let source = Provenance {
            file: file.to_owned(),
            document: doc.index,
            line: None,
            built: true,
        };
        objects_of(doc.value, source, &mut objects)?;
    }
    Ok(objects)
}
