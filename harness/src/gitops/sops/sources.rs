//! SOPS-encrypted build sources, decrypted before the build as Flux does:
//! in every kustomization file reachable from the path through local
//! `resources` and `components`, the `secretGenerator` `files` (format by
//! the key's extension), `envs`/`env` (dotenv unless the extension says
//! otherwise) and local `patches[].path` files that carry a SOPS marker.
//!
//! Flux decrypts in its own temporary copy of the artifact; gameday copies
//! the tree into a scratch folder only when there is something to decrypt,
//! and never writes into the artifact.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::{Decryptor, Error, Format};
use crate::gitops::render::KUSTOMIZATION_FILES;

/// An encrypted source file: its path relative to the tree, and format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Relative to the tree's root.
    pub file: PathBuf,
    /// The format it is decrypted in (and written back in).
    pub format: Format,
}

/// The encrypted sources the build of `path` (relative to `root`) reads.
/// Files outside the tree, remote resources and unreadable
/// kustomization files are left to the build to report.
pub fn find(root: &Path, path: &Path) -> Vec<Source> {
    let mut found = Vec::new();
    let mut visited = Vec::new();
    visit(root, &normal(path), &mut visited, &mut found);
    found
}

fn visit(root: &Path, dir: &Path, visited: &mut Vec<PathBuf>, found: &mut Vec<Source>) {
    if visited.iter().any(|d| d == dir) {
        return;
    }
    visited.push(dir.to_owned());
    let Some(text) = KUSTOMIZATION_FILES
        .iter()
        .find_map(|f| std::fs::read_to_string(root.join(dir).join(f)).ok())
    else {
        return;
    };
    let Ok(kus) = serde_yaml::from_str::<Value>(&text) else {
        return;
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let mut refs: Vec<(String, Format)> = Vec::new();
    for generator in kus
        .get("secretGenerator")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for file in strings(generator.get("files")) {
            let (key, file) = file.split_once('=').unwrap_or((&file, &file));
            refs.push((file.to_owned(), Format::for_path(key)));
        }
        let mut envs = strings(generator.get("envs"));
        envs.extend(
            generator
                .get("env")
                .and_then(Value::as_str)
                .map(str::to_owned),
        );
        for env in envs {
            let format = match Format::for_path(&env) {
                Format::Binary => Format::Dotenv,
                f => f,
            };
            refs.push((env, format));
        }
    }
    for patch in kus
        .get("patches")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(p) = patch
            .get("path")
            .and_then(Value::as_str)
            .filter(|p| !p.contains("://"))
        {
            refs.push((p.to_owned(), Format::for_path(p)));
        }
    }
    for (file, format) in refs {
        let rel = normal(&dir.join(&file));
        if rel.starts_with("..") || found.iter().any(|s: &Source| s.file == rel) {
            continue;
        }
        let encrypted = std::fs::read(root.join(&rel)).is_ok_and(|d| format.is_encrypted(&d));
        if encrypted {
            found.push(Source { file: rel, format });
        }
    }
    let mut children = strings(kus.get("resources"));
    children.extend(strings(kus.get("components")));
    for child in children.iter().filter(|c| !c.contains("://")) {
        let rel = normal(&dir.join(child));
        if !rel.starts_with("..") && root.join(&rel).is_dir() {
            visit(root, &rel, visited, found);
        }
    }
}

/// `a/./b/../c` → `a/c` (a leading `..` is kept: outside the tree).
fn normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir if out.file_name().is_some_and(|n| n != "..") => {
                out.pop();
            }
            Component::ParentDir => out.push(".."),
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// A tree ready to build: the artifact itself when nothing needs
/// decrypting, else a scratch copy with the sources decrypted.
#[derive(Debug)]
pub struct Prepared {
    /// The root to build from.
    pub root: PathBuf,
    _copy: Option<tempfile::TempDir>,
}

/// Decrypts the encrypted sources of `path` (see the module docs).
///
/// # Errors
/// `error decrypting sources: …` as [`Error::Sops`] (with the file), or
/// [`Error::Scratch`] when the copy fails.
pub async fn prepare(root: &Path, path: &Path, dec: &Decryptor) -> Result<Prepared, Error> {
    let sources = find(root, path);
    if sources.is_empty() {
        return Ok(Prepared {
            root: root.to_owned(),
            _copy: None,
        });
    }
    let copy = tempfile::Builder::new()
        .prefix("tree-")
        .tempdir_in(dec.scratch())
        .map_err(Error::Scratch)?;
    copy_tree(root, copy.path()).map_err(Error::Scratch)?;
    for s in &sources {
        let file = copy.path().join(&s.file);
        let data = std::fs::read(&file).map_err(Error::Scratch)?;
        let out = dec.decrypt(&data, s.format, s.format).await.map_err(|e| {
            Error::Sops(format!(
                "error decrypting sources: {}: {e}",
                s.file.display()
            ))
        })?;
        std::fs::write(&file, out).map_err(Error::Scratch)?;
    }
    Ok(Prepared {
        root: copy.path().to_owned(),
        _copy: Some(copy),
    })
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            std::fs::create_dir(&dst)?;
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_generator_and_patch_sources_through_resources() {
        let tmp = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let f = tmp.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, s).unwrap();
        };
        w(
            "app/kustomization.yaml",
            "resources: [../base]\nsecretGenerator:\n- name: s\n  envs: [app.env]\n  files: [cfg.yaml=secret.bin, plain.txt]\npatches:\n- path: p.yaml\n",
        );
        w("app/app.env", "A=ENC[x]\nsops_mac=ENC[y]\n");
        w("app/secret.bin", "x: 1\nsops:\n  mac: ENC[z]\n");
        w("app/plain.txt", "not encrypted");
        w("app/p.yaml", "kind: X");
        w(
            "base/kustomization.yaml",
            "secretGenerator:\n- name: t\n  files: [k.json]\n",
        );
        w("base/k.json", "{\"sops\": {\"mac\": \"ENC[z]\"}}");
        let found = find(tmp.path(), Path::new("./app"));
        let got: Vec<(String, Format)> = found
            .iter()
            .map(|s| (s.file.display().to_string(), s.format))
            .collect();
        assert_eq!(
            got,
            [
                ("app/secret.bin".to_owned(), Format::Yaml),
                ("app/app.env".to_owned(), Format::Dotenv),
                ("base/k.json".to_owned(), Format::Json),
            ]
        );
        assert!(find(tmp.path(), Path::new("base/../nothing")).is_empty());
    }
}
