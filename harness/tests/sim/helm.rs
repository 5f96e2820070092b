//! The real `helm` CLI against the simulator: install, upgrade, list,
//! history, get values, rollback and uninstall of gameday's own chart
//! (`fixtures/charts/hello`), with Helm's release Secrets as the storage.
//!
//! helm is found as gameday finds it (`GAMEDAY_HELM`, `PATH`,
//! `.tools/bin/helm` — `make tools` installs it). Without it the tests say
//! so loudly and pass, except under CI (`CI` set), where they fail.

use std::path::PathBuf;
use std::time::Duration;

use gameday::gitops::helm::{Crds, Helm, Upgrade};
use gameday::process::Lookup;
use serde_json::{Value, json};

use crate::common::Fixture;

pub fn chart(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/charts")).join(name)
}

/// helm against `f`, or None (printed) when helm is not installed outside
/// CI. The skip must be seen: it is printed on stderr.
#[allow(clippy::print_stderr)]
pub fn helm(f: &Fixture) -> Option<Helm> {
    match Helm::new(&Lookup::default(), &f.kubeconfig()) {
        Ok(h) => Some(h),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("\n!!! SKIPPED: the real helm is needed: {e}\n");
            None
        }
        Err(e) => panic!("helm is required in CI: {e}"),
    }
}

fn upgrade<'a>(release: &'a str, values: &'a Value, chart: &'a std::path::Path) -> Upgrade<'a> {
    Upgrade {
        release,
        namespace: "apps",
        chart,
        values,
        timeout: Duration::from_secs(60),
        crds: Crds::Create,
        max_history: 5,
        create_namespace: true,
        disable_hooks: false,
        description: None,
    }
}

