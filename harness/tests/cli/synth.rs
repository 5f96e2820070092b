//! `gameday synth`: a synthetic repository and its drill, as a user makes
//! and runs them; the run's lint preflight names ten errors and counts the rest.

use std::process::{Command, Output};

fn gameday(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", dir)
        .output()
        .expect("run gameday")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn synth_writes_a_repository_whose_drill_passes() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("synth");
    let out_s = out.to_str().unwrap();
    let o = gameday(
        &[
            "synth",
            "--objects",
            "40",
            "--kustomizations",
            "2",
            "--namespaces",
            "2",
            "--mix",
            "configmaps=1,secrets=1",
            "--out",
            out_s,
        ],
        work.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(
            "40 objects (20 ConfigMaps, 20 Secrets) in 2 Kustomizations over 2 namespaces"
        ),
        "{}",
        text(&o.stdout)
    );
    assert!(out.join("repo/clusters/synth/ks-0001.yaml").is_file());

    // A second time into the same folder: refused, nothing overwritten.
    let again = gameday(&["synth", "--objects", "10", "--out", out_s], work.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("not empty"),
        "{}",
        text(&again.stderr)
    );
    assert!(out.join("repo/clusters/synth/ks-0001.yaml").is_file());

    let scenario = out.join("scenario.yaml");
    let reports = work.path().join("reports");
    let run = gameday(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--out",
            reports.to_str().unwrap(),
            "--format",
            "json",
        ],
        work.path(),
    );
    let err = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["status"], "passed");
    // The 20 Secrets are plain in Git: the preflight shows ten, counts the rest.
    assert_eq!(err.matches("error[plain-secret]").count(), 10, "{err}");
    assert!(
        err.contains("… and 10 more errors (`gameday lint` lists them all)"),
        "{err}"
    );
}

#[test]
fn synth_refuses_bad_shapes_naming_the_flag() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("x");
    let out_s = out.to_str().unwrap();
    for (args, says) in [
        (
            vec!["--objects", "5", "--kustomizations", "9"],
            "--kustomizations 9 is more than --objects 5",
        ),
        (vec!["--mix", "pods=1"], "unknown kind `pods`"),
        (vec!["--objects", "0"], "--objects"),
        (
            vec![
                "--objects",
                "50",
                "--kustomizations",
                "2",
                "--helm-releases",
                "3",
            ],
            "--helm-releases 3 is more than the 2 apps",
        ),
    ] {
        let mut all = vec!["synth", "--out", out_s];
        all.extend(args);
        let o = gameday(&all, work.path());
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        assert!(
            text(&o.stderr).contains(says),
            "{all:?}: {}",
            text(&o.stderr)
        );
    }
    assert!(!out.join("scenario.yaml").exists());
}

#[test]
fn synth_helm_releases_install_the_same_objects_through_helm() {
    if gameday::process::Lookup::default().find("helm").is_err() && std::env::var_os("CI").is_none()
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("synth");
    let out_s = out.to_str().unwrap();
    let o = gameday(
        &[
            "synth",
            "--objects",
            "60",
            "--kustomizations",
            "3",
            "--helm-releases",
            "2",
            "--mix",
            "configmaps=1,deployments=1",
            "--out",
            out_s,
        ],
        work.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("in 1 Kustomizations and 2 HelmReleases over"),
        "{}",
        text(&o.stdout)
    );
    let reports = work.path().join("reports");
    // The tools `make tools` installed, as the drill finds them.
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin");
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["run", out.join("scenario.yaml").to_str().unwrap(), "--out"])
        .arg(&reports)
        .args(["--format", "json"])
        .current_dir(work.path())
        .env("TMPDIR", work.path())
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["status"], "passed");
    let r = &report["scenarios"][0]["repeats"][0];
    // Git renders the Kustomization's 20 objects, the 3 apps' objects (1
    // Kustomization, 2 HelmReleases) and 10 namespaces; Helm installs the
    // other 40 objects, which the snapshot compares after the rebuild.
    assert_eq!(r["coverage"]["rendered"], 20 + 3 + 10, "{r}");
    assert!(r["diff"]["compared"].as_u64().unwrap() >= 60 + 10, "{r}");
    assert_eq!(r["diff"]["lost"], serde_json::json!([]), "{r}");
}
