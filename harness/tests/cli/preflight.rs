//! The simulator's preflight from the command line: `gameday validate
//! --source` lists what the simulator does not emulate (exit 1) or
//! nothing (exit 0); `gameday run` reports such a source `unsupported`
//! in every report and exits 1 without starting a cluster.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{fixtures, root};

fn gameday(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run gameday")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(root: &Path, file: &str, text: &str) {
    let p = root.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `clusters/dev` → Kustomization `apps` (with a `kubeConfig` when asked) →
/// `./apps`: a ConfigMap, and a Flagger Canary when asked.
fn repository(root: &Path, remote: bool, canary: bool) {
    let patches = if remote {
        "  kubeConfig:\n    secretRef:\n      name: remote\n"
    } else {
        ""
    };
    write(
        root,
        "clusters/dev/apps.yaml",
        &format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{patches}"
        ),
    );
    write(
        root,
        "apps/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n",
    );
    if canary {
        write(
            root,
            "apps/canary.yaml",
            "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: web\n  namespace: default\nspec:\n  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n",
        );
    }
}

#[test]
fn validate_source_lists_findings_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path(), true, true);
    let dir = tmp.path().to_str().unwrap();
    let o = gameday(&["validate", "--source", dir, "--path", "clusters/dev"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "clusters/dev/apps.yaml:1: Kustomization/flux-system/apps: spec.kubeConfig is not emulated"
        ),
        "{out}"
    );
    assert!(
        out.contains("apps/canary.yaml:1: Canary/default/web: kind Canary (flagger.app/v1beta1) is not emulated: Flagger reconciles it, the simulator only stores it; drill it on kind with real Flux (provider: kind), or remove it"),
        "{out}"
    );
    assert!(
        out.contains("3 objects in 2 paths: 2 not emulated, 0 not rendering"),
        "{out}"
    );
}

#[test]
fn validate_source_of_a_clean_source_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path(), false, false);
    let dir = tmp.path().to_str().unwrap();
    let o = gameday(&["validate", "--source", dir, "--path", "clusters/dev"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("2 objects in 2 paths: 0 not emulated, 0 not rendering"),
        "{out}"
    );
    // The catalogue's podinfo repository too, and a folder that is not there.
    let podinfo = fixtures().join("repos/podinfo");
    let o = gameday(&[
        "validate",
        "--source",
        podinfo.to_str().unwrap(),
        "--path",
        "clusters/staging",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gameday(&["validate", "--source", "no/such/folder"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("source folder no/such/folder does not exist"));
}

#[test]
fn run_reports_an_unemulated_source_unsupported_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(&repo, false, true);
    let file = tmp.path().join("canary.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: canary\nspec:\n  source:\n    fixture: {}\n    path: clusters/dev\n  disaster:\n    - fault: cluster-loss\n  recovery:\n    method: rebuild\n  rto:\n    total: 5m\n",
            repo.display()
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let o = gameday(&["validate", f]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("UNSUP ") && out.contains("Canary/default/web"),
        "{out}"
    );

    let report = tmp.path().join("report");
    let o = gameday(&["run", f, "--out", report.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("unsupported"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["status"], "unsupported");
    let repeat = &json["scenarios"][0]["repeats"][0];
    assert_eq!(repeat["phases"].as_array().map(Vec::len), Some(0));
    assert!(
        repeat["error"]
            .as_str()
            .unwrap()
            .contains("apps/canary.yaml:1: Canary/default/web"),
        "{repeat}"
    );
    for (file, needle) in [
        ("junit.xml", "Canary/default/web"),
        ("summary.md", "unsupported"),
        ("report.html", "unsupported"),
    ] {
        let body = std::fs::read_to_string(report.join(file)).unwrap();
        assert!(body.contains(needle), "{file} lacks {needle}");
    }
}
