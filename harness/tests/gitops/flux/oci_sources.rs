//! The emulated source-controller's OCI side: OCIRepositories (semver,
//! tags, digests, layer selection) consumed by Kustomizations and by
//! HelmReleases through `chartRef`, OCI HelmRepositories, both served API
//! versions, and the named failure of a registry nobody can reach. The
//! registry is `fixtures/mirrors/ghcr.io/gameday-example`, pushed by
//! gameday into the registry it serves on 127.0.0.1.

use std::time::Duration;

use gameday::gitops::mirror::{Mirror, Mirrors};
use gameday::gitops::oci::{Oci, Ref};
use gameday::gitops::repo::{FixtureOptions, Repo};
use gameday::sim::Profile;
use gameday::sim::flux::FluxOptions;
use gameday::sim::storage::store::{ObjectRef, conditions};
use serde_json::{Value, json};

use super::world::{World, deployments, helm_installed, ready};
use crate::fixture;

const WAIT: Duration = Duration::from_secs(900);
const REGISTRY: &str = "oci://ghcr.io/gameday-example";
const APPS: &str = "oci://ghcr.io/gameday-example/manifests/apps";

fn mirrors() -> Mirrors {
    let path = crate::common::fixtures().join("mirrors/ghcr.io/gameday-example");
    Mirrors::new(vec![Mirror::new(REGISTRY, path).unwrap()])
}

fn mirrored() -> FluxOptions {
    FluxOptions {
        mirrors: mirrors(),
        ..FluxOptions::default()
    }
}

async fn world(options: FluxOptions) -> World {
    world_of("oci", options).await
}

async fn world_of(name: &str, options: FluxOptions) -> World {
    let repo = Repo::from_fixture(&fixture(name), &FixtureOptions::default())
        .await
        .expect("fixture repository");
    World::with_flux(repo, name, Profile::instant(), options).await
}

fn is_ready(o: &Value) -> bool {
    conditions::condition_status(o, "Ready") == Some("True")
        && o.pointer("/metadata/generation") == o.pointer("/status/observedGeneration")
}

fn oci_repositories() -> gameday::sim::storage::store::Gvr {
    gameday::sim::flux::oci_repository::gvr()
}

/// Applies an OCIRepository written by hand.
fn apply_repo(w: &World, name: &str, spec: Value) {
    let obj = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": "flux-system"}, "spec": spec});
    let r = ObjectRef::namespaced(oci_repositories(), "flux-system", name);
    w.tb.cluster
        .store()
        .apply(&r, obj, "test", true)
        .expect("OCIRepository applied");
}

#[tokio::test]
async fn semver_takes_the_highest_matching_tag_and_the_kustomization_applies_its_artifact() {
    let w = world(mirrored()).await;
    w.bootstrap("clusters/production").await.expect("bootstrap");
    let repo = w
        .wait_until(&oci_repositories(), "apps", "Ready", WAIT, is_ready)
        .await;
    // 1.x: 1.1.0, not 1.0.0 and not 2.0.0.
    let revision = repo["status"]["artifact"]["revision"]
        .as_str()
        .unwrap()
        .to_owned();
    let (tag, digest) = revision.split_once('@').unwrap();
    assert_eq!(tag, "1.1.0");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        ready(&repo),
        (
            "True".into(),
            "Succeeded".into(),
            format!("stored artifact for digest '{revision}'")
        )
    );
    assert_eq!(
        conditions::condition_status(&repo, "ArtifactInStorage"),
        Some("True")
    );
    assert_eq!(
        repo["status"]["artifact"]["path"],
        format!("ocirepository/flux-system/apps/{digest}.tar.gz").as_str()
    );
    assert_eq!(
        repo["status"]["url"],
        "http://source-controller.flux-system.svc.cluster.local./ocirepository/flux-system/apps/latest.tar.gz"
    );
    // The manifest's annotations, as `flux push artifact` writes them.
    assert_eq!(
        repo["status"]["artifact"]["metadata"]["org.opencontainers.image.source"],
        APPS
    );
    assert_eq!(repo["spec"]["url"], APPS, "the object keeps its real URL");

    // The Kustomization applied that artifact: the 1.1.0 Deployment.
    let ks = w
        .wait_until(
            &gameday::sim::flux::kustomize::gvr(),
            "apps",
            "Ready",
            WAIT,
            is_ready,
        )
        .await;
    assert_eq!(
        ready(&ks).2,
        format!("Applied revision: {revision}"),
        "{ks:#}"
    );
    assert_eq!(ks["status"]["lastAppliedRevision"], revision.as_str());
    let shop =
        w.tb.cluster
            .store()
            .get(&ObjectRef::namespaced(deployments(), "shop", "shop"))
            .expect("the artifact's Deployment");
    assert_eq!(
        shop["metadata"]["labels"]["app.kubernetes.io/version"],
        "1.1.0"
    );

    // kubectl: Flux's columns, and the same object through v1beta2.
    let table = w.tb.kubectl(&["get", "ocirepositories", "-A"]).await;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "URL", "READY", "STATUS", "AGE"],
        "{table}"
    );
    assert!(table.contains(APPS), "{table}");
    let old =
        w.tb.kubectl(&[
            "get",
            "ocirepositories.v1beta2.source.toolkit.fluxcd.io",
            "-n",
            "flux-system",
            "apps",
            "-o",
            "jsonpath={.apiVersion} {.status.artifact.revision}",
        ])
        .await;
    assert_eq!(old, format!("source.toolkit.fluxcd.io/v1beta2 {revision}"));
}

