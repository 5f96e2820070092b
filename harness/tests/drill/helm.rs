//! Helm drills on the simulator with the real helm: a bad upgrade pushed
//! in Git (`scenarios/helm-bad-upgrade.yaml`), and the loss
//! of a Helm-managed Deployment with and without drift detection.

use std::path::{Path, PathBuf};

use gameday::report::tree::{RepeatReport, RunReport, Status};

use crate::support::{have_helm, names, recovery, run};

fn repeat(report: &RunReport) -> &RepeatReport {
    &report.scenarios[0].repeats[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_upgrade_is_rolled_back_and_git_revert_restores_it_with_detect_and_converge_timed() {
    if !have_helm() {
        return;
    }
    let path = crate::common::root().join("scenarios/helm-bad-upgrade.yaml");
    let s = gameday::scenario::load_one(&path).unwrap_or_else(|d| panic!("{d}"));
    let report = run(s).await;
    let r = repeat(&report);
    assert_eq!(
        r.status,
        Status::Passed,
        "{:?} {:?} {:?}",
        r.error,
        r.reasons,
        r.verdict.failures
    );
    let phases = recovery(&report);
    assert_eq!(names(&phases), ["detect", "converge", "healthy"]);
    for p in &phases {
        let ms = p.duration_ms().expect("the phase ended");
        assert!(p.budget_ms.is_some_and(|b| ms <= b), "{}: {ms} ms", p.name);
    }
    // Detecting the broken upgrade took simulated time (the upgrade ran,
    // its Deployment did not become healthy), and so did converging on the
    // revert.
    let detect = phases[0].duration_ms().unwrap();
    let converge = phases[1].duration_ms().unwrap();
    assert!(detect > 0 && converge > 0, "{detect} {converge}");
    // Nothing was lost; Helm's storage holds two revisions more than before
    // the disaster: the failed upgrade (v2) and helm-controller's rollback
    // (v3), which the revert then found in sync.
    assert!(r.diff.lost.is_empty(), "{:?}", r.diff);
    let extra: Vec<&str> = r.diff.extra.iter().map(|e| e.object.as_str()).collect();
    assert_eq!(
        extra,
        [
            "Secret/apps/sh.helm.release.v1.web.v2",
            "Secret/apps/sh.helm.release.v1.web.v3"
        ]
    );
}

/// A copy of `fixtures/repos/helm` in `dir`, with `web`'s HelmRelease
/// given `driftDetection: {mode: enabled}` when `drift`.
fn fixture_copy(dir: &Path, drift: bool) -> PathBuf {
    let copy = dir.join("helm");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(crate::common::root().join("fixtures/repos/helm"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    if drift {
        let web = copy.join("apps/web.yaml");
        let text = std::fs::read_to_string(&web).unwrap();
        let with = text.replace(
            "  interval: 10m\n",
            "  interval: 10m\n  driftDetection:\n    mode: enabled\n",
        );
        assert_ne!(text, with);
        std::fs::write(&web, with).unwrap();
    }
    copy
}

/// `resource-loss` of the Helm-managed Deployment `apps/web-hello`,
/// recovered by reconciliation.
fn resource_loss(dir: &Path, drift: bool) -> gameday::scenario::Scenario {
    let fixture = fixture_copy(dir, drift);
    let text = format!(
        r#"apiVersion: gameday/v1alpha1
kind: Scenario
metadata:
  name: helm-resource-loss
spec:
  cluster:
    provider: sim
    sim: {{ profile: kind, nodes: 3, seed: 7 }}
  source:
    fixture: {fixture}
    branch: main
    path: clusters/staging
  bootstrap:
    method: flux
  steadyState:
    timeout: 10m
    checks:
      - kustomizations: all
      - object: {{ apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, namespace: flux-system, name: web, condition: Ready }}
      - workloads: {{ namespaces: [data, apps] }}
  disaster:
    - fault: resource-loss
      apiVersion: apps/v1
      kind: Deployment
      namespace: apps
      name: web-hello
  recovery: {{ method: reconcile, timeout: 20m }}
  rto:
    total: 12m
"#,
        fixture = fixture.display()
    );
    let file = dir.join("helm-resource-loss.yaml");
    std::fs::write(&file, text).unwrap();
    gameday::scenario::load_one(&file).unwrap_or_else(|d| panic!("{d}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_helm_deployment_comes_back_with_drift_detection() {
    if !have_helm() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let report = run(resource_loss(tmp.path(), true)).await;
    let r = repeat(&report);
    assert_eq!(
        r.status,
        Status::Passed,
        "{:?} {:?} {:?}",
        r.error,
        r.reasons,
        r.verdict.failures
    );
    // It came back at helm-controller's next reconcile: within the
    // release's interval (10m), not at once.
    let ms = r.recovery_ms.expect("recovered");
    assert!(ms > 0 && ms <= 10 * 60 * 1000 + 60_000, "{ms} ms");
    assert!(
        r.diff.lost.is_empty() && r.diff.changed.is_empty(),
        "{:?}",
        r.diff
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_helm_deployment_stays_lost_without_drift_detection_and_the_drill_says_so() {
    if !have_helm() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let report = run(resource_loss(tmp.path(), false)).await;
    let r = repeat(&report);
    assert_ne!(r.status, Status::Passed, "{:?}", r.error);
    let said = format!("{:?} {:?} {:?}", r.error, r.reasons, r.verdict.failures);
    assert!(said.contains("web-hello"), "{said}");
    assert!(r.recovery_ms.is_none(), "{:?}", r.recovery_ms);
}
