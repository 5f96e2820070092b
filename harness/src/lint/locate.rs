//! Where a finding points: the file and line a person edits.
//!
//! The tree gives every object its [`Provenance`](crate::gitops::render::Provenance):
//! for plain YAML the file and the document's first line, for kustomize
//! output only the `kustomization.yaml` that was built. The line index
//! reads every YAML file of the checkout once and finds an object's own
//! document by kind and name, so a finding on a kustomize-built
//! Deployment points into `deployment.yaml`, not its kustomization. Within
//! the document, the line holding a needle (the image, the referenced
//! name, `prune:`) is the line reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::gitops::render::Object;
use crate::gitops::yaml::documents;

/// Largest file indexed (a manifest dump larger than this is not edited by hand).
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// One document of a YAML file of the checkout.
#[derive(Debug)]
struct Doc {
    file: PathBuf,
    /// 1-based first line.
    line: usize,
    text: String,
    kind: String,
    name: String,
}

/// The documents of every YAML file of a checkout, by kind and name.
///
/// Looked up through hash maps (a finding costs the same in a checkout of
/// 100 documents and of 100,000), each keeping the documents in walk
/// order, so the first match is the one a scan would find.
#[derive(Debug, Default)]
pub struct Index {
    docs: Vec<Doc>,
    /// (file, first line) → document.
    by_place: HashMap<(PathBuf, usize), usize>,
    /// (kind, name) → documents.
    by_object: HashMap<(String, String), Vec<usize>>,
    /// file → documents.
    by_file: HashMap<PathBuf, Vec<usize>>,
}

/// A place in the checkout: a file relative to its root, a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// The file, relative to the checkout.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl Index {
    /// Reads every `*.yaml`/`*.yml` file under `root` (`.git` and other
    /// hidden folders skipped); files that do not parse are left out.
    pub fn build(root: &Path) -> Index {
        let mut index = Index::default();
        index.walk(root, Path::new(""));
        for (i, d) in index.docs.iter().enumerate() {
            index.by_place.entry((d.file.clone(), d.line)).or_insert(i);
            index
                .by_object
                .entry((d.kind.clone(), d.name.clone()))
                .or_default()
                .push(i);
            index.by_file.entry(d.file.clone()).or_default().push(i);
        }
        index
    }

    fn walk(&mut self, root: &Path, rel: &Path) {
        let Ok(read) = std::fs::read_dir(root.join(rel)) else {
            return;
        };
        let mut entries: Vec<_> = read.filter_map(Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let name = e.file_name();
            let rel = rel.join(&name);
            let Ok(kind) = e.file_type() else { continue };
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            if kind.is_dir() {
                self.walk(root, &rel);
            } else if kind.is_file()
                && rel.extension().is_some_and(|x| x == "yaml" || x == "yml")
                && e.metadata().is_ok_and(|m| m.len() <= MAX_FILE_BYTES)
            {
                self.add_file(root, &rel);
            }
        }
    }

    fn add_file(&mut self, root: &Path, rel: &Path) {
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
            return;
        };
        for span in documents::split(&text) {
            let body = &text[span.range.clone()];
            let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(body) else {
                continue;
            };
            let field = |k: &str| {
                value
                    .get(k)
                    .and_then(serde_yaml::Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let name = value
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(serde_yaml::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            self.docs.push(Doc {
                file: rel.to_owned(),
                line: span.line,
                text: body.to_owned(),
                kind: field("kind"),
                name,
            });
        }
    }

    /// Where `object` (of the unit at `unit_path`) is written, at the line
    /// holding `needle` when its document has one (else the document's
    /// first line).
    pub fn locate(&self, object: &Object, unit_path: &str, needle: Option<&str>) -> Place {
        let source = &object.source;
        if !source.built
            && let Some(line) = source.line
            && let Some(&i) = self.by_place.get(&(source.file.clone(), line))
        {
            return place_in(&self.docs[i], needle);
        }
        // Built by kustomize: the object's own document, preferably under
        // the unit's path (the same name may be written in other overlays).
        let unit = unit_path.trim_start_matches("./").trim_end_matches('/');
        let same = self
            .by_object
            .get(&(object.kind().to_owned(), object.name().to_owned()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let found = same
            .iter()
            .map(|&i| &self.docs[i])
            .find(|d| unit.is_empty() || d.file.starts_with(unit))
            .or_else(|| same.first().map(|&i| &self.docs[i]));
        if let Some(doc) = found {
            return place_in(doc, needle);
        }
        // Generated (secretGenerator) or renamed (namePrefix): the file
        // that built it, at the needle or its name when written there.
        let line = self
            .by_file
            .get(&source.file)
            .into_iter()
            .flatten()
            .map(|&i| &self.docs[i])
            .find_map(|d| {
                needle
                    .and_then(|n| line_of(&d.text, n))
                    .map(|offset| d.line + offset)
            })
            .or(source.line)
            .unwrap_or(1);
        Place {
            file: source.file.clone(),
            line,
        }
    }
}

fn place_in(doc: &Doc, needle: Option<&str>) -> Place {
    let offset = needle.and_then(|n| line_of(&doc.text, n)).unwrap_or(0);
    // A document's span starts at its `---` marker; point at its content.
    let marker = usize::from(doc.text.starts_with("---"));
    Place {
        file: doc.file.clone(),
        line: doc.line + offset.max(marker),
    }
}

/// 0-based line offset of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::render::Provenance;

    #[test]
    fn finds_the_objects_own_document_and_the_needles_line() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("app")).unwrap();
        std::fs::write(
            tmp.path().join("app/all.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - image: nginx:latest\n",
        )
        .unwrap();
        let index = Index::build(tmp.path());
        let built = Object {
            manifest: serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
            source: Provenance {
                file: PathBuf::from("app/kustomization.yaml"),
                document: 3,
                line: None,
                built: true,
            },
        };
        let p = index.locate(&built, "./app", Some("image:"));
        assert_eq!(p.file, PathBuf::from("app/all.yaml"));
        assert_eq!(p.line, 13);
        assert_eq!(index.locate(&built, "./app", None).line, 5);
        let unknown = Object {
            manifest: serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gen-x1"}}),
            source: built.source.clone(),
        };
        let p = index.locate(&unknown, "./app", Some("gen"));
        assert_eq!(
            (p.file, p.line),
            (PathBuf::from("app/kustomization.yaml"), 1)
        );
    }
}