#[tokio::test]
async fn a_digest_pins_the_artifact_a_tag_follows_it_and_a_filter_narrows_semver() {
    let w = world(mirrored()).await;
    w.bootstrap("clusters/production").await.expect("bootstrap");
    // The digest the 1.0.0 tag points at, read through gameday's registry.
    let oci = Oci::new(mirrors());
    let pinned = oci
        .manifest(APPS, &Ref::Tag("1.0.0".into()), false, WAIT)
        .await
        .expect("1.0.0 manifest")
        .digest;
    apply_repo(
        &w,
        "pinned",
        json!({"interval": "1h", "url": APPS, "ref": {"digest": pinned, "tag": "2.0.0"}}),
    );
    apply_repo(
        &w,
        "tagged",
        json!({"interval": "1h", "url": APPS, "ref": {"tag": "1.0.0"}}),
    );
    apply_repo(
        &w,
        "filtered",
        json!({"interval": "1h", "url": APPS, "ref": {"semver": ">=1.0.0", "semverFilter": "^1\\.0\\."}}),
    );
    let p = w
        .wait_until(&oci_repositories(), "pinned", "Ready", WAIT, is_ready)
        .await;
    assert_eq!(p["status"]["artifact"]["revision"], pinned.as_str());
    let t = w
        .wait_until(&oci_repositories(), "tagged", "Ready", WAIT, is_ready)
        .await;
    assert_eq!(
        t["status"]["artifact"]["revision"],
        format!("1.0.0@{pinned}").as_str()
    );
    let f = w
        .wait_until(&oci_repositories(), "filtered", "Ready", WAIT, is_ready)
        .await;
    assert_eq!(
        f["status"]["artifact"]["revision"],
        format!("1.0.0@{pinned}").as_str()
    );
    // What was stored is the 1.0.0 content.
    let tree = w
        .flux
        .artifact_dir()
        .join(format!("ocirepository/flux-system/pinned/{pinned}"));
    let deployment = std::fs::read_to_string(tree.join("deployment.yaml")).unwrap();
    assert!(deployment.contains("version: \"1.0.0\""), "{deployment}");

    // A range nothing matches, a tag in the URL: Flux's reasons.
    apply_repo(
        &w,
        "none",
        json!({"interval": "1h", "url": APPS, "ref": {"semver": "9.x"}}),
    );
    apply_repo(
        &w,
        "tag-in-url",
        json!({"interval": "1h", "url": format!("{APPS}:1.0.0")}),
    );
    let none = w
        .wait_until(&oci_repositories(), "none", "Ready=False", WAIT, |o| {
            conditions::condition_status(o, "Ready") == Some("False")
        })
        .await;
    assert_eq!(
        ready(&none),
        (
            "False".into(),
            "ReadOperationFailed".into(),
            format!(
                "failed to determine the artifact tag for '{APPS}': no match found for semver: 9.x"
            )
        )
    );
    let bad = w
        .wait_until(&oci_repositories(), "tag-in-url", "Stalled", WAIT, |o| {
            conditions::condition_status(o, "Stalled") == Some("True")
        })
        .await;
    assert_eq!(
        ready(&bad),
        (
            "False".into(),
            "URLInvalid".into(),
            format!(
                "URL validation failed for '{APPS}:1.0.0': URL must not contain a tag; remove ':1.0.0'"
            )
        )
    );
}

