//! Reading the manifests a person applies by hand: every object of a YAML
//! file, or of a folder's YAML files.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why manifests could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::gitops::yaml::ParseError,
    },
    /// A document lacks apiVersion, kind or metadata.name.
    #[error("{path}: document {index} needs apiVersion, kind and metadata.name")]
    Incomplete {
        /// The file.
        path: PathBuf,
        /// 0-based document index.
        index: usize,
    },
}

/// Every object in a YAML file, or in the `*.yaml`/`*.yml` files of a
/// folder (recursively, in name order); empty documents skipped.
///
/// # Errors
/// When a file cannot be read or parsed, or a document is incomplete.
pub fn read_manifests(path: &Path) -> Result<Vec<Value>, Error> {
    let mut files = Vec::new();
    collect(path, &mut files).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| Error::Read {
            path: file.clone(),
            source,
        })?;
        let docs = crate::gitops::yaml::documents::parse(&text).map_err(|source| Error::Parse {
            path: file.clone(),
            source,
        })?;
        for doc in docs {
            if doc.value.is_null() {
                continue;
            }
            let complete = ["/apiVersion", "/kind", "/metadata/name"].iter().all(|p| {
                doc.value
                    .pointer(p)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            });
            if !complete {
                return Err(Error::Incomplete {
                    path: file.clone(),
                    index: doc.index,
                });
            }
            out.push(doc.value);
        }
    }
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                collect(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
        Ok(())
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_hand_made_fixture() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/manual/hand-made-configmap.yaml");
        let docs = read_manifests(&p).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["metadata"]["name"], "hand-made-config");
    }

    #[test]
    fn incomplete_documents_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.yaml");
        std::fs::write(&f, "apiVersion: v1\nkind: ConfigMap\n---\n").unwrap();
        let e = read_manifests(&f).unwrap_err();
        assert!(
            e.to_string()
                .contains("document 0 needs apiVersion, kind and metadata.name"),
            "{e}"
        );
        assert!(read_manifests(&dir.path().join("missing.yaml")).is_err());
    }
}
