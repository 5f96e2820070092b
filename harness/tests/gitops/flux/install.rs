//! Installing Flux the three ways: the simulator's manifests (the other
//! tests), the `flux` CLI (a test double that records its arguments and
//! applies the manifests with kubectl) and a manifests file.

use std::time::Duration;

use gameday::gitops::bootstrap::flux::{self, FluxBootstrap, Install};
use gameday::gitops::bootstrap::{Error, flux::install};
use gameday::scenario::model::FluxSettings;
use gameday::sim::Profile;

use super::world::World;
use crate::common::{assert_golden, fixtures};

fn settings() -> FluxSettings {
    FluxSettings {
        manifests: None,
        interval: Duration::from_secs(60),
    }
}

#[test]
fn the_install_manifests_fixture_is_what_the_simulator_generates() {
    let text = gameday::flux::install::manifests_yaml();
    assert_golden(&fixtures().join("flux/install.yaml"), &text);
}

#[tokio::test]
async fn bootstrap_with_the_flux_cli() {
    let w = World::new("podinfo", Profile::instant()).await;
    let log = w.tb.dir.path().join("flux-args.log");
    let cache = w.tb.dir.path().join("kube-cache");
    let cfg = FluxBootstrap {
        install: Install::Cli {
            program: fixtures().join("bin/flux"),
            env: vec![
                ("FAKE_FLUX_LOG".into(), log.display().to_string()),
                ("KUBECACHEDIR".into(), cache.display().to_string()),
            ],
        },
        kubeconfig: Some(w.tb.kubeconfig()),
        ..FluxBootstrap::simulated(&settings(), &[])
    };
    let report = flux::bootstrap(
        &w.applier,
        &cfg,
        &w.source("clusters/staging"),
        &w.head().await,
    )
    .await
    .expect("bootstrap through the CLI");
    assert_eq!(report.install, "flux-cli");
    let args = std::fs::read_to_string(&log).expect("the CLI was run");
    assert_eq!(
        args.trim(),
        format!(
            "flux install --namespace flux-system --timeout 300s --kubeconfig {}",
            w.tb.kubeconfig().display()
        )
    );
    w.wait_kustomizations(
        &["flux-system", "infrastructure", "apps"],
        Duration::from_secs(600),
    )
    .await;
    let managers =
        w.tb.kubectl(&[
            "get",
            "deployment",
            "kustomize-controller",
            "-n",
            "flux-system",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ])
        .await;
    assert!(managers.contains("flux"), "{managers}");
}

#[tokio::test]
async fn bootstrap_with_an_install_manifests_file() {
    let w = World::new("shop", Profile::instant()).await;
    let cfg = FluxBootstrap {
        install: Install::Manifests {
            location: fixtures().join("flux/install.yaml").display().to_string(),
        },
        ..FluxBootstrap::simulated(&settings(), &[])
    };
    let report = flux::bootstrap(&w.applier, &cfg, &w.source(""), &w.head().await)
        .await
        .expect("bootstrap from the manifests file");
    assert_eq!(report.install, "manifests");
    assert!(
        report.installed_at <= report.source_ready_at && report.source_ready_at <= report.ready_at
    );
    w.wait_kustomizations(&["flux-system"], Duration::from_secs(600))
        .await;
}

#[tokio::test]
async fn unreadable_install_manifests_are_clear_errors() {
    let err = install::load_manifests("/nonexistent/install.yaml")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("could not read Flux's install manifests /nonexistent/install.yaml"),
        "{err}"
    );
    let err = install::load_manifests("http://127.0.0.1:1/install.yaml")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ManifestsDownload { .. }), "{err}");
    assert!(err.to_string().contains("with curl"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("install.yaml");
    std::fs::write(&bad, "kind: [unclosed\n").unwrap();
    let err = install::load_manifests(&bad.display().to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ManifestsParse { .. }), "{err}");
    if install::find_on_path("flux").is_none() {
        assert!(matches!(
            Install::for_real_cluster(None, None),
            Err(Error::NoInstallMethod)
        ));
    }
    assert!(matches!(
        Install::for_real_cluster(
            None,
            Some("https://github.com/fluxcd/flux2/releases/latest/download/install.yaml")
        ),
        Ok(Install::Manifests { .. }) | Ok(Install::Cli { .. })
    ));
}

/// A re-install into a namespace still terminating waits for it (watching,
/// not polling) and fails after its timeout naming the namespace when a
/// finalizer nobody removes holds it.
#[tokio::test]
async fn a_reinstall_waits_for_the_namespace_to_finish_terminating() {
    let w = World::new("podinfo", Profile::instant()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let held = w.tb.dir.path().join("held.yaml");
    std::fs::write(
        &held,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: flux-system\n  finalizers: [example.com/hold]\n",
    )
    .unwrap();
    w.tb.kubectl(&["apply", "-f", held.to_str().unwrap()]).await;
    w.tb.kubectl(&["delete", "namespace", "flux-system", "--wait=false"])
        .await;

    let cfg = FluxBootstrap {
        timeout: Duration::from_secs(120),
        ..FluxBootstrap::simulated(&settings(), &[])
    };
    let clock = w.tb.clock();
    let started = clock.now();
    let err = flux::bootstrap(
        &w.applier,
        &cfg,
        &w.source("clusters/staging"),
        &w.head().await,
    )
    .await
    .expect_err("the namespace never finishes terminating");
    assert!(
        err.to_string()
            .contains("namespace flux-system to finish terminating"),
        "{err}"
    );
    // The wait lasts its timeout: not less, and not a poll (250 ms) more.
    // Measured from before `bootstrap` starts, about one run in three on a
    // loaded 2-core machine sees 120.001 s (at this commit and before it):
    // one simulated millisecond passes before the wait begins; its cause
    // is not found, and it is not the wait's.
    let waited = clock.since(started);
    assert!(
        waited >= Duration::from_secs(120) && waited < Duration::from_millis(120_250),
        "waited {waited:?}: {err}"
    );

    // Once the finalizer goes, the namespace goes, and the install runs at
    // that same simulated instant.
    let release = tokio::spawn({
        let clock = clock.clone();
        let kubeconfig = w.tb.kubeconfig();
        async move {
            // Time stays while kubectl runs: the finalizer goes at +30 s.
            let _held = clock.sleep(Duration::from_secs(30)).await;
            let status = tokio::process::Command::new("kubectl")
                .args([
                    "patch",
                    "configmap",
                    "held",
                    "-n",
                    "flux-system",
                    "--type=json",
                ])
                .args(["-p", r#"[{"op":"remove","path":"/metadata/finalizers"}]"#])
                .env("KUBECONFIG", kubeconfig)
                .status()
                .await
                .unwrap();
            assert!(status.success());
            clock.now()
        }
    });
    let report = flux::bootstrap(
        &w.applier,
        &cfg,
        &w.source("clusters/staging"),
        &w.head().await,
    )
    .await
    .expect("the re-install after the namespace went");
    let released = release.await.unwrap();
    assert!(report.installed_at >= released, "{report:?}");
    w.wait_kustomizations(
        &["flux-system", "infrastructure", "apps"],
        Duration::from_secs(600),
    )
    .await;
}
