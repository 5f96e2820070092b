//! The emulated helm-controller's atomic release against the simulator,
//! with the real helm: install and upgrade remediation with their retries
//! and counters, the CRD policies, drift detection and `test.enable`.
//!
//! Each test serves `fixtures/repos/helm` with `apps/` reduced to one
//! HelmRelease `flux-system/web` (release `apps/web` of `charts/hello`)
//! written by the test. helm is found as gameday finds it; without it the
//! tests say so and pass, except under CI.

use std::time::Duration;

use gameday::gitops::helm::Helm;
use gameday::gitops::repo::{Change, FixtureOptions, Repo};
use gameday::process::Lookup;
use gameday::sim::Profile;
use gameday::sim::flux::helm::gvr;
use gameday::sim::storage::store::{EventFilter, EventType, Gvr, ObjectRef};
use serde_json::{Value, json};

use super::world::{World, deployments, ready};
use crate::fixture;

const WAIT: Duration = Duration::from_secs(1800);

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

/// `web`'s HelmRelease: interval 1m, timeout 1m, `spec` merged over that.
fn release(spec: &Value) -> String {
    let mut hr = json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "web", "namespace": "flux-system"},
        "spec": {"interval": "1m", "timeout": "1m", "releaseName": "web", "targetNamespace": "apps",
            "install": {"createNamespace": true},
            "chart": {"spec": {"chart": "./charts/hello",
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}},
            "values": {"greeting": "v1"}}
    });
    merge(&mut hr["spec"], spec);
    serde_yaml::to_string(&hr).unwrap()
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// A world serving the fixture with `apps/` = `web` with `spec`.
async fn world(spec: &Value) -> World {
    let repo = Repo::from_fixture(&fixture("helm"), &FixtureOptions::default())
        .await
        .expect("fixture repository");
    let changes = [
        Change::Write {
            file: "apps/kustomization.yaml".into(),
            content: b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - web.yaml\n".to_vec(),
        },
        Change::Write {
            file: "apps/web.yaml".into(),
            content: release(spec).into_bytes(),
        },
    ];
    repo.commit(&changes, "apps: web alone")
        .await
        .expect("commit");
    World::with_repo(repo, "helm", Profile::instant()).await
}

/// Commits `web` with `spec`.
async fn push(w: &World, spec: &Value, message: &str) {
    w.repo
        .write_file("apps/web.yaml", release(spec), message)
        .await
        .expect("commit");
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

fn triple(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.into(), b.into(), c.into())
}

/// How many store events of `kind` the object `namespace/name` of `gvr`
/// had.
fn store_events(w: &World, gvr: &Gvr, namespace: &str, name: &str, kind: EventType) -> usize {
    w.tb.cluster
        .store()
        .events_since(0, &EventFilter::all())
        .expect("history kept")
        .iter()
        .filter(|e| {
            e.kind == kind
                && e.resource.group == gvr.group
                && e.resource.resource == gvr.resource
                && e.object["metadata"]["namespace"] == namespace
                && e.object["metadata"]["name"] == name
        })
        .count()
}

/// The Kubernetes Events about the HelmRelease `web` with `reason`,
/// counting repeats.
fn k8s_events(w: &World, reason: &str) -> u64 {
    w.tb.cluster
        .store()
        .list(
            &Gvr::core("events"),
            Some("flux-system"),
            &Default::default(),
        )
        .expect("events")
        .items
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "web" && e["reason"] == reason)
        .map(|e| e["count"].as_u64().unwrap_or(1))
        .sum()
}

fn stalled(o: &Value) -> bool {
    condition(o, "Stalled").0 == "True"
}

fn is_ready(o: &Value) -> bool {
    ready(o).0 == "True"
}

async fn live_image(w: &World) -> String {
    w.tb.kubectl(&[
        "get",
        "deploy",
        "web-hello",
        "-n",
        "apps",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ])
    .await
}

const BROKEN: &str = "does-not-exist";