#[tokio::test]
async fn helm_charts_come_from_oci_through_chart_ref_and_an_oci_helm_repository() {
    if !helm_installed() {
        return;
    }
    let w = world(mirrored()).await;
    w.bootstrap("clusters/production").await.expect("bootstrap");
    let hr = gameday::sim::flux::helm::gvr();

    // chartRef → OCIRepository, the chart layer copied as is: the chart's
    // version carries the artifact's digest, as helm-controller records it.
    let chart_repo = w
        .wait_until(&oci_repositories(), "edge-chart", "Ready", WAIT, is_ready)
        .await;
    let revision = chart_repo["status"]["artifact"]["revision"]
        .as_str()
        .unwrap();
    let digest = revision.split_once('@').unwrap().1;
    assert!(revision.starts_with("1.1.0@sha256:"), "{revision}");
    let stored = w
        .flux
        .artifact_dir()
        .join(chart_repo["status"]["artifact"]["path"].as_str().unwrap());
    let original = crate::common::fixtures()
        .join("mirrors/ghcr.io/gameday-example/charts/edge/1.1.0/edge-1.1.0.tgz");
    assert_eq!(
        std::fs::read(stored).unwrap(),
        std::fs::read(original).unwrap(),
        "operation: copy stores the layer as pulled"
    );
    let edge = w.wait_until(&hr, "edge", "Ready", WAIT, is_ready).await;
    let version = format!("1.1.0+{}", &digest[7..19]);
    assert_eq!(edge["status"]["lastAttemptedRevision"], version.as_str());
    assert!(edge["status"]["helmChart"].is_null(), "{edge:#}");
    assert_eq!(
        edge["status"]["history"][0]["ociDigest"], digest,
        "the release's snapshot records the artifact's digest, as helm-controller does"
    );
    assert_eq!(
        ready(&edge).2,
        format!(
            "Helm install succeeded for release ingress/ingress-edge.v1 with chart edge@{version}"
        )
    );
    // The release's copy of the chart (with the digest in its version)
    // lives with the HelmRelease's working files, and goes with it.
    let copy = w
        .flux
        .artifact_dir()
        .join("helmrelease/flux-system/edge")
        .join(&version);
    assert!(copy.join("Chart.yaml").is_file(), "{}", copy.display());

    // An OCI HelmRepository is static; its HelmChart pulls `<url>/edge`
    // at the highest ~1.0 tag.
    let status = w.wait_until(&hr, "status", "Ready", WAIT, is_ready).await;
    assert_eq!(status["status"]["lastAttemptedRevision"], "1.0.0");
    let chart = w
        .wait_until(
            &gameday::sim::flux::helm_chart::gvr(),
            "flux-system-status",
            "Ready",
            WAIT,
            is_ready,
        )
        .await;
    assert_eq!(
        ready(&chart),
        (
            "True".into(),
            "ChartPullSucceeded".into(),
            "pulled 'edge' chart with version '1.0.0'".into()
        )
    );
    let helm_repo =
        w.tb.cluster
            .store()
            .get(&ObjectRef::namespaced(
                gameday::sim::flux::helm_repository::gvr(),
                "flux-system",
                "charts",
            ))
            .unwrap();
    assert_eq!(helm_repo["status"], json!({}), "{helm_repo:#}");

    w.delete(&hr, "flux-system", "edge").await;
    w.wait_gone(&hr, "flux-system", "edge", WAIT).await;
    assert!(
        !copy.parent().unwrap().exists(),
        "the release's working files are removed with it: {}",
        copy.display()
    );
}

