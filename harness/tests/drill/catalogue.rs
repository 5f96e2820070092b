//! Every catalogue scenario end to end on the simulator: its phases, their
//! order, that they are contiguous and add up to the recovery time, and
//! its verdict.

use gameday::report::tree::{PhaseGroup, Status};

use crate::support::{catalogue, have_helm, names, recovery, run};

/// The HelmRelease drill (`scenarios/helm-cluster-loss.yaml`, simulator
/// only: its Helm repository is mirrored).
fn helm_scenario() -> gameday::scenario::Scenario {
    catalogue("helm-cluster-loss")
}

/// Runs a catalogue scenario and checks what every drill must satisfy.
async fn drill(name: &str, phases: &[&str]) -> gameday::report::tree::RunReport {
    let report = drill_scenario(name, catalogue(name), phases).await;
    pin_simulated_times(name, &report);
    report
}

/// The catalogue's simulated times are pinned: the same seed gives the
/// same simulated duration of every phase, before and after any change
/// to the engine (performance work must not move them). A change that
/// means to move them rewrites `fixtures/drill/simulated-times/<name>.txt`
/// with `GAMEDAY_UPDATE_GOLDEN=1` and says why in its commit.
fn pin_simulated_times(name: &str, report: &gameday::report::tree::RunReport) {
    let r = &report.scenarios[0].repeats[0];
    let mut text = format!("recovery {} ms\n", r.recovery_ms.unwrap_or_default());
    for p in &r.phases {
        let ms = p
            .duration_ms()
            .map_or("unfinished".into(), |d| format!("{d} ms"));
        text.push_str(&format!("{:?} {} {ms}\n", p.group, p.name));
    }
    let golden = crate::common::fixtures()
        .join("drill/simulated-times")
        .join(format!("{name}.txt"));
    crate::common::assert_golden(&golden, &text);
}

/// Recovery brought back every object the snapshot held, unchanged.
fn assert_nothing_lost(report: &gameday::report::tree::RunReport) {
    let r = &report.scenarios[0].repeats[0];
    assert!(
        r.diff.lost.is_empty() && r.diff.changed.is_empty(),
        "{:?}",
        r.diff
    );
}