#[tokio::test]
async fn a_failing_install_is_retried_with_uninstalls_between_then_stalls() {
    let spec = json!({"install": {"remediation": {"retries": 2}},
        "values": {"image": {"tag": BROKEN}}});
    let w = world(&spec).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w.wait_until(&gvr(), "web", "Stalled", WAIT, stalled).await;

    assert_eq!(
        condition(&web, "Stalled"),
        triple(
            "True",
            "RetriesExceeded",
            "Failed to install after 3 attempt(s)"
        )
    );
    let (status, reason, message) = condition(&web, "Released");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "InstallFailed")
    );
    assert!(
        message.starts_with("Helm install failed for release apps/web with chart hello@1.0.0: timeout waiting for: [Deployment/apps/web-hello status: 'InProgress']"),
        "{message}"
    );
    // The last failure is not remediated (remediateLastFailure defaults to
    // false for installs); the two before were, and the Remediated of the
    // second, of the same generation, ranks first in the Ready summary —
    // as helm-controller's `summarize` sorts them.
    let remediated = triple(
        "True",
        "UninstallSucceeded",
        "Helm uninstall remediation for release apps/web.v1 with chart hello@1.0.0 succeeded",
    );
    assert_eq!(condition(&web, "Remediated"), remediated);
    assert_eq!(ready(&web), triple("False", &remediated.1, &remediated.2));
    let status = &web["status"];
    assert_eq!(
        (
            &status["installFailures"],
            &status["failures"],
            &status["lastAttemptedReleaseAction"]
        ),
        (&json!(3), &json!(3), &json!("install"))
    );
    assert!(status.get("upgradeFailures").is_none());
    assert_eq!(status["history"][0]["status"], "failed");
    // Three installs by helm, two uninstalls between them: Helm's storage
    // Secret of v1 was created three times and deleted twice.
    let secrets = Gvr::core("secrets");
    let storage = "sh.helm.release.v1.web.v1";
    assert_eq!(
        store_events(&w, &secrets, "apps", storage, EventType::Added),
        3
    );
    assert_eq!(
        store_events(&w, &secrets, "apps", storage, EventType::Deleted),
        2
    );
    assert_eq!(k8s_events(&w, "InstallFailed"), 3);
    assert_eq!(k8s_events(&w, "UninstallSucceeded"), 2);
    // The last attempt's release stays, failed in Helm's storage too (helm
    // ran without --wait; the controller marked it as Helm's --wait does).
    let listed = helm.list(Some("apps")).await.expect("helm list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].status, "failed");
    // Stalled: nothing more happens until the spec changes (the same
    // storage Secret, the same counters, ten minutes later).
    let uid = |w: &World| {
        w.tb.cluster
            .store()
            .get(&ObjectRef::namespaced(secrets.clone(), "apps", storage))
            .expect("stored")["metadata"]["uid"]
            .clone()
    };
    let before = uid(&w);
    drop(w.tb.clock().sleep(Duration::from_secs(600)).await);
    assert_eq!(uid(&w), before);
    let web = w.wait_until(&gvr(), "web", "Stalled", WAIT, stalled).await;
    assert_eq!(web["status"]["installFailures"], 3);
}

