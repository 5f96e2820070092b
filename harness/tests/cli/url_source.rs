//! `url:` sources that a drill pushes to: a normal checkout with the
//! branch checked out refuses pushes, so such a drill is refused before
//! any cluster starts; a bare repository works.

use std::path::Path;
use std::process::Command;

use crate::common::fixtures;
use crate::run::{gameday_run, left_in, scenario_copy};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A normal (non-bare) checkout of the podinfo fixture on branch `main`.
fn checkout(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("fleet");
    std::fs::create_dir(&repo).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(fixtures().join("repos/podinfo/."))
        .arg(&repo)
        .status()
        .unwrap();
    assert!(copied.success());
    git(&repo, &["init", "--quiet", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "fleet"]);
    repo
}

fn bad_commit_on(dir: &Path, url: &Path) -> std::path::PathBuf {
    let fixture = format!("fixture: {}", fixtures().join("repos/podinfo").display());
    scenario_copy(dir, "bad-commit", |t| {
        assert!(t.contains(&fixture), "{t}");
        t.replace(&fixture, &format!("url: {}", url.display()))
    })
}

#[test]
fn a_checkout_with_the_branch_checked_out_is_refused_before_any_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let repo = checkout(dir.path());
    let file = bad_commit_on(dir.path(), &repo);
    let r = gameday_run(&[file.to_str().unwrap()], &dir.path().join("report"));
    assert_eq!(r.code, Some(2), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("spec.source.url")
            && r.stderr.contains("branch main checked out")
            && r.stderr.contains("bad-commit")
            && r.stderr.contains("git clone --bare")
            && r.stderr.contains("fixture:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was run"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("provision"),
        "a cluster was started: {}",
        r.stderr
    );
    assert!(
        left_in(r.tmp.path()).is_empty(),
        "{:?}",
        left_in(r.tmp.path())
    );
    // `gameday validate` says the same.
    let v = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("validate")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&v.stdout);
    assert_eq!(v.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("spec.source.url"),
        "{stdout}"
    );
    // The checkout is untouched.
    let log = Command::new("git")
        .args(["log", "--oneline"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 1);
}

#[test]
fn a_bare_repository_takes_the_bad_commit_and_its_revert() {
    let dir = tempfile::tempdir().unwrap();
    let repo = checkout(dir.path());
    let bare = dir.path().join("fleet.git");
    git(
        dir.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            repo.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let file = bad_commit_on(dir.path(), &bare);
    let r = gameday_run(&[file.to_str().unwrap()], &dir.path().join("report"));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("bad-commit ") && l.contains(" passed ")),
        "{}",
        r.stdout
    );
    // The bad commit and its revert were pushed to the bare repository.
    let log = Command::new("git")
        .args(["log", "--oneline", "main"])
        .current_dir(&bare)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout).into_owned();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.contains("Revert"), "{log}");
}
