//! Working copies of Terraform modules. Terraform keeps its state and
//! `.terraform` folder where it runs, so gameday never runs it in the
//! user's module folder (nor in a source artifact): it copies the module's
//! files into a folder of the run, where the state then lives.

use std::path::Path;

use super::{Error, Result};

/// What a copy leaves behind: Terraform's own working files.
fn skipped(name: &str) -> bool {
    name == ".terraform"
        || name == "terraform.tfstate.d"
        || name.starts_with("terraform.tfstate")
        || name == ".terraform.tfstate.lock.info"
}

/// Copies the module `src` into `dst` (created), leaving out Terraform's
/// working files (`.terraform/`, state files). Files already in `dst` are
/// overwritten; other files there (the state of an earlier apply) stay.
///
/// # Errors
/// [`Error::Copy`] naming the module.
pub fn copy(src: &Path, dst: &Path) -> Result<()> {
    copy_dir(src, dst).map_err(|source| Error::Copy {
        module: src.to_owned(),
        dir: dst.to_owned(),
        source,
    })
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
        copy(src.path(), dst.path()).unwrap();
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
    fn a_missing_module_names_it() {
        let dst = tempfile::tempdir().unwrap();
        let err = copy(Path::new("/no/such/module"), dst.path()).unwrap_err();
        assert!(err.to_string().contains("/no/such/module"), "{err}");
    }
}
