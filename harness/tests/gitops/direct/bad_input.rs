//! Bad input with the direct method: the first reconciliation fails with a
//! message naming the file or object and what is wrong — never a hang.

use std::path::Path;
use std::time::Duration;

use gameday::gitops::bootstrap::Error;
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::sim::Profile;

use crate::flux::world::World;

fn write(root: &Path, file: &str, text: &str) {
    let p = root.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

async fn world() -> (World, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "not-yaml/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    );
    write(
        d,
        "no-kind/doc.yaml",
        "apiVersion: v1\nmetadata: {name: kindless, namespace: default}\n",
    );
    write(
        d,
        "unknown-kind/gadget.yaml",
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: default}\n",
    );
    write(
        d,
        "kustomize-error/kustomization.yaml",
        "resources: [missing.yaml]\n",
    );
    write(
        d,
        "orphan-cr/policy.yaml",
        "apiVersion: platform.example.com/v1alpha1\nkind: BackupPolicy\nmetadata: {name: nightly, namespace: default}\n",
    );
    let repo = Repo::init(d, &FixtureOptions::default()).await.unwrap();
    (World::with_repo(repo, "bad", Profile::instant()).await, dir)
}

fn message(r: Result<gameday::gitops::bootstrap::direct::DirectReconciler, Error>) -> String {
    match r {
        Err(Error::Direct { message }) => message,
        Err(other) => panic!("expected a failed first reconciliation, got: {other}"),
        Ok(_) => panic!("expected a failure"),
    }
}

#[tokio::test]
async fn each_bad_input_fails_the_first_reconciliation_with_a_clear_message() {
    let (w, _dir) = world().await;
    let t = Duration::from_secs(60);
    let m = message(w.direct("not-yaml", t).await);
    assert!(
        m.contains("./not-yaml")
            && m.contains("not-yaml/broken.yaml")
            && m.contains("invalid YAML"),
        "{m}"
    );
    let m = message(w.direct("no-kind", t).await);
    assert!(
        m.contains("no-kind/doc.yaml, document 1") && m.contains("missing `kind`"),
        "{m}"
    );
    let m = message(w.direct("unknown-kind", t).await);
    assert!(m.contains("Gadget/default/g (from unknown-kind/gadget.yaml, document 1 (line 1)): no matches for kind \"Gadget\""), "{m}");
    let m = message(w.direct("kustomize-error", t).await);
    assert!(
        m.contains("kustomize build of `kustomize-error` failed") && m.contains("missing.yaml"),
        "{m}"
    );
    let m = message(w.direct("orphan-cr", t).await);
    assert!(
        m.contains("BackupPolicy/default/nightly")
            && m.contains("install its CustomResourceDefinition"),
        "{m}"
    );
    let m = message(w.direct("does-not-exist", t).await);
    assert!(m.contains("path `does-not-exist` does not exist"), "{m}");
}

#[tokio::test]
async fn a_missing_revision_fails_the_fetch() {
    let (w, _dir) = world().await;
    let mut source = w.source("no-kind");
    source.reference = GitRef::branch("nope");
    let config = gameday::gitops::bootstrap::direct::DirectConfig::from_settings(
        &gameday::scenario::model::DirectSettings {
            interval: Duration::from_secs(60),
            prune: true,
            concurrency: 4,
            namespace: "default".into(),
        },
    );
    let r = gameday::gitops::bootstrap::direct::bootstrap(
        &w.applier,
        source,
        config,
        &[],
        Duration::from_secs(60),
    )
    .await;
    let m = message(r);
    assert!(
        m.contains("couldn't find remote ref \"refs/heads/nope\""),
        "{m}"
    );
    assert!(m.starts_with("fetching http://127.0.0.1:"), "{m}");
}
