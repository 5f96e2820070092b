//! The same checks against the real kind and container engine
//! (`make test-kind`). Ignored by default: the machines the suite runs on
//! have no container engine. Each test creates real clusters (a minute or
//! two each) and deletes them; `gameday gc` removes what a failed test
//! leaves.

use std::time::Duration;

use gameday::cluster::providers::kind::KindCli;
use gameday::cluster::{Cluster, Context};
use gameday::process::Tools;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;

use super::fakes::{context_in, kind_scenario, wait_until};

fn run_id() -> String {
    format!("{:06x}", rand::random::<u32>() & 0xff_ffff)
}

fn context(tmp: &tempfile::TempDir, run: &str, scenario: &str) -> Context {
    context_in(tmp.path(), run, scenario, Tools::default())
}

async fn listed(name: &str) -> bool {
    KindCli::default()
        .get_clusters()
        .await
        .expect("kind get clusters")
        .iter()
        .any(|c| c == name)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs kind and a container engine: make test-kind"]
async fn real_kind_create_marker_faults_and_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_id();
    let s = kind_scenario("real", "    - fault: node-loss", "{ method: reconcile }");
    let cx = context(&tmp, &run, "real");
    let c = Cluster::create(&s, &cx, 0)
        .await
        .expect("kind create cluster");
    let name = c.name().to_owned();
    assert!(listed(&name).await);
    let api: Api<ConfigMap> = Api::namespaced(c.client(), "kube-system");
    let marker = api.get("gameday-owner").await.expect("the marker");
    assert_eq!(
        marker
            .metadata
            .labels
            .unwrap_or_default()
            .get("gameday.dev/run-id"),
        Some(&run)
    );

    let lost = c.lose_workers(1).await.expect("docker stop a worker");
    assert_eq!(lost, [format!("{name}-worker2")]);

    c.stop_api().await.expect("pause the control plane");
    let down = tokio::time::timeout(Duration::from_secs(10), c.client().apiserver_version()).await;
    assert!(
        !matches!(down, Ok(Ok(_))),
        "the API does not answer while paused"
    );
    c.start_api().await.expect("unpause");
    c.client()
        .apiserver_version()
        .await
        .expect("the API answers again");

    c.destroy(&cx.cleanup).await.expect("kind delete cluster");
    assert!(!listed(&name).await);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs kind and a container engine: make test-kind"]
async fn real_interrupted_create_leaves_no_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_id();
    let s = kind_scenario(
        "real-abort",
        "    - fault: node-loss",
        "{ method: reconcile }",
    );
    let cx = context(&tmp, &run, "real-abort");
    let name = format!("gameday-real-abort-{run}");
    let task = {
        let (s, cx) = (s.clone(), cx.clone());
        tokio::spawn(async move { Cluster::create(&s, &cx, 0).await.map(|_| ()) })
    };
    wait_until("kind starts the cluster", Duration::from_secs(300), || {
        listed(&name)
    })
    .await;
    task.abort();
    let out = cx.cleanup.run(false).await;
    assert!(out.failed.is_empty(), "{out:?}");
    assert!(!listed(&name).await);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs kind and a container engine: make test-kind"]
async fn real_gc_deletes_only_marked_gameday_clusters() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_id();
    let by_hand = format!("gameday-by-hand-{run}");
    let out = std::process::Command::new("kind")
        .args(["create", "cluster", "--name", &by_hand])
        .arg("--kubeconfig")
        .arg(tmp.path().join("by-hand.kubeconfig"))
        .output()
        .expect("kind");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = kind_scenario(
        "real-leak",
        "    - fault: node-loss",
        "{ method: reconcile }",
    );
    let cx = context(&tmp, &run, "real-leak");
    let leaked = Cluster::create(&s, &cx, 0)
        .await
        .expect("create")
        .name()
        .to_owned();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("gc")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("deleted       kind cluster {leaked}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("refused       kind cluster {by_hand}")),
        "{text}"
    );
    assert!(!listed(&leaked).await);
    assert!(
        listed(&by_hand).await,
        "a gameday-named cluster without the marker is never deleted"
    );
    KindCli::default()
        .delete_cluster(&by_hand, Some(&tmp.path().join("by-hand.kubeconfig")))
        .await
        .expect("clean up");
}