#[tokio::test]
async fn a_failing_upgrade_is_rolled_back_to_the_previous_release() {
    let spec = json!({"upgrade": {"remediation": {"retries": 1}}});
    let w = world(&spec).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    let good = live_image(&w).await;
    assert_eq!(good, "ghcr.io/stefanprodan/podinfo:6.7.1");

    let bad = json!({"upgrade": {"remediation": {"retries": 1}},
        "values": {"greeting": "v2", "image": {"tag": BROKEN}}});
    push(&w, &bad, "web: an image nobody has").await;
    let web = w.wait_until(&gvr(), "web", "Stalled", WAIT, stalled).await;

    // Two upgrades (retries: 1), each failed in Helm's storage as Helm's
    // --wait leaves it and rolled back — the last one too, as
    // remediateLastFailure defaults to true when retries > 0.
    let failed = "Upgrade \"web\" failed: timeout waiting for: [Deployment/apps/web-hello status: 'InProgress']";
    let revisions: Vec<(u32, String)> = helm
        .history("web", "apps")
        .await
        .expect("helm history")
        .into_iter()
        .map(|r| (r.revision, r.description))
        .collect();
    assert_eq!(
        revisions,
        [
            (1, "Install complete".into()),
            (2, failed.into()),
            (3, "Rollback to 1".into()),
            (4, failed.into()),
            (5, "Rollback to 3".into()),
        ]
    );
    assert_eq!(
        condition(&web, "Remediated"),
        triple(
            "True",
            "RollbackSucceeded",
            "Helm rollback to previous release apps/web.v3 with chart hello@1.0.0 succeeded"
        )
    );
    // A winning Remediated makes Ready False, with its reason and message.
    assert_eq!(
        ready(&web),
        triple(
            "False",
            "RollbackSucceeded",
            "Helm rollback to previous release apps/web.v3 with chart hello@1.0.0 succeeded"
        )
    );
    assert_eq!(condition(&web, "Released").1, "UpgradeFailed");
    assert_eq!(
        condition(&web, "Stalled"),
        triple(
            "True",
            "RetriesExceeded",
            "Failed to upgrade after 2 attempt(s)"
        )
    );
    assert_eq!(web["status"]["upgradeFailures"], 2);
    assert_eq!(web["status"]["failures"], 2);
    // The previous values are live again.
    assert_eq!(
        helm.get_values("web", "apps").await.expect("get values"),
        json!({"greeting": "v1"})
    );
    assert_eq!(live_image(&w).await, good);
    let h = &web["status"]["history"][0];
    assert_eq!(
        (&h["version"], &h["status"]),
        (&json!(5), &json!("deployed"))
    );

    // Fixing the values in Git resets the counters and upgrades again.
    let fixed = json!({"upgrade": {"remediation": {"retries": 1}},
        "values": {"greeting": "v3"}});
    push(&w, &fixed, "web: fixed").await;
    let web = w
        .wait_until(&gvr(), "web", "Ready", WAIT, |o| {
            is_ready(o) && o["status"]["history"][0]["version"] == 6
        })
        .await;
    assert_eq!(
        ready(&web),
        triple(
            "True",
            "UpgradeSucceeded",
            "Helm upgrade succeeded for release apps/web.v6 with chart hello@1.0.0"
        )
    );
    assert!(web["status"].get("upgradeFailures").is_none());
    assert_eq!(condition(&web, "Remediated").0, "");
    assert_eq!(condition(&web, "Stalled").0, "");
}

#[tokio::test]
async fn a_failing_upgrade_with_strategy_uninstall_is_uninstalled() {
    let remediation = json!({"retries": 0, "remediateLastFailure": true, "strategy": "uninstall"});
    let w = world(&json!({"upgrade": {"remediation": remediation}})).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;

    let bad = json!({"upgrade": {"remediation": remediation},
        "values": {"image": {"tag": BROKEN}}});
    push(&w, &bad, "web: an image nobody has").await;
    let web = w.wait_until(&gvr(), "web", "Stalled", WAIT, stalled).await;
    assert_eq!(
        ready(&web),
        triple(
            "False",
            "UninstallSucceeded",
            "Helm uninstall remediation for release apps/web.v2 with chart hello@1.0.0 succeeded"
        )
    );
    assert_eq!(
        condition(&web, "Stalled"),
        triple(
            "True",
            "RetriesExceeded",
            "Failed to upgrade after 1 attempt(s)"
        )
    );
    assert_eq!(web["status"]["history"][0]["status"], "uninstalled");
    assert!(helm.list(Some("apps")).await.expect("helm list").is_empty());
    assert!(!w.exists(&deployments(), "apps", "web-hello"));
}

fn crds() -> Gvr {
    Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions")
}

fn crd(w: &World, name: &str) -> Option<Value> {
    w.tb.cluster
        .store()
        .get(&ObjectRef::cluster(crds(), name))
        .ok()
        .map(|c| (*c).clone())
}

fn has_color(crd: &Value) -> bool {
    crd.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color")
        .is_some()
}