#[tokio::test]
async fn helm_install_upgrade_list_history_values_rollback_uninstall() {
    let f = Fixture::start().await;
    let Some(helm) = helm(&f) else { return };
    let hello = chart("hello");
    let v1 = json!({"greeting": "bonjour", "widget": {"enabled": true}});
    helm.upgrade_install(&upgrade("web", &v1, &hello))
        .await
        .expect("install");
    // Objects with the values, and the chart's CRD before its CR.
    let greeting = f
        .kubectl(&[
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
    let size = f
        .kubectl(&[
            "get",
            "widgets.example.gameday.dev",
            "web-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.spec.size}",
        ])
        .await;
    assert_eq!(size, "small");
    // The release storage is Helm's own, found by label selectors.
    let secrets = f
        .kubectl(&["get", "secrets", "-n", "apps", "-l", "owner=helm,name=web", "-o", "jsonpath={range .items[*]}{.metadata.name} {.type} {.metadata.labels.status}{\"\\n\"}{end}"])
        .await;
    assert_eq!(
        secrets.trim(),
        "sh.helm.release.v1.web.v1 helm.sh/release.v1 deployed"
    );

    let v2 = json!({"greeting": "hallo", "replicas": 2});
    helm.upgrade_install(&upgrade("web", &v2, &hello))
        .await
        .expect("upgrade");
    let deploy = f
        .kubectl(&[
            "get",
            "deploy",
            "web-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.labels.app\\.kubernetes\\.io/managed-by}",
        ])
        .await;
    assert_eq!(deploy, "2 Helm");
    // The widget left the chart's output: helm deleted it.
    let gone = f
        .kubectl_unchecked(&[
            "get",
            "widgets.example.gameday.dev",
            "web-hello",
            "-n",
            "apps",
        ])
        .await;
    assert!(gone.stderr.contains("NotFound"), "{}", gone.stderr);

    let listed = helm.list(None).await.expect("list -A");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let l = &listed[0];
    assert_eq!(
        (
            l.name.as_str(),
            l.namespace.as_str(),
            l.revision.as_str(),
            l.status.as_str(),
            l.chart.as_str()
        ),
        ("web", "apps", "2", "deployed", "hello-1.0.0")
    );
    let history = helm.history("web", "apps").await.expect("history");
    let seen: Vec<(u32, &str, &str)> = history
        .iter()
        .map(|r| (r.revision, r.status.as_str(), r.description.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "superseded", "Install complete"),
            (2, "deployed", "Upgrade complete")
        ]
    );
    assert_eq!(
        helm.get_values("web", "apps").await.expect("values"),
        json!({"greeting": "hallo", "replicas": 2})
    );

    helm.rollback("web", "apps", 1).await.expect("rollback");
    let greeting = f
        .kubectl(&[
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
    let history = helm.history("web", "apps").await.expect("history");
    assert_eq!(
        history.last().map(|r| r.description.as_str()),
        Some("Rollback to 1")
    );

    helm.uninstall("web", "apps", false)
        .await
        .expect("uninstall");
    assert!(helm.list(None).await.expect("list").is_empty());
    let left = f
        .kubectl(&[
            "get",
            "deploy,svc,cm,secrets",
            "-n",
            "apps",
            "-l",
            "app.kubernetes.io/instance=web",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(left.trim(), "");
    let storage = f
        .kubectl(&[
            "get",
            "secrets",
            "-n",
            "apps",
            "-l",
            "owner=helm",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(storage.trim(), "");
    // The CRD stays: helm never deletes the CRDs of crds/.
    f.kubectl(&["get", "crd", "widgets.example.gameday.dev"])
        .await;
}

#[tokio::test]
async fn helm_upgrade_reverts_a_hand_edit_with_a_three_way_merge() {
    let f = Fixture::start().await;
    let Some(helm) = helm(&f) else { return };
    let hello = chart("hello");
    let values = json!({});
    helm.upgrade_install(&upgrade("api", &values, &hello))
        .await
        .expect("install");
    // Someone scales by hand and adds a label: a three-way strategic merge
    // (old manifest, new manifest, live object) keeps what the chart does
    // not manage and puts back what it does.
    f.kubectl(&["scale", "deploy/api-hello", "-n", "apps", "--replicas=5"])
        .await;
    f.kubectl(&["label", "deploy/api-hello", "-n", "apps", "team=web"])
        .await;
    let v2 = json!({"replicas": 3});
    helm.upgrade_install(&upgrade("api", &v2, &hello))
        .await
        .expect("upgrade");
    let got = f
        .kubectl(&[
            "get",
            "deploy",
            "api-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.labels.team}",
        ])
        .await;
    assert_eq!(got, "3 web");
}

#[tokio::test]
async fn a_failed_helm_install_is_stored_failed_with_helms_message() {
    let f = Fixture::start().await;
    let Some(helm) = helm(&f) else { return };
    let hello = chart("hello");
    // A name the API refuses: helm records the release as failed, with
    // the API's reasons in its error.
    let values = json!({"fullnameOverride": "Bad_Name"});
    let err = helm
        .upgrade_install(&upgrade("bad", &values, &hello))
        .await
        .expect_err("the install fails");
    let msg = err.to_string();
    // `upgrade --install` of a new release reports the install's error
    // as is (no `INSTALLATION FAILED:` prefix, as `helm install` adds).
    assert!(msg.starts_with("3 errors occurred:"), "{msg}");
    assert!(
        msg.contains(r#"Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value"#),
        "{msg}"
    );
    let listed = helm.list(Some("apps")).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "failed");
}

#[tokio::test]
async fn helm_wait_and_test_hooks_follow_the_simulated_workloads() {
    let f = Fixture::start().await;
    let Some(helm) = helm(&f) else { return };
    let hello = chart("hello");
    let install = |release: &str, extra: &[&str]| {
        let mut args = vec!["install", release];
        args.push(hello.to_str().unwrap());
        args.extend(["-n", "apps", "--create-namespace", "--wait"]);
        args.extend(extra);
        helm.cmd(args)
    };
    // --wait returns once the Deployment's pods are ready in the simulator.
    install("ok", &["--timeout", "120s"])
        .output()
        .await
        .expect("install --wait");
    let ready = f
        .kubectl(&[
            "get",
            "deploy",
            "ok-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ])
        .await;
    assert_eq!(ready, "1");
    // The test hook's Pod runs to completion.
    let out = helm
        .test("ok", "apps", Duration::from_secs(120))
        .await
        .expect("helm test");
    assert!(
        out.stdout.contains("Phase:          Succeeded"),
        "{}",
        out.stdout
    );
    // An image no registry has never gets ready: --wait runs out of time
    // and the release is stored failed.
    let err = install("ko", &["--timeout", "5s", "--set", "image.tag=broken"])
        .output()
        .await
        .expect_err("never ready");
    assert!(
        err.stderr()
            .unwrap_or_default()
            .contains("context deadline exceeded"),
        "{err}"
    );
    let listed = helm.list(Some("apps")).await.expect("list");
    let ko = listed.iter().find(|l| l.name == "ko").expect("ko listed");
    assert_eq!(ko.status, "failed");
}

#[tokio::test]
async fn a_failed_helm_upgrade_rolls_back_to_the_last_good_release() {
    let f = Fixture::start().await;
    let Some(helm) = helm(&f) else { return };
    let hello = chart("hello");
    let values = json!({});
    helm.upgrade_install(&upgrade("shop", &values, &hello))
        .await
        .expect("install");
    // A bad upgrade (an image nobody has) never gets ready…
    let chart_arg = hello.to_str().unwrap();
    let args = [
        "upgrade",
        "shop",
        chart_arg,
        "-n",
        "apps",
        "--wait",
        "--timeout",
        "5s",
        "--set",
        "image.tag=broken",
    ];
    let err = helm
        .cmd(args)
        .output()
        .await
        .expect_err("the upgrade fails");
    assert!(
        err.stderr().unwrap_or_default().contains("UPGRADE FAILED"),
        "{err}"
    );
    // …and a rollback to the previous revision restores the image, as
    // helm-controller's upgrade remediation does.
    helm.rollback("shop", "apps", 0).await.expect("rollback");
    let image = f
        .kubectl(&[
            "get",
            "deploy",
            "shop-hello",
            "-n",
            "apps",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .await;
    assert_eq!(image, "ghcr.io/stefanprodan/podinfo:6.7.1");
    let history = helm.history("shop", "apps").await.expect("history");
    let seen: Vec<(u32, &str, &str)> = history
        .iter()
        .map(|r| (r.revision, r.status.as_str(), r.description.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "superseded", "Install complete"),
            (
                2,
                "failed",
                "Upgrade \"shop\" failed: context deadline exceeded"
            ),
            (3, "deployed", "Rollback to 1"),
        ]
    );
}
