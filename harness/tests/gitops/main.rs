//! Integration tests of the GitOps layer: source repositories through the
//! real `git`, rendering with the real `kubectl kustomize`, Git over HTTP
//! with real `git clone`, synthetic repositories; the apply engine, the
//! bootstrap methods and the emulated Flux against the simulator over HTTPS.

#[path = "../common/mod.rs"]
mod common;

mod apply;
mod direct;
mod flux;
mod fluxbuild;
mod lint;
mod render;
mod repo;
mod serve;
mod sops;
mod synth;
mod testbed;

use std::path::{Path, PathBuf};

use gameday::process::Cmd;

/// A fixture repository folder (`fixtures/repos/<name>`).
pub fn fixture(name: &str) -> PathBuf {
    common::fixtures().join("repos").join(name)
}

/// The error and all its sources, one per line, as the CLI shows them.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str("\ncaused by: ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

/// A `git` command isolated from the user's configuration, for test setup
/// and for checking what gameday did from the outside.
pub fn git(dir: Option<&Path>) -> Cmd {
    let mut cmd = Cmd::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@localhost",
            "-c",
            "advice.detachedHead=false",
        ]);
    for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
        cmd = cmd.env_remove(var);
    }
    if let Some(dir) = dir {
        cmd = cmd.arg("-C").arg(dir);
    }
    cmd
}

/// Runs a git command and returns its trimmed stdout.
pub async fn git_out(dir: Option<&Path>, args: &[&str]) -> String {
    git(dir)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("git {args:?} failed: {e}"))
        .stdout
        .trim()
        .to_owned()
}

/// Copies a folder tree (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