#[tokio::test]
async fn crds_follow_the_install_and_upgrade_policies() {
    // install.crds: Skip — no CRD (the chart's Widget is off).
    let w = world(&json!({"install": {"crds": "Skip"}})).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    assert!(crd(&w, "widgets.example.gameday.dev").is_none());
    drop(w);

    // Create (the install default) installs it.
    let w = world(&json!({})).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    assert!(!has_color(
        &crd(&w, "widgets.example.gameday.dev").expect("installed")
    ));

    // A new chart version (1.1.0; with the default ChartVersion strategy a
    // chart change without a new version builds nothing, as in Flux): one
    // new CRD, one changed.
    let widgets =
        std::fs::read_to_string(fixture("helm").join("charts/hello/crds/widgets.yaml")).unwrap();
    let colored = widgets.replace(
        "                size:\n                  type: string\n",
        "                size:\n                  type: string\n                color:\n                  type: string\n",
    );
    assert_ne!(widgets, colored);
    let gadgets = widgets
        .replace("widgets", "gadgets")
        .replace("Widget", "Gadget")
        .replace("widget", "gadget");
    let changes = [
        Change::Write {
            file: "charts/hello/crds/widgets.yaml".into(),
            content: colored.into_bytes(),
        },
        Change::Write {
            file: "charts/hello/crds/gadgets.yaml".into(),
            content: gadgets.into_bytes(),
        },
        Change::Write {
            file: "charts/hello/Chart.yaml".into(),
            content: std::fs::read_to_string(fixture("helm").join("charts/hello/Chart.yaml"))
                .unwrap()
                .replace("version: 1.0.0", "version: 1.1.0")
                .into_bytes(),
        },
    ];
    w.repo
        .commit(&changes, "chart: CRDs")
        .await
        .expect("commit");
    let upgraded = |version: u64| {
        move |o: &Value| is_ready(o) && o["status"]["history"][0]["version"] == version
    };

    // The new chart version is an upgrade; upgrade.crds defaults to Skip:
    // neither CRD is touched.
    w.wait_until(&gvr(), "web", "v2", WAIT, upgraded(2)).await;
    assert!(crd(&w, "gadgets.example.gameday.dev").is_none());
    assert!(!has_color(&crd(&w, "widgets.example.gameday.dev").unwrap()));

    // Create: the new CRD appears, the changed one stays as it was.
    let create = json!({"upgrade": {"crds": "Create"}, "values": {"greeting": "v3"}});
    push(&w, &create, "web: v3, crds Create").await;
    w.wait_until(&gvr(), "web", "v3", WAIT, upgraded(3)).await;
    assert!(crd(&w, "gadgets.example.gameday.dev").is_some());
    assert!(!has_color(&crd(&w, "widgets.example.gameday.dev").unwrap()));

    // CreateReplace: the changed one is replaced.
    let replace = json!({"upgrade": {"crds": "CreateReplace"}, "values": {"greeting": "v4"}});
    push(&w, &replace, "web: v4, crds CreateReplace").await;
    w.wait_until(&gvr(), "web", "v4", WAIT, upgraded(4)).await;
    assert!(has_color(&crd(&w, "widgets.example.gameday.dev").unwrap()));
}