#[tokio::test]
async fn a_registry_nobody_can_reach_is_not_ready_naming_the_url() {
    // No mirror: the real registry is contacted. A port nothing listens
    // on (plain HTTP: `insecure`) stands for a host without network.
    // (A repository without OCI sources: nothing else reaches out.)
    let w = world_of("helm", FluxOptions::default()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let url = "oci://127.0.0.1:9/acme/apps";
    apply_repo(
        &w,
        "offline",
        json!({"interval": "1h", "url": url, "insecure": true, "ref": {"tag": "1.0.0"}}),
    );
    let failed = w
        .wait_until(&oci_repositories(), "offline", "Ready=False", WAIT, |o| {
            conditions::condition_status(o, "Ready") == Some("False")
        })
        .await;
    let (status, reason, message) = ready(&failed);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "OCIArtifactPullFailed")
    );
    assert!(
        message.starts_with(&format!(
            "failed to determine artifact digest: {url}:1.0.0: "
        )),
        "{message}"
    );
    assert_eq!(
        conditions::condition_status(&failed, "FetchFailed"),
        Some("True")
    );
    assert!(failed["status"]["artifact"].is_null());
}

/// `spec.source.oci` as a scenario gives it: the fleet artifact at 1.x.
fn fleet_source(semver: &str) -> gameday::scenario::model::Source {
    use gameday::gitops::oci::artifact::ArtifactRef;
    use gameday::scenario::model::{GitRef as SpecRef, Source, SourceLocation};
    Source {
        location: SourceLocation::Oci {
            url: format!("{REGISTRY}/fleet"),
            reference: ArtifactRef::Semver(semver.to_owned()),
        },
        reference: SpecRef {
            branch: None,
            tag: None,
            commit: None,
        },
        path: "clusters/production".into(),
    }
}

#[tokio::test]
async fn a_cluster_bootstraps_from_an_oci_artifact_at_the_highest_matching_tag() {
    use gameday::gitops::bootstrap::Source;

    let scratch = tempfile::tempdir().unwrap();
    let mut source = Source::prepare("fleet", &fleet_source("1.x"), scratch.path(), &mirrors())
        .await
        .expect("the artifact is pulled");
    // gameday's own copy — what it renders, scans and judges — is the
    // artifact at the highest 1.x tag, not 2.0.0.
    let revision = source.revision().to_owned();
    assert!(revision.starts_with("1.1.0@sha256:"), "{revision}");
    let info =
        std::fs::read_to_string(source.repo().path().join("platform/fleet-info.yaml")).unwrap();
    assert!(info.contains("version: \"1.1.0\""), "{info}");
    let sync = source.sync_source();
    assert_eq!(sync.url, format!("{REGISTRY}/fleet"));
    assert!(sync.artifact.is_some());
    // No Git history to break or revert.
    let refused = source.revert("abc1234").await.unwrap_err().to_string();
    assert!(refused.contains("OCI artifact"), "{refused}");

    // The cluster's flux-system source is an OCIRepository that pulls the
    // same artifact (through the same mirror), and the Kustomizations
    // that follow it apply that revision.
    let w = world(mirrored()).await;
    let report = w
        .bootstrap_from(&sync, &revision)
        .await
        .expect("bootstrap from the artifact");
    assert_eq!(report.revision, revision);
    let store = w.tb.cluster.store();
    let synced = store
        .get(&ObjectRef::namespaced(
            oci_repositories(),
            "flux-system",
            "flux-system",
        ))
        .unwrap();
    assert_eq!(synced["spec"]["ref"], json!({"semver": "1.x"}));
    assert_eq!(synced["status"]["artifact"]["revision"], revision.as_str());
    let git = ObjectRef::namespaced(
        gameday::sim::flux::source::gvr(),
        "flux-system",
        "flux-system",
    );
    assert!(store.get(&git).is_err(), "no GitRepository is made");
    let ks = gameday::sim::flux::kustomize::gvr();
    let platform = w.wait_until(&ks, "platform", "Ready", WAIT, is_ready).await;
    assert_eq!(platform["status"]["lastAppliedRevision"], revision.as_str());
    let cm = store
        .get(&ObjectRef::namespaced(
            gameday::sim::storage::store::Gvr::core("configmaps"),
            "platform",
            "fleet-info",
        ))
        .unwrap();
    assert_eq!(cm["data"]["version"], "1.1.0");
}

#[tokio::test]
async fn an_artifact_source_no_tag_matches_fails_naming_the_url_and_the_tags() {
    let scratch = tempfile::tempdir().unwrap();
    let err = gameday::gitops::bootstrap::Source::prepare(
        "fleet",
        &fleet_source("3.x"),
        scratch.path(),
        &mirrors(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        format!(
            "pulling the source artifact failed: {REGISTRY}/fleet: no tag matches semver '3.x' (tags: 1.0.0, 1.1.0, 2.0.0)"
        )
    );
}
