//! Flux on a kind cluster through the fakes: the fixture repository is
//! served on the `kind` network's gateway (the address
//! `Cluster::git_serve_options` gives) and Flux, installed with the `flux`
//! CLI, fetches it from there.

use std::time::Duration;

use gameday::cluster::Cluster;
use gameday::gitops::apply::{Applier, ApplyOptions};
use gameday::gitops::bootstrap::SyncSource;
use gameday::gitops::bootstrap::flux::{self, FluxBootstrap};
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::gitops::serve::GitServer;
use gameday::scenario::model::FluxSettings;

use super::common;
use super::fakes::{Fakes, kind_scenario};

/// The fake `flux` with this test's environment (the bootstrap starts it
/// with the process environment, which tests must not change).
fn flux_wrapper(fakes: &Fakes) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = fakes.root().join("flux");
    let mut script = String::from("#!/bin/sh\n");
    for (k, v) in fakes.env() {
        script.push_str(&format!("export {k}='{v}'\n"));
    }
    script.push_str(&format!(
        "export FAKE_FLUX_LOG='{}'\nexec '{}' \"$@\"\n",
        fakes.log().display(),
        common::fixtures().join("bin/flux").display()
    ));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn flux_on_kind_fetches_the_fixture_from_the_kind_network_gateway() {
    let fakes = Fakes::new().with("FAKE_DOCKER_GATEWAY", "127.0.0.1");
    let s = kind_scenario(
        "flux",
        "    - fault: namespace-loss\n      namespace: podinfo",
        "{ method: reconcile }",
    );
    let cx = fakes.context("abc123", "flux");
    let c = Cluster::create(&s, &cx, 0).await.expect("create");

    let repo = Repo::from_fixture(
        &common::fixtures().join("repos/podinfo"),
        &FixtureOptions::default(),
    )
    .await
    .expect("fixture repository");
    let options = c.git_serve_options().await.expect("where to serve");
    let server = GitServer::serve(repo.path(), "podinfo", options)
        .await
        .expect("serve");
    assert!(
        server.url().starts_with("http://127.0.0.1:"),
        "{}",
        server.url()
    );

    let mut cfg = FluxBootstrap::real(
        &FluxSettings {
            manifests: None,
            interval: Duration::from_secs(60),
        },
        &[],
        Some(c.kubeconfig().to_owned()),
        Some(&flux_wrapper(&fakes)),
    )
    .expect("flux CLI found");
    cfg.context = Some(format!("kind-{}", c.name()));
    let applier = Applier::new(c.client(), c.clock().clone(), ApplyOptions::default());
    let head = repo.head().await.expect("head").to_string();
    let source = SyncSource {
        url: server.url(),
        reference: GitRef::branch("main"),
        path: "clusters/staging".into(),
        artifact: None,
    };
    let report = flux::bootstrap(&applier, &cfg, &source, &head)
        .await
        .expect("bootstrap");
    assert_eq!(report.install, "flux-cli");
    assert_eq!(report.revision, head, "Flux fetched the served repository");
    let calls = fakes.take_transcript("abc123");
    assert!(calls.contains("\ndocker network inspect kind\n"), "{calls}");
    assert!(
        calls.contains("\nflux install --namespace flux-system --timeout 300s --kubeconfig <tmp>/tmp/gameday-<run>/flux-1/gameday-flux-<run>.kubeconfig --context kind-gameday-flux-<run>\n"),
        "{calls}"
    );
    cx.cleanup.run(false).await;
    assert!(fakes.clusters().is_empty());
}
