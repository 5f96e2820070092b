//! The emulated source-controller's Helm side: HelmRepositories (an index
//! over HTTP(S), here mirrored from `fixtures/mirrors`), HelmCharts
//! (written by the emulated helm-controller from a HelmRelease's template,
//! or by hand), semver selection, and the named failure of a repository
//! nobody can reach.

use std::time::Duration;

use gameday::gitops::mirror::{Mirror, Mirrors};
use gameday::gitops::repo::{FixtureOptions, Repo};
use gameday::sim::Profile;
use gameday::sim::flux::FluxOptions;
use gameday::sim::storage::store::{ObjectRef, conditions};
use serde_json::{Value, json};

use super::world::{World, helm_installed, ready};
use crate::fixture;

const WAIT: Duration = Duration::from_secs(900);

fn mirrored() -> FluxOptions {
    let path = crate::common::fixtures().join("mirrors/charts.gameday.example");
    FluxOptions {
        mirrors: Mirrors::new(vec![
            Mirror::new("https://charts.gameday.example", path).unwrap(),
        ]),
        ..FluxOptions::default()
    }
}

async fn world(options: FluxOptions) -> World {
    let repo = Repo::from_fixture(&fixture("helm"), &FixtureOptions::default())
        .await
        .expect("fixture repository");
    World::with_flux(repo, "helm", Profile::instant(), options).await
}

fn is_ready(o: &Value) -> bool {
    conditions::condition_status(o, "Ready") == Some("True")
}

fn helm_charts() -> gameday::sim::storage::store::Gvr {
    gameday::sim::flux::helm_chart::gvr()
}

/// Applies a HelmChart written by hand.
fn apply_chart(w: &World, name: &str, version: &str) {
    let obj = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"chart": "edge", "version": version, "interval": "1h",
            "sourceRef": {"kind": "HelmRepository", "name": "charts"}}});
    let r = ObjectRef::namespaced(helm_charts(), "flux-system", name);
    w.tb.cluster
        .store()
        .apply(&r, obj, "test", true)
        .expect("HelmChart applied");
}

#[tokio::test]
async fn a_release_of_a_mirrored_helm_repository_is_installed_with_the_highest_matching_version() {
    if !helm_installed() {
        return;
    }
    let w = world(mirrored()).await;
    w.bootstrap("clusters/production").await.expect("bootstrap");
    let hr = gameday::sim::flux::helm::gvr();
    let edge = w.wait_until(&hr, "edge", "Ready", WAIT, is_ready).await;
    // 1.x: 1.1.0, not 1.0.0 and not the 2.0.0-rc.1 pre-release.
    assert_eq!(
        ready(&edge),
        (
            "True".into(),
            "InstallSucceeded".into(),
            "Helm install succeeded for release ingress/ingress-edge.v1 with chart edge@1.1.0"
                .into()
        )
    );
    assert_eq!(edge["status"]["helmChart"], "flux-system/flux-system-edge");
    assert_eq!(edge["status"]["lastAttemptedRevision"], "1.1.0");

    // The HelmRepository: the index gameday wrote for the mirror folder,
    // its digest as revision; the object keeps its real URL.
    let repo = w
        .wait_until(
            &gameday::sim::flux::helm_repository::gvr(),
            "charts",
            "Ready",
            WAIT,
            is_ready,
        )
        .await;
    let revision = repo["status"]["artifact"]["revision"].as_str().unwrap();
    assert!(revision.starts_with("sha256:"), "{revision}");
    assert_eq!(
        ready(&repo),
        (
            "True".into(),
            "Succeeded".into(),
            format!("stored artifact: revision '{revision}'")
        )
    );
    assert_eq!(repo["spec"]["url"], "https://charts.gameday.example");
    let artifact = repo["status"]["artifact"]["path"].as_str().unwrap();
    assert_eq!(
        artifact,
        format!(
            "helmrepository/flux-system/charts/index-{}.yaml",
            &revision[7..]
        )
    );

    // The HelmChart the release's template made, as helm-controller makes it.
    let chart = w
        .wait_until(&helm_charts(), "flux-system-edge", "Ready", WAIT, is_ready)
        .await;
    assert_eq!(
        ready(&chart),
        (
            "True".into(),
            "ChartPullSucceeded".into(),
            "pulled 'edge' chart with version '1.1.0'".into()
        )
    );
    assert_eq!(chart["status"]["artifact"]["revision"], "1.1.0");
    assert_eq!(
        chart["status"]["artifact"]["path"],
        "helmchart/flux-system/flux-system-edge/edge-1.1.0.tgz"
    );
    assert_eq!(
        chart["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"],
        "edge"
    );
    assert_eq!(chart["spec"]["version"], "1.x");

    // The real helm sees the release; kubectl shows Flux's columns.
    let helm =
        gameday::gitops::helm::Helm::new(&gameday::process::Lookup::default(), &w.tb.kubeconfig())
            .unwrap();
    let listed: Vec<(String, String)> = helm
        .list(Some("ingress"))
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.name, l.chart))
        .collect();
    assert_eq!(
        listed,
        [("ingress-edge".to_owned(), "edge-1.1.0".to_owned())]
    );
    let replicas =
        w.tb.kubectl(&[
            "get",
            "deploy",
            "ingress-edge-edge",
            "-n",
            "ingress",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ])
        .await;
    assert_eq!(replicas, "2");
    let table =
        w.tb.kubectl(&["get", "helmcharts", "-n", "flux-system"])
            .await;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME", "CHART", "VERSION", "SOURCE", "KIND", "SOURCE", "NAME", "AGE", "READY",
            "STATUS"
        ]
    );
    assert!(table.contains("flux-system-edge"), "{table}");
    let table = w.tb.kubectl(&["get", "helmreleases", "-A"]).await;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAMESPACE", "NAME", "AGE", "READY", "STATUS"]);
    assert!(
        table.contains(
            "Helm install succeeded for release ingress/ingress-edge.v1 with chart edge@1.1.0"
        ),
        "{table}"
    );
    let table = w.tb.kubectl(&["get", "helmrepositories", "-A"]).await;
    assert!(table.contains("https://charts.gameday.example"), "{table}");
    assert!(
        table.contains("stored artifact: revision 'sha256:"),
        "{table}"
    );

    // The Git-kept charts go through HelmCharts too (packaged, not pulled).
    let web = w
        .wait_until(&helm_charts(), "flux-system-web", "Ready", WAIT, is_ready)
        .await;
    assert_eq!(ready(&web).1, "ChartPackageSucceeded");
    assert_eq!(ready(&web).2, "packaged 'hello' chart with version '1.0.0'");
}

