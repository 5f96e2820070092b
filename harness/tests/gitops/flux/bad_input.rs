//! Bad input under Flux emulation: each case ends with Flux's condition,
//! reason and a clear message — never a hang.

use std::path::Path;
use std::time::Duration;

use gameday::gitops::apply::Manifest;
use gameday::gitops::bootstrap::Error;
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;
use serde_json::json;

use super::world::{World, ready};

fn write(root: &Path, file: &str, text: &str) {
    let p = root.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A repository with one folder per kind of bad input.
async fn bad_repo(dir: &Path) -> Repo {
    write(
        dir,
        "good/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good, namespace: default}\ndata: {a: b}\n",
    );
    write(
        dir,
        "not-yaml/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    );
    write(
        dir,
        "no-kind/doc.yaml",
        "apiVersion: v1\nmetadata: {name: kindless, namespace: default}\n",
    );
    write(
        dir,
        "unknown-kind/gadget.yaml",
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: default}\n",
    );
    write(
        dir,
        "kustomize-error/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [missing.yaml]\n",
    );
    write(
        dir,
        "orphan-cr/policy.yaml",
        "apiVersion: platform.example.com/v1alpha1\nkind: BackupPolicy\nmetadata: {name: nightly, namespace: default}\nspec: {schedule: '0 2 * * *'}\n",
    );
    write(
        dir,
        "unhealthy/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken, namespace: default}\nspec:\n  selector: {matchLabels: {app: broken}}\n  template:\n    metadata: {labels: {app: broken}}\n    spec: {containers: [{name: app, image: registry.invalid/missing:1}]}\n",
    );
    Repo::init(dir, &FixtureOptions::default())
        .await
        .expect("repository")
}

fn kustomization(name: &str, path: &str) -> Manifest {
    Manifest::new(
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "timeout": "1m", "prune": true, "wait": true, "path": path,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}),
    )
}

fn git_repository(name: &str, url: &str, reference: serde_json::Value) -> Manifest {
    Manifest::new(
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": url, "ref": reference}}),
    )
}

fn ks() -> Gvr {
    Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
}

fn repos() -> Gvr {
    Gvr::new("source.toolkit.fluxcd.io", "v1", "gitrepositories")
}

