//! The emulated source-controller: revisions in Flux's format for every
//! kind of reference, and suspend / deletion of Kustomizations.

use std::time::Duration;

use gameday::gitops::apply::Manifest;
use gameday::process::Cmd;
use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;
use serde_json::json;

use super::world::{World, ready};

fn git_repository(name: &str, url: &str, reference: serde_json::Value) -> Manifest {
    Manifest::new(
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "5m", "url": url, "ref": reference}}),
    )
}

async fn git(dir: &std::path::Path, args: &[&str]) -> String {
    Cmd::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=t", "-c", "user.email=t@localhost", "-C"])
        .arg(dir)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"))
        .stdout
        .trim()
        .to_owned()
}

#[tokio::test]
async fn revisions_follow_flux_for_branches_tags_semver_and_commits() {
    let w = World::new("shop", Profile::instant()).await;
    w.bootstrap("").await.expect("bootstrap");
    let dir = w.repo.path().to_owned();
    let head = git(&dir, &["rev-parse", "HEAD"]).await;
    for tag in ["v0.9.0", "v1.2.0", "v2.0.0"] {
        git(&dir, &["tag", "-a", tag, "-m", tag]).await;
    }
    let url = w.server.url();
    w.applier
        .apply(vec![
            git_repository("by-tag", &url, json!({"tag": "v1.2.0"})),
            git_repository(
                "by-semver",
                &url,
                json!({"semver": ">=1.0.0 <2.0.0", "tag": "v0.9.0"}),
            ),
            git_repository("by-commit", &url, json!({"commit": head})),
            git_repository(
                "by-commit-on-branch",
                &url,
                json!({"commit": head, "branch": "main"}),
            ),
            git_repository("by-name", &url, json!({"name": "refs/heads/main"})),
        ])
        .await
        .check()
        .unwrap();
    let repos = Gvr::new("source.toolkit.fluxcd.io", "v1", "gitrepositories");
    let t = Duration::from_secs(600);
    for (name, revision) in [
        ("by-tag", format!("v1.2.0@sha1:{head}")),
        ("by-semver", format!("v1.2.0@sha1:{head}")),
        ("by-commit", format!("sha1:{head}")),
        ("by-commit-on-branch", format!("main@sha1:{head}")),
        ("by-name", format!("refs/heads/main@sha1:{head}")),
    ] {
        let r = w.wait_reason(&repos, name, "Succeeded", t).await;
        let artifact = &r["status"]["artifact"];
        assert_eq!(artifact["revision"], revision.as_str(), "{name}");
        assert_eq!(
            ready(&r).2,
            format!("stored artifact for revision '{revision}'")
        );
        assert!(
            artifact["digest"].as_str().unwrap().starts_with("sha256:")
                && artifact["digest"].as_str().unwrap().len() == 71
        );
        assert_eq!(
            artifact["path"],
            format!("gitrepository/flux-system/{name}/{head}.tar.gz")
        );
        assert!(artifact["size"].as_u64().unwrap() > 0);
        assert_eq!(r["metadata"]["finalizers"][0], "finalizers.fluxcd.io");
    }
}

#[tokio::test]
async fn suspended_kustomizations_do_nothing_and_deleted_ones_take_their_objects() {
    let w = World::new("podinfo", Profile::instant()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_kustomizations(
        &["flux-system", "infrastructure", "apps"],
        Duration::from_secs(600),
    )
    .await;
    let deployments = Gvr::new("apps", "v1", "deployments");
    // The root would re-create `apps` at its next interval: suspend it.
    w.tb.kubectl(&[
        "patch",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "flux-system",
        "-n",
        "flux-system",
        "--type=merge",
        "-p",
        r#"{"spec":{"suspend":true}}"#,
    ])
    .await;
    w.tb.kubectl(&[
        "delete",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "apps",
        "-n",
        "flux-system",
        "--timeout=60s",
    ])
    .await;
    assert!(
        !w.exists(&deployments, "podinfo", "podinfo"),
        "prune: true garbage-collects on deletion"
    );
    assert!(!w.exists(
        &Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
        "flux-system",
        "apps"
    ));
    // Suspended: a whole interval later, nothing was re-created.
    drop(w.tb.clock().sleep(Duration::from_secs(1200)).await);
    assert!(!w.exists(
        &Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
        "flux-system",
        "apps"
    ));
    // Resumed: the root re-creates `apps`, which applies podinfo again.
    w.tb.kubectl(&[
        "patch",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "flux-system",
        "-n",
        "flux-system",
        "--type=merge",
        "-p",
        r#"{"spec":{"suspend":false}}"#,
    ])
    .await;
    w.wait_kustomizations(&["flux-system", "apps"], Duration::from_secs(1800))
        .await;
    assert!(w.exists(&deployments, "podinfo", "podinfo"));
}
