//! The scratch copy a build rewrites its kustomization file in, as
//! kustomize-controller works on a temporary copy of the artifact: the
//! source tree (without `.git`) copied to a temporary folder deleted with
//! it. Files are hard-linked where the file system allows it (the copy of a
//! large repository then costs a link per file); whoever rewrites a file of
//! the copy must replace it ([`replace`]), never write through the link.
//! Symbolic links are copied as links, so a relative link still points
//! where it pointed in the source.

use std::fs;
use std::io;
use std::path::Path;

use crate::scratch::Scratch;

/// Copies the tree at `root` into a new temporary folder.
///
/// # Errors
/// An unreadable file or folder, a full disk.
pub(super) fn copy(root: &Path) -> io::Result<Scratch> {
    let dir = Scratch::new("fluxbuild")?;
    copy_dir(root, dir.path())?;
    Ok(dir)
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            fs::create_dir(&dst)?;
            copy_dir(&src, &dst)?;
        } else if fs::hard_link(&src, &dst).is_err() {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Writes `text` as `path` in a scratch copy: a new file, so that a hard
/// link to the source is never written through.
///
/// # Errors
/// The file cannot be removed or written.
pub(super) fn replace(path: &Path, text: &str) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_files_and_links_but_not_git() {
        let src = tempfile::tempdir().unwrap();
        fs::create_dir_all(src.path().join("apps/web")).unwrap();
        fs::create_dir_all(src.path().join(".git/objects")).unwrap();
        fs::write(src.path().join("apps/web/a.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink("web/a.yaml", src.path().join("apps/link.yaml")).unwrap();
        let copy = copy(src.path()).unwrap();
        assert_eq!(
            fs::read_to_string(copy.path().join("apps/link.yaml")).unwrap(),
            "a: 1\n"
        );
        assert!(!copy.path().join(".git").exists());
        replace(&copy.path().join("apps/web/a.yaml"), "b: 2\n").unwrap();
        assert_eq!(
            fs::read_to_string(src.path().join("apps/web/a.yaml")).unwrap(),
            "a: 1\n",
            "the source is untouched"
        );
    }
}
