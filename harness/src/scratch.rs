//! Scratch folders: the temporary folders gameday makes outside a run's
//! folder (a simulated Flux's artifact storage, a `sim serve --source`
//! copy, a decryption home, a render's copy, …), named `gameday-<use>-…`
//! in the temp dir and deleted when their owner is dropped.
//!
//! Each holds an advisory lock for as long as its owner lives, so `gameday
//! gc` (`cluster::gc`) can tell the folder of a killed process (`sim serve
//! --flux` after `kill -9`) from one in use, and delete only the former.

use std::fs::File;
use std::path::Path;

use tempfile::TempDir;

/// The uses of scratch folders, each named `gameday-<use>-<random>`.
pub const USES: &[&str] = &[
    "flux",
    "sim-source",
    "tf",
    "direct",
    "repo",
    "fluxbuild",
    "sops",
    "validate",
];

/// A scratch folder, locked until dropped (then deleted).
#[derive(Debug)]
pub struct Scratch {
    // Dropped in order: the folder first, then its lock.
    dir: TempDir,
    _lock: Option<nix::fcntl::Flock<File>>,
}

impl Scratch {
    /// A new scratch folder `gameday-<use>-…` in the temp dir.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(purpose: &str) -> std::io::Result<Scratch> {
        Self::make(purpose, None)
    }

    /// A new scratch folder `gameday-<use>-…` in `parent`.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new_in(purpose: &str, parent: &Path) -> std::io::Result<Scratch> {
        Self::make(purpose, Some(parent))
    }

    fn make(purpose: &str, parent: Option<&Path>) -> std::io::Result<Scratch> {
        debug_assert!(USES.contains(&purpose), "add {purpose} to scratch::USES");
        let prefix = format!("gameday-{purpose}-");
        let mut b = tempfile::Builder::new();
        b.prefix(&prefix);
        let dir = match parent {
            Some(p) => b.tempdir_in(p)?,
            None => b.tempdir()?,
        };
        // A folder on a file system without flock is still usable; gc then
        // takes it for a leftover only once its owner is gone (no lock to
        // see either way), the same as before locks existed.
        let lock = File::open(dir.path()).ok().and_then(|f| {
            nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock).ok()
        });
        Ok(Scratch { dir, _lock: lock })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Keeps the folder on disk (`--retain`) and returns its path. It stays
    /// locked until this process exits, so `gameday gc` takes it for a
    /// leftover only then.
    pub fn keep(self) -> std::path::PathBuf {
        if let Some(lock) = self._lock {
            std::mem::forget(lock);
        }
        self.dir.keep()
    }
}

/// Whether `name` is a scratch folder's name (`gameday-<use>-<random>`).
pub fn is_scratch_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("gameday-") else {
        return false;
    };
    USES.iter().any(|u| {
        rest.strip_prefix(u)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|random| {
                !random.is_empty() && random.bytes().all(|b| b.is_ascii_alphanumeric())
            })
    })
}

/// True when a live process holds the folder's lock.
pub fn in_use(path: &Path) -> bool {
    let Ok(dir) = File::open(path) else {
        return false;
    };
    match nix::fcntl::Flock::lock(dir, nix::fcntl::FlockArg::LockSharedNonblock) {
        Ok(_) => false,
        Err((_, errno)) => errno == nix::errno::Errno::EWOULDBLOCK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_folder_is_locked_while_owned_and_gone_after() {
        let s = Scratch::new("flux").unwrap();
        let path = s.path().to_owned();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.starts_with("gameday-flux-") && is_scratch_name(&name),
            "{name}"
        );
        assert!(in_use(&path));
        drop(s);
        assert!(!path.exists());
    }

    #[test]
    fn names() {
        assert!(is_scratch_name("gameday-sim-source-Ab12Cd"));
        assert!(is_scratch_name("gameday-repo-x1Y2z3"));
        assert!(!is_scratch_name("gameday-1a2b3c"), "a run folder");
        assert!(!is_scratch_name("gameday-flux-"));
        assert!(!is_scratch_name("gameday-other-Ab12Cd"));
        assert!(!is_scratch_name("flux-Ab12Cd"));
    }
}