#[tokio::test]
async fn semver_ranges_select_as_flux_does_and_a_missing_version_stalls() {
    if !helm_installed() {
        return;
    }
    let w = world(mirrored()).await;
    w.bootstrap("clusters/production").await.expect("bootstrap");
    for (name, version, want) in [
        ("exact", "1.0.0", "1.0.0"),
        ("patch", "1.0.x", "1.0.0"),
        ("any", "*", "1.1.0"),
        ("pre", ">=1.0.0-alpha", "2.0.0-rc.1"),
        ("tilde", "~1.0", "1.0.0"),
        ("either", "<1.1.0 || >=3", "1.0.0"),
    ] {
        apply_chart(&w, name, version);
        let c = w
            .wait_until(&helm_charts(), name, "Ready", WAIT, is_ready)
            .await;
        assert_eq!(
            c["status"]["artifact"]["revision"], want,
            "{version} should select {want}"
        );
    }
    apply_chart(&w, "none", "9.x");
    let c = w
        .wait_until(&helm_charts(), "none", "Stalled", WAIT, |o| {
            conditions::condition_status(o, "Stalled") == Some("True")
        })
        .await;
    assert_eq!(
        ready(&c),
        (
            "False".into(),
            "InvalidChartReference".into(),
            "invalid chart reference: failed to get chart version for remote reference: no 'edge' chart with version matching '9.x' found".into()
        )
    );
}

#[tokio::test]
async fn a_helm_repository_nobody_can_reach_is_not_ready_naming_the_url() {
    if !helm_installed() {
        return;
    }
    // No mirror: the emulated source-controller fetches the real URL. A
    // port nothing listens on stands for a host without network.
    let w = world(FluxOptions::default()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let repo = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
        "metadata": {"name": "offline", "namespace": "flux-system"},
        "spec": {"interval": "1h", "url": "http://127.0.0.1:9/charts"}});
    let r = ObjectRef::namespaced(
        gameday::sim::flux::helm_repository::gvr(),
        "flux-system",
        "offline",
    );
    w.tb.cluster.store().apply(&r, repo, "test", true).unwrap();
    let failed = w
        .wait_until(
            &gameday::sim::flux::helm_repository::gvr(),
            "offline",
            "Ready=False",
            WAIT,
            |o| conditions::condition_status(o, "Ready") == Some("False"),
        )
        .await;
    let (status, reason, message) = ready(&failed);
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Failed"));
    assert!(
        message.starts_with(
            "failed to fetch Helm repository index: failed to fetch http://127.0.0.1:9/charts/index.yaml : "
        ),
        "{message}"
    );
    assert_eq!(
        conditions::condition_status(&failed, "FetchFailed"),
        Some("True")
    );
    assert!(failed["status"]["artifact"].is_null());
}

