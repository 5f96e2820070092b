//! `gameday doctor` with the fakes of fixtures/bin and a PATH lacking
//! tools, and `gameday run` pointing at it when a tool is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{fixtures, root};

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A PATH folder holding links to `programs` (found on this machine's PATH)
/// and to the fakes `fakes` of fixtures/bin.
fn path_with(dir: &Path, programs: &[&str], fakes: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let system = std::env::var_os("PATH").unwrap();
    for p in programs {
        let found = std::env::split_paths(&system)
            .map(|d| d.join(p))
            .find(|c| c.is_file())
            .unwrap_or_else(|| panic!("`{p}` is on this machine's PATH"));
        std::os::unix::fs::symlink(found, bin.join(p)).unwrap();
    }
    for f in fakes {
        std::os::unix::fs::symlink(fixtures().join("bin").join(f), bin.join(f)).unwrap();
    }
    bin
}

fn doctor(args: &[&str], bin: &Path, dir: &Path) -> Output {
    // bash and the coreutils the fakes use, after the chosen programs.
    let path = format!("{}:/usr/bin:/bin", bin.display());
    Command::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("doctor")
        .args(args)
        .current_dir(root())
        .env("PATH", path)
        .env("TMPDIR", dir)
        .env("FAKE_KIND_STATE", dir.join("kind"))
        .env("GAMEDAY_SOPS", "")
        .env_remove("KIND_EXPERIMENTAL_PROVIDER")
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

fn tool<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == name)
        .unwrap_or_else(|| panic!("{name} in {doc:#}"))
}

#[test]
fn doctor_passes_with_every_tool_a_kind_drill_needs_and_names_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let all = path_with(
        &tmp.path().join("all"),
        &["git", "kubectl"],
        &["kind", "docker", "flux"],
    );
    let o = doctor(
        &["scenarios/cluster-loss.yaml", "--provider", "kind"],
        &all,
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    // Every tool is listed, with its status, version and path.
    for name in [
        "git",
        "kubectl",
        "kind",
        "docker/podman",
        "terraform",
        "flux",
        "sops",
        "helm",
    ] {
        assert!(out.lines().any(|l| l.starts_with(name)), "{name}: {out}");
    }
    let kind = out.lines().find(|l| l.starts_with("kind ")).unwrap();
    assert!(
        kind.contains("ok") && kind.contains("v0.27.0-fake") && kind.contains("cluster-loss"),
        "{kind}"
    );
    let engine = out
        .lines()
        .find(|l| l.starts_with("docker/podman"))
        .unwrap();
    assert!(engine.contains("27.0.0-fake"), "{engine}");
    assert!(out.contains("1 of 1 scenario(s) can run"), "{out}");

    // Without kind, and with a Docker that does not answer.
    let no_kind = path_with(
        &tmp.path().join("no-kind"),
        &["git", "kubectl"],
        &["docker", "flux"],
    );
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args([
            "doctor",
            "scenarios/cluster-loss.yaml",
            "--provider",
            "kind",
            "--format",
            "json",
        ])
        .current_dir(root())
        .env("PATH", format!("{}:/usr/bin:/bin", no_kind.display()))
        .env("FAKE_DOCKER_DOWN", "1")
        .env_remove("KIND_EXPERIMENTAL_PROVIDER")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let doc = json(&o);
    assert_eq!(doc["ready"], false);
    let kind = tool(&doc, "kind");
    assert_eq!(kind["status"], "missing", "{kind}");
    assert!(
        kind["install"]
            .as_str()
            .unwrap()
            .contains("sigs.k8s.io/kind"),
        "{kind}"
    );
    assert_eq!(kind["needed_by"], serde_json::json!(["cluster-loss"]));
    let engine = tool(&doc, "container-engine");
    assert_eq!(engine["status"], "unusable", "{engine}");
    assert!(
        engine["detail"]
            .as_str()
            .unwrap()
            .contains("`docker info` failed"),
        "{engine}"
    );
    let s = &doc["scenarios"][0];
    assert_eq!(s["ready"], false);
    assert_eq!(
        s["missing"],
        serde_json::json!(["kind", "container-engine"])
    );
}

#[test]
fn doctor_checks_what_the_source_needs_on_the_simulator() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = path_with(tmp.path(), &["git", "kubectl"], &[]);
    // sops-secrets decrypts with sops; a GAMEDAY_SOPS that is not a binary
    // makes it unusable, whatever the machine has.
    let bad = tmp.path().join("not-sops");
    std::fs::write(&bad, "").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args([
            "doctor",
            "scenarios/sops-secrets.yaml",
            "scenarios/controller-loss.yaml",
        ])
        .current_dir(root())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("GAMEDAY_SOPS", &bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let sops = out.lines().find(|l| l.starts_with("sops ")).unwrap();
    assert!(
        sops.contains("unusable") && sops.contains("sops-secrets"),
        "{out}"
    );
    assert!(out.contains("GAMEDAY_SOPS="), "{out}");
    assert!(out.contains("install: `make tools`"), "{out}");
    assert!(
        out.contains("sops-secrets     cannot run: needs sops"),
        "{out}"
    );
    assert!(out.contains("controller-loss  ready"), "{out}");
    assert!(out.contains("1 of 2 scenario(s) can run"), "{out}");
}

#[test]
fn run_points_at_doctor_when_a_tool_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = path_with(tmp.path(), &["git", "kubectl"], &["docker", "flux"]);
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args([
            "run",
            "scenarios/cluster-loss.yaml",
            "--provider",
            "kind",
            "--out",
        ])
        .arg(tmp.path().join("report"))
        .args(["--format", "json"])
        .current_dir(root())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TMPDIR", tmp.path())
        .env("FAKE_KIND_STATE", tmp.path().join("kind"))
        .env_remove("KIND_EXPERIMENTAL_PROVIDER")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let all = text(&o);
    assert_eq!(o.status.code(), Some(3), "{all}");
    assert!(
        all.contains("warning: cluster-loss needs kind, not installed; `gameday doctor scenarios/cluster-loss.yaml` says how to install it"),
        "{all}"
    );
}

/// A Docker client without its daemon is not reported "ok" even when no
/// scenario given needs an engine (it would mislead whoever plans a kind
/// drill), and it does not stop the simulator's scenarios.
#[test]
fn a_docker_without_its_daemon_is_unusable_but_blocks_no_simulated_drill() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = path_with(tmp.path(), &["git", "kubectl"], &["docker"]);
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args([
            "doctor",
            "scenarios/controller-loss.yaml",
            "--format",
            "json",
        ])
        .current_dir(root())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("FAKE_DOCKER_DOWN", "1")
        .env_remove("KIND_EXPERIMENTAL_PROVIDER")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc = json(&o);
    assert_eq!(doc["ready"], true);
    let engine = tool(&doc, "container-engine");
    assert_eq!(engine["status"], "unusable", "{engine}");
    assert!(
        engine["detail"]
            .as_str()
            .unwrap()
            .contains("`docker info` failed (is the engine running?)"),
        "{engine}"
    );
}