#[tokio::test]
async fn drift_detection_enabled_brings_a_deleted_deployment_back_on_the_next_reconcile() {
    let w = world(&json!({"driftDetection": {"mode": "enabled"}})).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;

    w.delete(&deployments(), "apps", "web-hello").await;
    assert!(!w.exists(&deployments(), "apps", "web-hello"));
    let took = w
        .wait_exists(
            &deployments(),
            "apps",
            "web-hello",
            Duration::from_secs(300),
        )
        .await;
    // At the next reconcile: within the interval (1m), not at once.
    assert!(
        took > Duration::ZERO && took <= Duration::from_secs(61),
        "{took:?}"
    );
    let web = w
        .wait_until(&gvr(), "web", "Drifted", WAIT, |o| {
            condition(o, "Drifted").0 == "True"
        })
        .await;
    assert_eq!(
        condition(&web, "Drifted"),
        triple(
            "True",
            "DriftDetected",
            "Cluster state of release apps/web.v1 has drifted from the desired state:\nDeployment/apps/web-hello removed"
        )
    );
    assert_eq!(ready(&web).0, "True");
    assert_eq!(k8s_events(&w, "DriftCorrected"), 1);
    // Put back by server-side apply as Helm's field manager, not a new
    // release.
    let deploy =
        w.tb.cluster
            .store()
            .get(&ObjectRef::namespaced(deployments(), "apps", "web-hello"))
            .unwrap();
    let managers: Vec<&str> = deploy["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"helm"), "{managers:?}");
    assert_eq!(web["status"]["history"][0]["version"], 1);
    // The next reconcile finds nothing to correct.
    let web = w
        .wait_until(&gvr(), "web", "NoDriftDetected", WAIT, |o| {
            condition(o, "Drifted").1 == "NoDriftDetected"
        })
        .await;
    assert_eq!(ready(&web).0, "True");
    // One Event per action, as helm-controller records them (the install),
    // none per reconcile.
    assert_eq!(k8s_events(&w, "InstallSucceeded"), 1);
}

#[tokio::test]
async fn without_drift_detection_a_deleted_deployment_stays_gone() {
    let w = world(&json!({})).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    w.delete(&deployments(), "apps", "web-hello").await;
    // Five intervals later, it is still gone, and the HelmRelease, in sync
    // with Helm's storage, is still Ready: as on a real cluster.
    drop(w.tb.clock().sleep(Duration::from_secs(300)).await);
    assert!(!w.exists(&deployments(), "apps", "web-hello"));
    let web = w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    assert_eq!(condition(&web, "Drifted").0, "");
    assert_eq!(web["status"]["history"][0]["version"], 1);
}

#[tokio::test]
async fn drift_detection_warn_reports_and_corrects_nothing() {
    let w = world(&json!({"driftDetection": {"mode": "warn"}})).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    w.delete(&deployments(), "apps", "web-hello").await;
    let web = w
        .wait_until(&gvr(), "web", "Drifted", WAIT, |o| {
            condition(o, "Drifted").0 == "True"
        })
        .await;
    assert!(
        condition(&web, "Drifted")
            .2
            .ends_with("Deployment/apps/web-hello removed")
    );
    assert_eq!(ready(&web).0, "True");
    drop(w.tb.clock().sleep(Duration::from_secs(300)).await);
    assert!(!w.exists(&deployments(), "apps", "web-hello"));
    assert_eq!(k8s_events(&w, "DriftCorrected"), 0);
}

#[tokio::test]
async fn tests_run_after_the_release_and_report_test_success() {
    let w = world(&json!({"test": {"enable": true}})).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w
        .wait_until(&gvr(), "web", "TestSuccess", WAIT, |o| {
            condition(o, "TestSuccess").0 == "True"
        })
        .await;
    let msg = "Helm test succeeded for release apps/web.v1 with chart hello@1.0.0: 1 test hook completed successfully";
    assert_eq!(
        condition(&web, "TestSuccess"),
        triple("True", "TestSucceeded", msg)
    );
    // TestSuccess ranks before Released in the Ready summary.
    assert_eq!(ready(&web), triple("True", "TestSucceeded", msg));
    assert_eq!(
        web["status"]["history"][0]["testHooks"]["web-hello-test"]["phase"],
        "Succeeded"
    );
    // The test Pod ran to completion in the cluster.
    let phase =
        w.tb.kubectl(&[
            "get",
            "pod",
            "web-hello-test",
            "-n",
            "apps",
            "-o",
            "jsonpath={.status.phase}",
        ])
        .await;
    assert_eq!(phase, "Succeeded");
    // The test ran on the simulated clock, not while it raced ahead: its
    // outcome came within seconds of simulated time of the release.
    let at = |type_: &str| {
        web["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap()["lastTransitionTime"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    let took = at("TestSuccess").duration_since(at("Released"));
    assert!(
        took >= jiff::SignedDuration::ZERO && took < jiff::SignedDuration::from_secs(30),
        "{took:?}"
    );
    // Awaiting tests came first.
    let awaited =
        w.tb.cluster
            .store()
            .events_since(0, &EventFilter::all())
            .unwrap()
            .iter()
            .any(|e| {
                e.object["kind"] == "HelmRelease"
                    && condition(&e.object, "TestSuccess").1 == "AwaitingTests"
            });
    assert!(awaited);
}

#[tokio::test]
async fn a_failed_test_fails_the_release_unless_failures_are_ignored() {
    let crash = json!({"testImage": "busybox:crashloop"});
    let w = world(&json!({"test": {"enable": true}, "values": crash})).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w.wait_until(&gvr(), "web", "Stalled", WAIT, stalled).await;
    let (status, reason, message) = condition(&web, "TestSuccess");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "TestFailed"));
    assert!(
        message.starts_with("Helm test failed for release apps/web.v1 with chart hello@1.0.0: "),
        "{message}"
    );
    // The test counts as a failure of the install (retries: 0, nothing to
    // remediate by default): Ready says the test failed.
    assert_eq!(ready(&web).1, "TestFailed");
    assert_eq!(condition(&web, "Released").1, "InstallSucceeded");
    assert_eq!(
        condition(&web, "Stalled"),
        triple(
            "True",
            "RetriesExceeded",
            "Failed to install after 1 attempt(s)"
        )
    );
    assert_eq!(
        (
            &web["status"]["installFailures"],
            &web["status"]["failures"]
        ),
        (&json!(1), &json!(1))
    );
    assert_eq!(
        web["status"]["history"][0]["testHooks"]["web-hello-test"]["phase"],
        "Failed"
    );
    drop(w);

    // ignoreFailures: the release stands, the test's failure is reported.
    let spec = json!({"test": {"enable": true, "ignoreFailures": true}, "values": crash});
    let w = world(&spec).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w
        .wait_until(&gvr(), "web", "TestSuccess", WAIT, |o| {
            condition(o, "TestSuccess").1 == "TestFailed"
        })
        .await;
    let web = w
        .wait_until(&gvr(), "web", "Ready", WAIT, |o| {
            is_ready(o) && o["metadata"]["generation"] == web["metadata"]["generation"]
        })
        .await;
    assert_eq!(ready(&web).1, "InstallSucceeded");
    assert_eq!(condition(&web, "TestSuccess").1, "TestFailed");
    assert!(web["status"].get("installFailures").is_none());
    assert_eq!(web["status"]["failures"], 1);
    assert_eq!(condition(&web, "Stalled").0, "");
}

#[tokio::test]
async fn retry_on_failure_releases_again_after_the_retry_interval_without_remediation() {
    let retry = json!({"name": "RetryOnFailure", "retryInterval": "2m"});
    let strategies = json!({"install": {"strategy": retry}, "upgrade": {"strategy": retry}});
    let mut spec = strategies.clone();
    merge(&mut spec, &json!({"values": {"image": {"tag": BROKEN}}}));
    let w = world(&spec).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w
        .wait_until(&gvr(), "web", "InstallFailed", WAIT, |o| {
            condition(o, "Released").1 == "InstallFailed"
                && condition(o, "Reconciling").1 == "ProgressingWithRetry"
        })
        .await;
    assert_eq!(
        condition(&web, "Reconciling"),
        triple("True", "ProgressingWithRetry", "retrying after 2m0s")
    );
    let failed_at = w.tb.clock().now();
    // The next attempt is an upgrade of the failed release, after the
    // retry interval; never an uninstall or a rollback, never stalled.
    let web = w
        .wait_until(&gvr(), "web", "a retried upgrade", WAIT, |o| {
            condition(o, "Released").1 == "UpgradeFailed"
        })
        .await;
    let waited = w.tb.clock().since(failed_at);
    assert!(waited >= Duration::from_secs(120), "{waited:?}");
    assert_eq!(condition(&web, "Remediated").0, "");
    assert_eq!(condition(&web, "Stalled").0, "");
    assert_eq!(k8s_events(&w, "UninstallSucceeded"), 0);
    let revisions: Vec<u32> = helm
        .history("web", "apps")
        .await
        .expect("history")
        .into_iter()
        .map(|r| r.revision)
        .collect();
    assert_eq!(revisions, [1, 2]);

    // Fixed in Git: the next upgrade succeeds.
    let mut fixed = strategies.clone();
    merge(&mut fixed, &json!({"values": {"greeting": "fixed"}}));
    push(&w, &fixed, "web: fixed").await;
    let web = w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    assert_eq!(ready(&web).1, "UpgradeSucceeded");
    assert_eq!(condition(&web, "Reconciling").0, "");
}

#[tokio::test]
async fn a_changed_field_is_drift_and_ignored_paths_are_not() {
    let drift = json!({"mode": "enabled",
        "ignore": [{"paths": ["/data"], "target": {"kind": "ConfigMap"}}]});
    let w = world(&json!({"driftDetection": drift})).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    {
        let _still = w.tb.clock().busy();
        w.tb.kubectl(&["scale", "deploy", "web-hello", "-n", "apps", "--replicas=3"])
            .await;
        w.tb.kubectl(&[
            "patch",
            "cm",
            "web-hello",
            "-n",
            "apps",
            "--type=merge",
            "-p",
            r#"{"data":{"greeting":"by hand"}}"#,
        ])
        .await;
    }
    let web = w
        .wait_until(&gvr(), "web", "Drifted", WAIT, |o| {
            condition(o, "Drifted").0 == "True"
        })
        .await;
    assert_eq!(
        condition(&web, "Drifted").2,
        "Cluster state of release apps/web.v1 has drifted from the desired state:\nDeployment/apps/web-hello changed (0 additions, 1 changes, 0 removals)"
    );
    let get = |kind: &str, path: &str| {
        let (kind, path) = (kind.to_owned(), path.to_owned());
        let w = &w;
        async move {
            w.tb.kubectl(&[
                "get",
                &kind,
                "web-hello",
                "-n",
                "apps",
                "-o",
                &format!("jsonpath={{{path}}}"),
            ])
            .await
        }
    };
    assert_eq!(get("deploy", ".spec.replicas").await, "1");
    assert_eq!(get("cm", ".data.greeting").await, "by hand");
}

#[tokio::test]
async fn disable_wait_releases_without_waiting_for_health() {
    let spec = json!({"install": {"disableWait": true}, "values": {"image": {"tag": BROKEN}}});
    let w = world(&spec).await;
    let Some(_helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    // Helm applied it: the release is Ready, though its Deployment never
    // becomes available — what Flux reports too.
    let web = w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    assert_eq!(ready(&web).1, "InstallSucceeded");
    let available =
        w.tb.kubectl(&[
            "get",
            "deploy",
            "web-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.status.availableReplicas}",
        ])
        .await;
    assert_eq!(available, "");

    // upgrade.disableWait alone: an upgrade to a broken image is Ready too.
    let w = world(&json!({"upgrade": {"disableWait": true}})).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    let bad = json!({"upgrade": {"disableWait": true}, "values": {"image": {"tag": BROKEN}}});
    push(&w, &bad, "web: an image nobody has").await;
    let web = w
        .wait_until(&gvr(), "web", "upgraded", WAIT, |o| {
            is_ready(o) && o["status"]["history"][0]["version"] == 2
        })
        .await;
    assert_eq!(ready(&web).1, "UpgradeSucceeded");
    assert!(live_image(&w).await.ends_with(BROKEN));
}

#[tokio::test]
async fn a_rollback_whose_target_left_helms_storage_stalls() {
    let spec = json!({"upgrade": {"remediation": {"retries": 1}}});
    let w = world(&spec).await;
    let Some(helm) = helm(&w) else { return };
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_until(&gvr(), "web", "Ready", WAIT, is_ready).await;
    let mut bad = spec.clone();
    merge(&mut bad, &json!({"values": {"image": {"tag": BROKEN}}}));
    push(&w, &bad, "web: an image nobody has").await;
    // While the upgrade waits for its objects, the release it would roll
    // back to leaves Helm's storage (deleted by hand).
    let secrets = Gvr::core("secrets");
    w.wait_until(&gvr(), "web", "the upgrade running", WAIT, |o| {
        ready(o).2.starts_with("Running 'upgrade' action")
            && w.exists(&secrets, "apps", "sh.helm.release.v1.web.v2")
    })
    .await;
    w.delete(&secrets, "apps", "sh.helm.release.v1.web.v1")
        .await;
    let web = w.wait_until(&gvr(), "web", "Stalled", WAIT, stalled).await;
    assert_eq!(
        condition(&web, "Stalled"),
        triple(
            "True",
            "MissingRollbackTarget",
            "Failed to perform remediation: missing target release for rollback: cannot remediate failed release"
        )
    );
    assert_eq!(ready(&web).1, "UpgradeFailed");
    assert_eq!(condition(&web, "Remediated").0, "");
    let statuses: Vec<(u32, String)> = helm
        .history("web", "apps")
        .await
        .expect("history")
        .into_iter()
        .map(|r| (r.revision, r.status))
        .collect();
    assert_eq!(statuses, [(2, "failed".into())]);
}