/// Runs `scenario` and checks what every drill must satisfy.
async fn drill_scenario(
    name: &str,
    scenario: gameday::scenario::Scenario,
    phases: &[&str],
) -> gameday::report::tree::RunReport {
    let report = run(scenario).await;
    let s = &report.scenarios[0];
    let r = &s.repeats[0];
    assert_eq!(
        r.status,
        Status::Passed,
        "{name}: {:?} {:?}",
        r.error,
        r.verdict.failures
    );
    assert_eq!(s.status, Status::Passed);
    // Preparation first, then the disaster, then recovery, then verification.
    let groups: Vec<PhaseGroup> = r.phases.iter().map(|p| p.group).collect();
    let first_recovery = groups
        .iter()
        .position(|g| *g == PhaseGroup::Recovery)
        .unwrap();
    assert!(
        groups[..first_recovery]
            .iter()
            .all(|g| matches!(g, PhaseGroup::Preparation | PhaseGroup::Disaster))
    );
    assert_eq!(groups.last(), Some(&PhaseGroup::Verification));
    let prep: Vec<&str> = r
        .phases
        .iter()
        .filter(|p| p.group == PhaseGroup::Preparation)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        &prep[..3],
        ["provision", "bootstrap", "steady-state"],
        "{name}"
    );
    assert!(prep.ends_with(&["snapshot"]));
    // Recovery: the method's phases, contiguous from the disaster.
    let rec = recovery(&report);
    assert_eq!(names(&rec), phases, "{name}");
    let disaster = r
        .phases
        .iter()
        .find(|p| p.group == PhaseGroup::Disaster)
        .unwrap();
    let mut at = disaster.start_ms;
    for p in &rec {
        assert_eq!(
            p.start_ms, at,
            "{name}: {} starts where the previous phase ended",
            p.name
        );
        let end = p.end_ms.expect("every recovery phase ended");
        assert!(end >= p.start_ms);
        at = end;
    }
    let total: u64 = rec.iter().map(|p| p.duration_ms().unwrap()).sum();
    assert_eq!(
        r.recovery_ms,
        Some(total),
        "{name}: phases add up to the recovery time"
    );
    assert!(total > 0, "{name}: a disaster takes time to recover from");
    // Times are on the simulator's clock.
    assert_eq!(s.time_base, gameday::clock::TimeBase::Simulated);
    // The provisioned cluster took simulated time.
    assert!(
        r.phases[0].duration_ms().unwrap() > 10_000,
        "{name}: kind-profile provisioning takes seconds"
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_loss_rebuilds_from_git() {
    let report = drill(
        "cluster-loss",
        &["provision", "bootstrap", "converge", "healthy"],
    )
    .await;
    assert_nothing_lost(&report);
    let r = &report.scenarios[0].repeats[0];
    assert!(
        r.diff.compared > 10,
        "the snapshot covers the desired state"
    );
    let disaster = r.phases.iter().find(|p| p.name == "disaster").unwrap();
    assert!(disaster.operations[0].what.contains("destroyed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_loss_is_reconciled_at_the_next_interval() {
    let report = drill("namespace-loss", &["converge", "healthy"]).await;
    let converge = &crate::support::recovery(&report)[0];
    // The apps Kustomization reconciles every 10 minutes.
    assert!(converge.duration_ms().unwrap() >= 60_000, "{converge:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_loss_is_recovered_by_bootstrapping_again() {
    drill("controller-loss", &["bootstrap", "converge", "healthy"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_loss_waits_for_eviction_and_rescheduling() {
    let report = drill("node-loss", &["converge", "healthy"]).await;
    let r = &report.scenarios[0].repeats[0];
    // Pods of a lost node are evicted after the 300 s toleration.
    assert!(r.recovery_ms.unwrap() > 300_000, "{:?}", r.recovery_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_outage_recovers_once_the_api_is_back() {
    let report = drill("api-outage", &["converge", "healthy"]).await;
    let r = &report.scenarios[0].repeats[0];
    assert!(
        r.recovery_ms.unwrap() >= 45_000,
        "the outage itself lasts 45s: {:?}",
        r.recovery_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_commit_is_rolled_back_by_git_revert() {
    let report = drill("bad-commit", &["detect", "converge", "healthy"]).await;
    let r = &report.scenarios[0].repeats[0];
    let rec = crate::support::recovery(&report);
    assert!(rec[0].duration_ms().unwrap() > 0, "detecting takes time");
    assert!(
        rec[0]
            .operations
            .iter()
            .any(|o| o.what.starts_with("detected: ")),
        "{:?}",
        rec[0].operations
    );
    assert!(
        rec[0]
            .operations
            .iter()
            .any(|o| o.what.starts_with("reverted ")),
        "{:?}",
        rec[0].operations
    );
    // After recovery the cluster is back on the good image: nothing differs
    // from the snapshot taken before the bad commit.
    assert!(
        r.diff.changed.is_empty() && r.diff.lost.is_empty(),
        "{:?}",
        r.diff
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_made_drift_is_lost_and_allowed() {
    let report = drill(
        "hand-made-drift",
        &["provision", "bootstrap", "converge", "healthy"],
    )
    .await;
    let r = &report.scenarios[0].repeats[0];
    assert_eq!(r.diff.lost.len(), 1, "{:?}", r.diff);
    assert_eq!(r.diff.lost[0].object, "ConfigMap/podinfo/hand-made-config");
    assert!(r.diff.lost[0].allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sops_secrets_come_back_because_their_key_is_restored() {
    let report = drill(
        "sops-secrets",
        &["provision", "bootstrap", "converge", "healthy"],
    )
    .await;
    // The decrypted Secrets are what they were before the disaster.
    assert_nothing_lost(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_cluster_loss_installs_the_releases_again() {
    if !have_helm() {
        return;
    }
    let report = drill(
        "helm-cluster-loss",
        &["provision", "bootstrap", "converge", "healthy"],
    )
    .await;
    assert_nothing_lost(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oci_cluster_loss_pulls_the_artifacts_again() {
    if !have_helm() {
        return;
    }
    let report = drill(
        "oci-cluster-loss",
        &["provision", "bootstrap", "converge", "healthy"],
    )
    .await;
    assert_nothing_lost(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oci_fleet_controller_loss_bootstraps_again_from_the_artifact() {
    // The flux-system source is an OCIRepository at the highest 1.x tag
    // of the fleet artifact; its 2.0.0 runs an image no registry has, so a
    // drill that followed 2.0.0 could not pass the workloads check.
    let report = drill(
        "oci-fleet-controller-loss",
        &["bootstrap", "converge", "healthy"],
    )
    .await;
    assert_nothing_lost(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oci_fleet_without_its_mirror_fails_naming_the_registry() {
    // No mirror and no network: gameday cannot pull the artifact it must
    // render and judge, so the drill fails before any cluster, naming it.
    let mut s = crate::support::catalogue("oci-fleet-controller-loss");
    s.mirrors = gameday::gitops::mirror::Mirrors::default();
    let report = run(s).await;
    let r = &report.scenarios[0].repeats[0];
    let said = format!("{:?} {:?} {:?}", r.error, r.verdict.failures, r.reasons);
    assert_ne!(r.status, Status::Passed, "{said}");
    assert!(
        said.contains("oci://ghcr.io/gameday-example/fleet"),
        "the failure names the artifact's URL: {said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_cluster_loss_without_its_mirror_fails_naming_the_helm_repository() {
    if !have_helm() {
        return;
    }
    // No mirror and no network: the HelmRepository cannot fetch its index,
    // so the edge release never comes — the drill fails, never passes.
    let mut s = helm_scenario();
    s.mirrors = gameday::gitops::mirror::Mirrors::default();
    s.steady_state.timeout = std::time::Duration::from_secs(120);
    let report = run(s).await;
    let r = &report.scenarios[0].repeats[0];
    let said = format!("{:?} {:?} {:?}", r.error, r.verdict.failures, r.reasons);
    assert_ne!(r.status, Status::Passed, "{said}");
    assert!(said.contains("HelmRelease/flux-system/edge"), "{said}");
    assert!(
        said.contains("HelmRepository/charts: failed to fetch Helm repository index: failed to fetch https://charts.gameday.example/index.yaml"),
        "the report quotes the Helm repository that cannot be fetched, and its URL: {said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_cluster_loss_fails_truthfully_when_the_charts_image_does_not_exist() {
    if !have_helm() {
        return;
    }
    // The same drill over a copy of the fixture whose web release runs an
    // image no registry has: the release never becomes Ready.
    let tmp = tempfile::tempdir().unwrap();
    let fixture = crate::common::root().join("fixtures/repos/helm");
    let copy = tmp.path().join("helm");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&fixture)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let web = copy.join("apps/web.yaml");
    let text = std::fs::read_to_string(&web).unwrap();
    let broken = text.replace(
        "    greeting: hello-from-git\n",
        "    greeting: hello-from-git\n    image:\n      tag: does-not-exist\n",
    );
    assert_ne!(text, broken);
    std::fs::write(&web, broken).unwrap();
    let mut s = helm_scenario();
    s.source.location = gameday::scenario::model::SourceLocation::Fixture(copy);
    s.steady_state.timeout = std::time::Duration::from_secs(120);
    let report = run(s).await;
    let r = &report.scenarios[0].repeats[0];
    assert_ne!(r.status, Status::Passed, "{:?}", r.error);
    let said = format!("{:?} {:?}", r.error, r.verdict.failures);
    assert_eq!(r.status, Status::Unrecoverable, "{said}");
    assert!(said.contains("HelmRelease/flux-system/web"), "{said}");
}
