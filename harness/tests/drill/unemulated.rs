//! Nothing the simulator does not emulate passes, and its registry behaves
//! like one: the preflight's `unsupported` verdict (before any cluster
//! starts), and a bad commit to a tag nobody pushed detected as a real
//! cluster detects it.

use std::path::Path;

use gameday::report::tree::Status;
use gameday::scenario::Scenario;
use gameday::scenario::model::SourceLocation;

use crate::support::{catalogue, recovery, run};

fn write(root: &Path, file: &str, text: &str) {
    let p = root.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A small Flux repository of our own: `clusters/dev` holds the
/// Kustomization `apps` (with `extra` in its spec) applying `./apps`,
/// which holds a ConfigMap and `more`.
fn repository(root: &Path, extra: &str, more: &str) {
    write(
        root,
        "clusters/dev/apps.yaml",
        &format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
        ),
    );
    write(
        root,
        "apps/config.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  a: b\n{more}"
        ),
    );
}

fn scenario_on(root: &Path) -> Scenario {
    let mut s = catalogue("cluster-loss");
    s.source.location = SourceLocation::Fixture(root.to_owned());
    s.source.path = "clusters/dev".to_owned();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kustomization_with_kubeconfig_is_unsupported_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    repository(
        tmp.path(),
        "  kubeConfig:\n    secretRef:\n      name: prod-kubeconfig\n",
        "",
    );
    let report = run(scenario_on(tmp.path())).await;
    let sc = &report.scenarios[0];
    assert_eq!(sc.status, Status::Unsupported);
    assert_eq!(report.status, Status::Unsupported);
    let r = &sc.repeats[0];
    assert_eq!(r.status, Status::Unsupported);
    assert!(
        r.phases.is_empty(),
        "no cluster started: {:?}",
        r.phases.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
    let error = r.error.as_deref().unwrap();
    assert!(
        error.contains(
            "clusters/dev/apps.yaml:1: Kustomization/flux-system/apps: spec.kubeConfig is not emulated"
        ),
        "{error}"
    );
    assert!(error.contains("provider: kind"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helm_release_from_a_bucket_is_unsupported_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let release = "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: default\nspec:\n  interval: 5m\n  chart:\n    spec:\n      chart: podinfo\n      sourceRef:\n        kind: Bucket\n        name: podinfo\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n  name: podinfo\n  namespace: default\nspec:\n  bucketName: charts\n  endpoint: minio.example.com\n";
    repository(tmp.path(), "", release);
    let report = run(scenario_on(tmp.path())).await;
    let r = &report.scenarios[0].repeats[0];
    assert_eq!(r.status, Status::Unsupported);
    let error = r.error.as_deref().unwrap();
    assert!(
        error.starts_with("the source uses 2 constructs the simulator does not emulate:"),
        "{error}"
    );
    assert!(
        error.contains("apps/config.yaml:8: HelmRelease/default/podinfo: spec.chart.spec.sourceRef.kind Bucket is not emulated: Flux fetches the chart from a Bucket, the simulator only from a GitRepository or a HelmRepository"),
        "{error}"
    );
    assert!(
        error.contains("Bucket/default/podinfo: kind Bucket"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_source_passes_the_preflight() {
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path(), "  wait: true\n  targetNamespace: default\n", "");
    let p =
        gameday::drill::preflight::scenario(&scenario_on(tmp.path()), &tmp.path().join("scratch"))
            .await
            .unwrap();
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    assert_eq!(p.unsupported(), None);
    assert_eq!((p.units, p.objects), (2, 2), "the root and ./apps");
    // The catalogue's own sources are clean too.
    for name in ["cluster-loss", "bad-commit", "namespace-loss"] {
        let p = gameday::drill::preflight::scenario(&catalogue(name), &tmp.path().join("scratch"))
            .await
            .unwrap();
        assert!(p.findings.is_empty(), "{name}: {:?}", p.findings);
        assert!(p.objects > 0, "{name}");
    }
}

/// An OCIRepository that verifies its artifact's cosign signature: the
/// simulator checks no signature, so the source is unsupported — unless
/// the scenario opts out with `spec.cluster.sim.skipVerify`, and then the
/// report says which verifications were skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_verification_is_unsupported_unless_skipped_and_then_stated() {
    use gameday::gitops::mirror::{Mirror, Mirrors};
    let tmp = tempfile::tempdir().unwrap();
    let signed = "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: signed\n  namespace: flux-system\nspec:\n  interval: 10m\n  url: oci://ghcr.io/gameday-example/manifests/apps\n  ref:\n    semver: \"1.x\"\n  verify:\n    provider: cosign\n";
    repository(tmp.path(), "", signed);
    let mut s = scenario_on(tmp.path());
    let registry = crate::common::fixtures().join("mirrors/ghcr.io/gameday-example");
    s.mirrors = Mirrors::new(vec![
        Mirror::new("oci://ghcr.io/gameday-example", registry).unwrap(),
    ]);
    let report = run(s.clone()).await;
    let r = &report.scenarios[0].repeats[0];
    assert_eq!(r.status, Status::Unsupported, "{:?}", r.error);
    let error = r.error.as_deref().unwrap();
    assert!(
        error.contains("OCIRepository/flux-system/signed: spec.verify is not emulated"),
        "{error}"
    );

    s.cluster.sim.skip_verify = true;
    let report = run(s).await;
    let r = &report.scenarios[0].repeats[0];
    assert_eq!(
        r.status,
        Status::Passed,
        "{:?} {:?}",
        r.error,
        r.verdict.failures
    );
    let stated: Vec<&str> = r
        .phases
        .iter()
        .flat_map(|p| &p.operations)
        .map(|o| o.what.as_str())
        .filter(|t| t.contains("skipVerify"))
        .collect();
    assert_eq!(
        stated,
        [
            "signature verification skipped (spec.cluster.sim.skipVerify), not checked by the simulator: OCIRepository/flux-system/signed spec.verify"
        ]
    );
}

/// A commit to a tag no registry holds: the pods fail to pull
/// (`ErrImagePull`/`ImagePullBackOff`), the drill detects it, reverts the
/// commit and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_commit_to_a_tag_nobody_has_is_detected_and_reverted() {
    let mut s = catalogue("bad-commit");
    use gameday::scenario::model::{Fault, FileChange};
    let Fault::BadCommit {
        change: FileChange::Set { fields, .. },
        ..
    } = &mut s.disaster[0]
    else {
        panic!("bad-commit's fault sets fields");
    };
    for v in fields.values_mut() {
        *v = serde_json::json!("ghcr.io/stefanprodan/podinfo:v9.9.9-doesnotexist");
    }
    let report = run(s).await;
    let sc = &report.scenarios[0];
    let r = &sc.repeats[0];
    assert_eq!(r.status, Status::Passed, "{:?} {:?}", r.error, r.verdict);
    let phases = recovery(&report);
    let detect = phases.iter().find(|p| p.name == "detect").expect("detect");
    assert_eq!(detect.status, Status::Passed);
    assert!(
        detect.duration_ms().unwrap() < 5 * 60 * 1000,
        "detected within its budget: {detect:?}"
    );
    let said = serde_json::to_string(&r.phases).unwrap();
    assert!(
        said.contains("ErrImagePull") || said.contains("ImagePullBackOff"),
        "{said}"
    );
}

/// The same bad commit to a tag the scenario lists in `sim.images`: the
/// registry has it, the rollout succeeds, so there is no failure to
/// detect — the drill says so instead of passing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_listed_in_sim_images_pulls_after_the_disaster() {
    let mut s = catalogue("bad-commit");
    use gameday::scenario::model::{Fault, FileChange};
    let tag = "ghcr.io/stefanprodan/podinfo:6.9.0";
    let Fault::BadCommit {
        change: FileChange::Set { fields, .. },
        ..
    } = &mut s.disaster[0]
    else {
        panic!("bad-commit's fault sets fields");
    };
    for v in fields.values_mut() {
        *v = serde_json::json!(tag);
    }
    s.cluster.sim.images = vec![tag.to_owned()];
    let report = run(s).await;
    let r = &report.scenarios[0].repeats[0];
    let said = format!("{}{:?}", serde_json::to_string(&r.phases).unwrap(), r.error);
    assert!(
        !said.contains("ErrImagePull") && !said.contains("ImagePullBackOff"),
        "{said}"
    );
    assert_ne!(
        r.status,
        Status::Passed,
        "nothing broke, so nothing was detected: {said}"
    );
}