#[tokio::test]
async fn values_files_and_the_revision_strategy_shape_the_packaged_chart() {
    if !helm_installed() {
        return;
    }
    let w = world(mirrored()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let head = w.head().await;
    let sha = head.rsplit(':').next().unwrap();
    // A Git chart, every commit a new revision, production values merged
    // over the chart's own (paths from the source's root).
    let release = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "prod", "namespace": "flux-system"},
        "spec": {"interval": "10m", "targetNamespace": "default",
            "chart": {"spec": {"chart": "./charts/hello", "reconcileStrategy": "Revision",
                "valuesFiles": ["charts/hello/values.yaml", "values/prod.yaml"],
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}}});
    let r = ObjectRef::namespaced(gameday::sim::flux::helm::gvr(), "flux-system", "prod");
    w.tb.cluster
        .store()
        .apply(&r, release, "test", true)
        .unwrap();
    let hr = w
        .wait_until(
            &gameday::sim::flux::helm::gvr(),
            "prod",
            "Ready",
            WAIT,
            is_ready,
        )
        .await;
    let version = format!("1.0.0+{}.1", &sha[..12]);
    assert_eq!(hr["status"]["lastAttemptedRevision"], version.as_str());
    let chart = w
        .wait_until(&helm_charts(), "flux-system-prod", "Ready", WAIT, is_ready)
        .await;
    assert_eq!(
        ready(&chart).2,
        format!(
            "packaged 'hello' chart with version '{version}' and merged values files [charts/hello/values.yaml, values/prod.yaml]"
        )
    );
    assert_eq!(
        chart["status"]["observedValuesFiles"],
        json!(["charts/hello/values.yaml", "values/prod.yaml"])
    );
    let greeting =
        w.tb.kubectl(&[
            "get",
            "cm",
            "default-prod-hello",
            "-n",
            "default",
            "-o",
            "jsonpath={.data.greeting}",
        ])
        .await;
    assert_eq!(greeting, "hello-from-prod");
    let replicas =
        w.tb.kubectl(&[
            "get",
            "deploy",
            "default-prod-hello",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .await;
    assert_eq!(replicas, "3");

    // A values file the repository chart does not have stalls the chart.
    let missing = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
        "metadata": {"name": "missing", "namespace": "flux-system"},
        "spec": {"chart": "edge", "version": "1.x", "interval": "1h",
            "valuesFiles": ["values.yaml", "values-prod.yaml"],
            "sourceRef": {"kind": "HelmRepository", "name": "charts"}}});
    let repo = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
        "metadata": {"name": "charts", "namespace": "flux-system"},
        "spec": {"interval": "1h", "url": "https://charts.gameday.example"}});
    let store = w.tb.cluster.store();
    let at = |g, n: &str| ObjectRef::namespaced(g, "flux-system", n);
    store
        .apply(
            &at(gameday::sim::flux::helm_repository::gvr(), "charts"),
            repo,
            "test",
            true,
        )
        .unwrap();
    store
        .apply(&at(helm_charts(), "missing"), missing, "test", true)
        .unwrap();
    let c = w
        .wait_until(&helm_charts(), "missing", "Stalled", WAIT, |o| {
            conditions::condition_status(o, "Stalled") == Some("True")
        })
        .await;
    assert_eq!(
        ready(&c),
        (
            "False".into(),
            "ValuesFilesError".into(),
            "values files merge error: no values file found at path 'values-prod.yaml'".into()
        )
    );
}

/// The time of one HelmRelease install, sequentially, 50 times (`cargo
/// nextest run -p gameday --test gitops --run-ignored ignored-only
/// helm_install_time --no-capture`): wall and simulated medians printed.
/// Ignored: a measurement, not a check (figures in the README).
#[tokio::test]
#[ignore = "a measurement; run it by name"]
#[allow(clippy::print_stdout)]
async fn helm_install_time() {
    if !helm_installed() {
        return;
    }
    let w = world(FluxOptions::default()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let (mut wall, mut sim) = (Vec::new(), Vec::new());
    for n in 0..50 {
        let name = format!("rel-{n}");
        let hr = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"interval": "10m", "targetNamespace": format!("bench-{n}"),
                "install": {"createNamespace": true},
                "chart": {"spec": {"chart": "./charts/hello",
                    "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}}});
        let r = ObjectRef::namespaced(gameday::sim::flux::helm::gvr(), "flux-system", &name);
        let start = w.tb.clock().now();
        let t = std::time::Instant::now();
        w.tb.cluster.store().apply(&r, hr, "test", true).unwrap();
        let o = w
            .wait_until(
                &gameday::sim::flux::helm::gvr(),
                &name,
                "Ready",
                WAIT,
                is_ready,
            )
            .await;
        wall.push(t.elapsed());
        let at: jiff::Timestamp = o["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
            .and_then(|c| c["lastTransitionTime"].as_str())
            .and_then(|t| t.parse().ok())
            .unwrap();
        sim.push(at.duration_since(start).unsigned_abs());
        println!("{name}: wall {:?}, simulated {:?}", wall[n], sim[n]);
    }
    wall.sort();
    sim.sort();
    println!(
        "helm install: 50 releases, median wall {:?} (p90 {:?}), median simulated {:?}",
        wall[25], wall[45], sim[25]
    );
}
