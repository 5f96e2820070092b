//! The emulated helm-controller: HelmReleases of a chart kept in Git
//! (`fixtures/repos/helm`), applied by a Kustomization, installed by the
//! real helm against the simulator and judged healthy on its clock.
//!
//! helm is found as gameday finds it (`GAMEDAY_HELM`, `PATH`,
//! `.tools/bin/helm` — `make tools` installs it). Without it the tests say
//! so loudly and pass, except under CI (`CI` set), where they fail.

use std::time::Duration;

use gameday::gitops::helm::Helm;
use gameday::gitops::repo::{FixtureOptions, Repo};
use gameday::process::Lookup;
use gameday::sim::Profile;
use gameday::sim::flux::helm::gvr;
use gameday::sim::storage::store::{EventFilter, conditions};
use serde_json::{Value, json};

use super::world::{World, ready};
use crate::fixture;

const WAIT: Duration = Duration::from_secs(900);

/// helm against `w`, or None (printed) when helm is not installed outside
/// CI.
#[allow(clippy::print_stderr)]
fn helm(w: &World) -> Option<Helm> {
    match Helm::new(&Lookup::default(), &w.tb.kubeconfig()) {
        Ok(h) => Some(h),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("\n!!! SKIPPED: the real helm is needed: {e}\n");
            None
        }
        Err(e) => panic!("helm is required in CI: {e}"),
    }
}

fn condition(o: &Value, type_: &str) -> (String, String, String) {
    let c = o["status"]["conditions"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["type"] == type_))
        .cloned()
        .unwrap_or_default();
    let s = |f: &str| c[f].as_str().unwrap_or_default().to_owned();
    (s("status"), s("reason"), s("message"))
}

#[tokio::test]
async fn helm_releases_from_a_git_chart_are_installed_in_dependency_order_and_ready() {
    let w = World::new("helm", Profile::instant()).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let is_ready = |o: &Value| conditions::condition_status(o, "Ready") == Some("True");
    let web = w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    let db = w.wait_until(&gvr(), "db", "Ready", WAIT, is_ready).await;

    assert_eq!(
        ready(&web),
        (
            "True".into(),
            "InstallSucceeded".into(),
            "Helm install succeeded for release apps/web.v1 with chart hello@1.0.0".into()
        )
    );
    assert_eq!(condition(&web, "Released").1, "InstallSucceeded");
    assert_eq!(
        ready(&db).2,
        "Helm install succeeded for release data/data-db.v1 with chart hello@1.0.0"
    );
    let status = &web["status"];
    assert_eq!(status["lastAttemptedRevision"], "1.0.0");
    assert_eq!(status["observedGeneration"], 1);
    assert_eq!(status["storageNamespace"], "apps");
    let h = &status["history"][0];
    assert_eq!(
        (
            &h["name"],
            &h["namespace"],
            &h["version"],
            &h["status"],
            &h["chartName"],
            &h["chartVersion"]
        ),
        (
            &json!("web"),
            &json!("apps"),
            &json!(1),
            &json!("deployed"),
            &json!("hello"),
            &json!("1.0.0")
        )
    );
    assert!(h["configDigest"].as_str().unwrap().starts_with("sha256:"));

    // The real helm sees both releases.
    let mut listed: Vec<(String, String, String, String)> = helm
        .list(None)
        .await
        .expect("helm list -A")
        .into_iter()
        .map(|l| (l.name, l.namespace, l.status, l.chart))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            (
                "data-db".into(),
                "data".into(),
                "deployed".into(),
                "hello-1.0.0".into()
            ),
            (
                "web".into(),
                "apps".into(),
                "deployed".into(),
                "hello-1.0.0".into()
            ),
        ]
    );
    // valuesFrom: the whole document, then the inline values, then the
    // target path (which beats the inline greeting); the optional Secret
    // that does not exist is skipped.
    assert_eq!(
        helm.get_values("web", "apps").await.expect("get values"),
        json!({"replicas": 2, "service": {"port": 8080}, "greeting": "bonjour"})
    );
    let greeting =
        w.tb.kubectl(&[
            "get",
            "cm",
            "web-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.data.greeting}",
        ])
        .await;
    assert_eq!(greeting, "bonjour");
    // The chart's CRD and its custom resource, for db.
    let size =
        w.tb.kubectl(&[
            "get",
            "widgets.example.gameday.dev",
            "data-db-hello",
            "-n",
            "data",
            "-o",
            "jsonpath={.spec.size}",
        ])
        .await;
    assert_eq!(size, "small");

    // dependsOn: web's release was stored only after db was Ready.
    let events =
        w.tb.cluster
            .store()
            .events_since(0, &EventFilter::all())
            .expect("history kept");
    let db_ready = events
        .iter()
        .find(|e| {
            e.object["kind"] == "HelmRelease"
                && e.object["metadata"]["name"] == "db"
                && ready(&e.object).0 == "True"
        })
        .expect("db became ready")
        .revision;
    let web_stored = events
        .iter()
        .find(|e| e.object["metadata"]["name"] == "sh.helm.release.v1.web.v1")
        .expect("web's release stored")
        .revision;
    assert!(db_ready < web_stored, "web released before db was ready");
    let web_waited = events.iter().any(|e| {
        e.object["kind"] == "HelmRelease"
            && e.object["metadata"]["name"] == "web"
            && ready(&e.object).1 == "DependencyNotReady"
    });
    assert!(web_waited, "web never waited for db");

    // `kubectl get helmreleases` shows Flux's columns.
    let table =
        w.tb.kubectl(&["get", "helmreleases", "-n", "flux-system"])
            .await;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "AGE", "READY", "STATUS"]);
    assert!(
        table.contains("Helm install succeeded for release apps/web.v1"),
        "{table}"
    );
}

