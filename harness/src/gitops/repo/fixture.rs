//! Copying a fixture folder into a repository's working directory.

use std::fs;
use std::io;
use std::path::Path;

/// Copies the tree at `from` into the existing directory `to`: directories,
/// regular files and symbolic links (as links). `.git` entries are skipped,
/// so a fixture that happens to be a repository (or holds one) is copied as
/// plain files. Other file types (sockets, devices) are skipped.
///
/// Entries are visited in name order, so a failure is reproducible.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> io::Result<u64> {
    let mut entries: Vec<_> = fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut files = 0;
    for entry in entries {
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &dst)?;
            files += 1;
        } else if kind.is_dir() {
            fs::create_dir(&dst)?;
            files += copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst)?;
            files += 1;
        } else {
            tracing::warn!(path = %src.display(), "skipping a special file while copying a fixture");
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_links_and_skips_git() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        fs::create_dir_all(src.path().join("a/b")).unwrap();
        fs::create_dir_all(src.path().join(".git/objects")).unwrap();
        fs::write(src.path().join("a/b/x.yaml"), "x: 1\n").unwrap();
        fs::write(src.path().join(".git/HEAD"), "ref").unwrap();
        std::os::unix::fs::symlink("b/x.yaml", src.path().join("a/link.yaml")).unwrap();
        let n = copy_tree(src.path(), dst.path()).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            fs::read_to_string(dst.path().join("a/b/x.yaml")).unwrap(),
            "x: 1\n"
        );
        assert_eq!(
            fs::read_link(dst.path().join("a/link.yaml")).unwrap(),
            Path::new("b/x.yaml")
        );
        assert!(!dst.path().join(".git").exists());
    }
}
