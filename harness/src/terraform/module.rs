//! Working copies of Terraform modules. Terraform keeps its state and
//! `.terraform` folder where it runs, so gameday never runs it in the
//! user's module folder (nor in a source artifact): it copies the module's
//! files into a folder of the run, where the state then lives.
//!
//! Local modules the module calls (`source = "../modules/vpc"`) are copied
//! too, at the same relative place, so relative sources still resolve;
//! other files outside the module's folder are not.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Error, Result};

/// What a copy leaves behind: Terraform's own working files.
fn skipped(name: &str) -> bool {
    name == ".terraform"
        || name == "terraform.tfstate.d"
        || name.starts_with("terraform.tfstate")
        || name == ".terraform.tfstate.lock.info"
}

/// Copies the module `src`, and the local modules it calls, into `dst`
/// (created), leaving out Terraform's working files (`.terraform/`, state
/// files); returns the folder of the copy where Terraform must run (`dst`
/// itself unless the module calls modules outside its folder). Files
/// already there are overwritten; other files (the state of an earlier
/// apply) stay.
///
/// # Errors
/// [`Error::Copy`] naming the module.
pub fn copy(src: &Path, dst: &Path) -> Result<PathBuf> {
    let err = |source| Error::Copy {
        module: src.to_owned(),
        dir: dst.to_owned(),
        source,
    };
    let src = src.canonicalize().map_err(err)?;
    let dirs = local_modules(&src).map_err(err)?;
    let ancestor = dirs.iter().fold(src.clone(), |a, d| common_ancestor(&a, d));
    for d in &dirs {
        let rel = d.strip_prefix(&ancestor).unwrap_or(Path::new(""));
        copy_dir(d, &dst.join(rel)).map_err(err)?;
    }
    Ok(match src.strip_prefix(&ancestor) {
        Ok(rel) if !rel.as_os_str().is_empty() => dst.join(rel),
        _ => dst.to_owned(),
    })
}

/// The module's folder and those of every local module it calls,
/// transitively (canonical paths).
fn local_modules(root: &Path) -> std::io::Result<BTreeSet<PathBuf>> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(dir) = todo.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "tf") {
                continue;
            }
            for source in local_sources(&std::fs::read_to_string(&path)?) {
                if let Ok(d) = dir.join(source).canonicalize() {
                    todo.push(d);
                }
            }
        }
    }
    Ok(seen)
}

/// The `source = "./…"` and `source = "../…"` values of a `.tf` file
/// (one-line blocks included: `module "x" { source = "../x" }`).
fn local_sources(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("source") {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + "source".len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let Some(value) = after
                .trim_start()
                .strip_prefix('=')
                .and_then(|v| v.trim_start().strip_prefix('"'))
            else {
                continue;
            };
            let Some(end) = value.find('"') else { continue };
            let value = &value[..end];
            if value.starts_with("./") || value.starts_with("../") {
                out.push(value);
            }
        }
    }
    out
}

fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let name = entry.file_name();
        if skipped(&name.to_string_lossy()) {
            continue;
        }
        let from = entry.path();
        let to = dst.join(&name);
        // Follows symlinks: a module may link shared files in.
        let meta = std::fs::metadata(&from)?;
        if meta.is_dir() {
            copy_dir(&from, &to)?;
        } else {
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_module_without_terraform_working_files() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("main.tf"), "# m").unwrap();
        std::fs::create_dir_all(src.path().join("scripts")).unwrap();
        std::fs::write(src.path().join("scripts/start.sh"), "#!/bin/sh").unwrap();
        std::fs::create_dir_all(src.path().join(".terraform/providers")).unwrap();
        std::fs::write(src.path().join("terraform.tfstate"), "{}").unwrap();
        std::fs::write(src.path().join("terraform.tfstate.backup"), "{}").unwrap();
        std::fs::write(dst.path().join("terraform.tfstate"), "kept").unwrap();
        assert_eq!(copy(src.path(), dst.path()).unwrap(), dst.path());
        assert!(dst.path().join("main.tf").is_file());
        assert!(dst.path().join("scripts/start.sh").is_file());
        assert!(!dst.path().join(".terraform").exists());
        assert!(!dst.path().join("terraform.tfstate.backup").exists());
        assert_eq!(
            std::fs::read_to_string(dst.path().join("terraform.tfstate")).unwrap(),
            "kept",
            "the state of the run is not overwritten"
        );
    }

    #[test]
    fn local_modules_outside_the_folder_keep_their_relative_place() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path().join("envs/staging");
        let vpc = repo.path().join("modules/vpc");
        let subnet = repo.path().join("modules/subnet");
        for d in [&root, &vpc, &subnet] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(
            root.join("main.tf"),
            "module \"vpc\" {\n  source = \"../../modules/vpc\"\n}\nmodule \"remote\" {\n  source  = \"hashicorp/consul/aws\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            vpc.join("main.tf"),
            "module \"s\" { source = \"../subnet\" }\n",
        )
        .unwrap();
        std::fs::write(subnet.join("main.tf"), "# leaf").unwrap();
        std::fs::write(repo.path().join("unrelated.txt"), "no").unwrap();
        let dst = tempfile::tempdir().unwrap();
        let work = copy(&root, dst.path()).unwrap();
        assert_eq!(work, dst.path().join("envs/staging"));
        assert!(work.join("main.tf").is_file());
        assert!(dst.path().join("modules/vpc/main.tf").is_file());
        assert!(dst.path().join("modules/subnet/main.tf").is_file());
        assert!(!dst.path().join("unrelated.txt").exists());
    }

    #[test]
    fn local_sources_are_found() {
        let text = "module \"a\" {\n  source = \"./a\"\n  version = \"1\"\n}\n  source=\"../b\" # x\nsource = \"git::https://x\"\nmodule \"c\" { source = \"../c\" }\n  # source = \"../commented\"\n  data_source = \"../not-a-source\"\n";
        assert_eq!(local_sources(text), ["./a", "../b", "../c"]);
    }

    #[test]
    fn a_missing_module_names_it() {
        let dst = tempfile::tempdir().unwrap();
        let err = copy(Path::new("/no/such/module"), dst.path()).unwrap_err();
        assert!(err.to_string().contains("/no/such/module"), "{err}");
    }
}