#[tokio::test]
async fn an_install_whose_image_nobody_has_fails_with_install_failed_and_stalls() {
    let repo = Repo::from_fixture(&fixture("helm"), &FixtureOptions::default())
        .await
        .expect("fixture repository");
    let web = std::fs::read_to_string(fixture("helm").join("apps/web.yaml")).unwrap();
    let broken = web.replace(
        "    greeting: hello-from-git\n",
        "    greeting: hello-from-git\n    image:\n      tag: does-not-exist\n",
    );
    assert_ne!(web, broken);
    repo.write_file("apps/web.yaml", broken, "web: an image nobody has")
        .await
        .expect("commit");
    let w = World::with_repo(repo, "helm", Profile::instant()).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w.wait_reason(&gvr(), "web", "InstallFailed", WAIT).await;
    let (status, _, message) = ready(&web);
    assert_eq!(status, "False");
    assert!(
        message.starts_with("Helm install failed for release apps/web with chart hello@1.0.0: timeout waiting for: [Deployment/apps/web-hello status: 'InProgress']"),
        "{message}"
    );
    assert_eq!(condition(&web, "Released").0, "False");
    assert_eq!(
        condition(&web, "Stalled"),
        (
            "True".into(),
            "RetriesExceeded".into(),
            "Failed to install after 1 attempt(s)".into()
        )
    );
    assert_eq!(web["status"]["installFailures"], 1);
    assert!(web["status"].get("observedGeneration").is_none());
    // db is unaffected; helm stored the release (no --wait), and the
    // controller marked it failed as Helm's --wait would have.
    let db = w
        .wait_until(&gvr(), "db", "Ready", WAIT, |o| ready(o).0 == "True")
        .await;
    assert_eq!(ready(&db).1, "InstallSucceeded");
    let listed = helm.list(Some("apps")).await.expect("helm list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].status, "failed");
}

#[tokio::test]
async fn a_chart_helm_refuses_fails_at_once_with_helms_error() {
    let repo = Repo::from_fixture(&fixture("helm"), &FixtureOptions::default())
        .await
        .expect("fixture repository");
    let web = std::fs::read_to_string(fixture("helm").join("apps/web.yaml")).unwrap();
    let broken = web.replace(
        "    greeting: hello-from-git\n",
        "    greeting: hello-from-git\n    fullnameOverride: Bad_Name\n",
    );
    repo.write_file("apps/web.yaml", broken, "web: a name the API refuses")
        .await
        .expect("commit");
    let w = World::with_repo(repo, "helm", Profile::instant()).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w.wait_reason(&gvr(), "web", "InstallFailed", WAIT).await;
    let message = ready(&web).2;
    assert!(
        message.starts_with("Helm install failed for release apps/web with chart hello@1.0.0: ")
            && message.contains("Bad_Name"),
        "{message}"
    );
}

#[tokio::test]
async fn new_values_in_git_upgrade_the_release_and_a_new_commit_alone_does_not() {
    let w = World::new("helm", Profile::instant()).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let is_ready = |o: &Value| conditions::condition_status(o, "Ready") == Some("True");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;

    // A commit that changes neither the chart version nor the values:
    // the release is in sync, helm is not run again.
    w.repo
        .write_file("apps/NOTES.md", "notes\n", "notes")
        .await
        .expect("commit");
    let head = w.head().await;
    w.wait_until(
        &gameday::sim::flux::kustomize::gvr(),
        "apps",
        "the new head",
        WAIT,
        |o| o["status"]["lastAppliedRevision"] == head.as_str(),
    )
    .await;
    assert_eq!(helm.history("web", "apps").await.expect("history").len(), 1);

    // Inline values beat the valuesFrom document: an upgrade.
    let web = std::fs::read_to_string(fixture("helm").join("apps/web.yaml")).unwrap();
    let more = web.replace(
        "    greeting: hello-from-git\n",
        "    greeting: hello-from-git\n    replicas: 3\n",
    );
    w.repo
        .write_file("apps/web.yaml", more, "web: 3 replicas")
        .await
        .expect("commit");
    let web = w.wait_reason(&gvr(), "web", "UpgradeSucceeded", WAIT).await;
    assert_eq!(
        ready(&web).2,
        "Helm upgrade succeeded for release apps/web.v2 with chart hello@1.0.0"
    );
    assert_eq!(web["status"]["history"][0]["version"], 2);
    assert_eq!(web["status"]["observedGeneration"], 2);
    let revisions: Vec<(u32, String)> = helm
        .history("web", "apps")
        .await
        .expect("history")
        .into_iter()
        .map(|r| (r.revision, r.status))
        .collect();
    assert_eq!(
        revisions,
        [(1, "superseded".into()), (2, "deployed".into())]
    );
    let replicas =
        w.tb.kubectl(&[
            "get",
            "deploy",
            "web-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .await;
    assert_eq!(replicas, "3");
}