#[tokio::test]
async fn every_bad_input_ends_with_the_matching_flux_condition() {
    let dir = tempfile::tempdir().unwrap();
    let repo = bad_repo(dir.path()).await;
    let mut profile = Profile::instant();
    profile.missing_images = vec!["registry.invalid/*".into()];
    let w = World::with_repo(repo, "bad", profile).await;
    w.bootstrap("good").await.expect("a good path bootstraps");
    let head = w.head().await;
    let url = w.server.url();
    w.applier
        .apply(vec![
            kustomization("not-yaml", "./not-yaml"),
            kustomization("no-kind", "./no-kind"),
            kustomization("unknown-kind", "./unknown-kind"),
            kustomization("kustomize-error", "./kustomize-error"),
            kustomization("missing-path", "./does-not-exist"),
            kustomization("orphan-cr", "./orphan-cr"),
            kustomization("unhealthy", "./unhealthy"),
            git_repository("no-such-branch", &url, json!({"branch": "nope"})),
            git_repository("no-such-tag", &url, json!({"tag": "v9.9.9"})),
            git_repository(
                "no-such-commit",
                &url,
                json!({"commit": "0123456789abcdef0123456789abcdef01234567"}),
            ),
            git_repository(
                "file-url",
                "file:///srv/repo.git",
                json!({"branch": "main"}),
            ),
        ])
        .await
        .check()
        .expect("the Flux objects apply");
    let t = Duration::from_secs(900);

    let k = w.wait_reason(&ks(), "not-yaml", "BuildFailed", t).await;
    let msg = ready(&k).2;
    assert!(msg.starts_with("kustomize build failed: "), "{msg}");
    assert!(
        msg.contains("not-yaml/broken.yaml") && msg.contains("invalid YAML"),
        "{msg}"
    );
    assert_eq!(k["status"]["lastAttemptedRevision"], head.as_str());
    assert!(k["status"].get("lastAppliedRevision").is_none());

    let msg = ready(&w.wait_reason(&ks(), "no-kind", "BuildFailed", t).await).2;
    assert!(
        msg.contains("no-kind/doc.yaml, document 1") && msg.contains("missing `kind`"),
        "{msg}"
    );

    let msg = ready(
        &w.wait_reason(&ks(), "unknown-kind", "ReconciliationFailed", t)
            .await,
    )
    .2;
    assert!(
        msg.contains("Gadget/default/g")
            && msg.contains("no matches for kind \"Gadget\" in version \"example.com/v1\""),
        "{msg}"
    );

    let msg = ready(
        &w.wait_reason(&ks(), "kustomize-error", "BuildFailed", t)
            .await,
    )
    .2;
    assert!(
        msg.contains("kustomize build of `kustomize-error` failed") && msg.contains("missing.yaml"),
        "{msg}"
    );

    let msg = ready(
        &w.wait_reason(&ks(), "missing-path", "ArtifactFailed", t)
            .await,
    )
    .2;
    assert!(
        msg.starts_with("kustomization path not found: stat ")
            && msg.ends_with("does-not-exist: no such file or directory"),
        "{msg}"
    );

    let msg = ready(
        &w.wait_reason(&ks(), "orphan-cr", "ReconciliationFailed", t)
            .await,
    )
    .2;
    assert!(
        msg.contains("BackupPolicy/default/nightly")
            && msg.contains("install its CustomResourceDefinition"),
        "{msg}"
    );

    let k = w
        .wait_reason(&ks(), "unhealthy", "HealthCheckFailed", t)
        .await;
    assert_eq!(
        ready(&k).2,
        "timeout waiting for: [Deployment/default/broken status: 'InProgress']"
    );
    let healthy = k["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Healthy")
        .unwrap()
        .clone();
    assert_eq!(
        (healthy["status"].as_str(), healthy["reason"].as_str()),
        (Some("False"), Some("HealthCheckFailed"))
    );

    let r = w
        .wait_reason(&repos(), "no-such-branch", "GitOperationFailed", t)
        .await;
    let msg = ready(&r).2;
    assert_eq!(
        msg,
        format!(
            "failed to checkout and determine revision: unable to clone '{url}': couldn't find remote ref \"refs/heads/nope\""
        )
    );
    let fetch_failed = r["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "FetchFailed")
        .unwrap()
        .clone();
    assert_eq!(fetch_failed["status"], "True");
    let reconciling = r["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Reconciling")
        .unwrap()
        .clone();
    assert_eq!(reconciling["reason"], "ProgressingWithRetry");

    let msg = ready(
        &w.wait_reason(&repos(), "no-such-tag", "GitOperationFailed", t)
            .await,
    )
    .2;
    assert!(
        msg.ends_with("couldn't find remote ref \"refs/tags/v9.9.9\""),
        "{msg}"
    );
    let msg = ready(
        &w.wait_reason(&repos(), "no-such-commit", "GitOperationFailed", t)
            .await,
    )
    .2;
    assert!(msg.contains("unable to resolve commit object for '0123456789abcdef0123456789abcdef01234567': object not found"), "{msg}");

    let r = w.wait_reason(&repos(), "file-url", "URLInvalid", t).await;
    let stalled = r["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Stalled")
        .unwrap()
        .clone();
    assert_eq!(
        (stalled["status"].as_str(), stalled["reason"].as_str()),
        (Some("True"), Some("URLInvalid"))
    );

    // The good Kustomization is untouched by its neighbours' failures.
    assert_eq!(ready(&w.kustomization("flux-system").await).0, "True");
}

#[tokio::test]
async fn bootstrap_fails_at_once_with_the_condition_message() {
    let dir = tempfile::tempdir().unwrap();
    let repo = bad_repo(dir.path()).await;
    let w = World::with_repo(repo, "bad", Profile::instant()).await;
    let before = w.tb.clock().now();
    let err = w.bootstrap("not-yaml").await.unwrap_err();
    match &err {
        Error::NotReady { object, message } => {
            assert_eq!(object, "Kustomization flux-system/flux-system");
            assert!(message.starts_with("kustomize build failed: "), "{message}");
        }
        other => panic!("expected NotReady, got {other}"),
    }
    assert!(
        w.tb.clock().since(before) < Duration::from_secs(300),
        "failed before the timeout"
    );

    // A reference that does not exist fails on the GitRepository.
    let mut source = w.source("good");
    source.reference = GitRef::branch("nope");
    let cfg = gameday::gitops::bootstrap::flux::FluxBootstrap {
        install: gameday::gitops::bootstrap::flux::Install::Skip,
        ..gameday::gitops::bootstrap::flux::FluxBootstrap::simulated(
            &gameday::scenario::model::FluxSettings {
                manifests: None,
                interval: Duration::from_secs(60),
            },
            &[],
        )
    };
    let err = gameday::gitops::bootstrap::flux::bootstrap(
        &w.applier,
        &cfg,
        &source,
        "nope@sha1:0000000000000000000000000000000000000000",
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().starts_with("GitRepository flux-system/flux-system is not ready: failed to checkout and determine revision: unable to clone"),
        "{err}"
    );
}
