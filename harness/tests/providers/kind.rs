//! The kind provider through the fakes: the exact commands, the marker,
//! faults, and that nothing is left (or wrongly deleted) on every way out.

use std::time::Duration;

use gameday::cluster::ownership::{MARKER_NAME, MARKER_NAMESPACE, RUN_ID_LABEL};
use gameday::cluster::providers::kind::{KindCli, detect};
use gameday::cluster::{self, Cluster};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams};

use super::common;
use super::fakes::{Fakes, kind_scenario, wait_until};

const RUN: &str = "abc123";

fn golden(name: &str) -> std::path::PathBuf {
    common::fixtures()
        .join("kind/transcripts")
        .join(format!("{name}.txt"))
}

async fn marker(cluster: &Cluster) -> Option<ConfigMap> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), MARKER_NAMESPACE);
    api.get_opt(MARKER_NAME).await.expect("read the marker")
}

#[tokio::test(flavor = "multi_thread")]
async fn create_and_delete_issue_the_documented_commands_and_mark_the_cluster() {
    let fakes = Fakes::new();
    let s = kind_scenario(
        "create",
        "    - fault: namespace-loss\n      namespace: podinfo",
        "{ method: reconcile }",
    );
    let cx = fakes.context(RUN, "create");
    let c = Cluster::create(&s, &cx, 0).await.expect("create");
    assert_eq!(c.name(), "gameday-create-abc123");
    assert_eq!(fakes.clusters(), ["gameday-create-abc123"]);
    common::assert_golden(&golden("create"), &fakes.take_transcript(RUN));

    let m = marker(&c)
        .await
        .expect("the ownership marker is written right after create");
    let labels = m.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get(RUN_ID_LABEL).map(String::as_str), Some(RUN));
    assert_eq!(
        m.data
            .unwrap_or_default()
            .get("cluster")
            .map(String::as_str),
        Some("gameday-create-abc123")
    );
    let kubeconfig = std::fs::read_to_string(c.kubeconfig()).expect("kind wrote the kubeconfig");
    assert!(
        kubeconfig.contains("current-context: kind-gameday-create-abc123"),
        "{kubeconfig}"
    );
    assert_eq!(cx.cleanup.len(), 1, "the cluster is registered for cleanup");

    c.destroy(&cx.cleanup).await.expect("destroy");
    assert!(fakes.clusters().is_empty());
    assert!(
        cx.cleanup.is_empty(),
        "a destroyed cluster leaves the cleanup registry"
    );
    common::assert_golden(&golden("delete"), &fakes.take_transcript(RUN));
}

#[tokio::test(flavor = "multi_thread")]
async fn node_loss_stops_the_highest_numbered_worker() {
    let fakes = Fakes::new();
    let s = kind_scenario(
        "node-loss",
        "    - fault: node-loss\n      count: 1",
        "{ method: reconcile }",
    );
    let cx = fakes.context(RUN, "node-loss");
    let c = Cluster::create(&s, &cx, 0).await.expect("create");
    fakes.take_transcript(RUN);

    let lost = c.lose_workers(1).await.expect("node-loss");
    assert_eq!(lost, ["gameday-node-loss-abc123-worker2"]);
    assert_eq!(
        fakes.node_states("gameday-node-loss-abc123"),
        [
            "gameday-node-loss-abc123-control-plane up",
            "gameday-node-loss-abc123-worker up",
            "gameday-node-loss-abc123-worker2 down"
        ]
    );
    let lost = c
        .lose_workers(1)
        .await
        .expect("a second node-loss takes the next one");
    assert_eq!(lost, ["gameday-node-loss-abc123-worker"]);
    let e = c.lose_workers(1).await.unwrap_err();
    assert!(
        e.to_string().contains("only 0 worker(s) are running"),
        "{e}"
    );
    common::assert_golden(&golden("node-loss"), &fakes.take_transcript(RUN));

    let out = cx.cleanup.run(false).await;
    assert_eq!(
        out.deleted,
        ["kind cluster gameday-node-loss-abc123"],
        "{out:?}"
    );
    assert!(fakes.clusters().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn api_outage_pauses_the_control_plane_and_teardown_resumes_it() {
    let fakes = Fakes::new();
    let s = kind_scenario(
        "api-outage",
        "    - fault: api-outage\n      duration: 10s",
        "{ method: reconcile }",
    );
    let cx = fakes.context(RUN, "api-outage");
    let c = Cluster::create(&s, &cx, 0).await.expect("create");
    fakes.take_transcript(RUN);

    c.stop_api().await.expect("stop the API");
    assert!(
        c.client().apiserver_version().await.is_err(),
        "the API is down"
    );
    c.start_api().await.expect("start the API");
    c.client()
        .apiserver_version()
        .await
        .expect("the API answers again");
    common::assert_golden(&golden("api-outage"), &fakes.take_transcript(RUN));

    // Interrupted during an outage: teardown resumes the control plane to
    // read the marker, then deletes.
    c.stop_api().await.expect("stop the API");
    let out = cx.cleanup.run(false).await;
    assert_eq!(
        out.deleted,
        ["kind cluster gameday-api-outage-abc123"],
        "{out:?}"
    );
    assert!(fakes.clusters().is_empty());
    let calls = fakes.take_transcript(RUN);
    assert!(calls.starts_with("docker pause gameday-api-outage-<run>-control-plane\ndocker unpause gameday-api-outage-<run>-control-plane\n"), "{calls}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_create_leaves_no_cluster() {
    let fakes = Fakes::new().with("FAKE_KIND_FAIL_CREATE", "1");
    let s = kind_scenario("fails", "    - fault: node-loss", "{ method: reconcile }");
    let cx = fakes.context(RUN, "fails");
    let e = Cluster::create(&s, &cx, 0).await.unwrap_err();
    let text = format!(
        "{e}: {}",
        std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(
        text.contains("kind could not create cluster gameday-fails-abc123"),
        "{text}"
    );
    assert!(
        text.contains("failed to init node with kubeadm"),
        "kind's own error is kept: {text}"
    );
    let out = cx.cleanup.run(false).await;
    assert!(out.failed.is_empty(), "{out:?}");
    assert!(fakes.clusters().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_create_is_deleted_by_the_cleanup() {
    let fakes = Fakes::new().with("FAKE_KIND_CREATE_DELAY", "120");
    let s = kind_scenario("slow", "    - fault: node-loss", "{ method: reconcile }");
    let cx = fakes.context(RUN, "slow");
    let task = {
        let (s, cx) = (s.clone(), cx.clone());
        tokio::spawn(async move {
            Cluster::create(&s, &cx, 0)
                .await
                .map(|c| c.name().to_owned())
        })
    };
    // Wait (no timing assertion) until kind is halfway: its simulated
    // control plane runs but create has not returned.
    let pid_file = fakes.state().join("clusters/gameday-slow-abc123/pid");
    wait_until("kind gets halfway", Duration::from_secs(60), || {
        let halfway = pid_file.exists() && fakes.sim_ready("gameday-slow-abc123");
        async move { halfway }
    })
    .await;
    assert!(!task.is_finished());
    task.abort(); // as the runner does on Ctrl-C
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let out = cx.cleanup.run(false).await;
    assert_eq!(out.deleted, ["kind cluster gameday-slow-abc123"], "{out:?}");
    assert!(fakes.clusters().is_empty());
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    assert!(
        !alive || zombie(pid),
        "the simulated control plane was stopped"
    );
}

fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_of_the_same_name_is_never_touched() {
    let fakes = Fakes::new();
    fakes.kind(&["create", "cluster", "--name", "gameday-taken-abc123"]);
    let s = kind_scenario("taken", "    - fault: node-loss", "{ method: reconcile }");
    let cx = fakes.context(RUN, "taken");
    let e = Cluster::create(&s, &cx, 0).await.unwrap_err();
    assert!(
        matches!(
            e,
            cluster::Error::Kind(cluster::providers::kind::Error::NameTaken { .. })
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("never touches one it did not create"),
        "{e}"
    );
    let out = cx.cleanup.run(false).await;
    assert!(out.deleted.is_empty(), "{out:?}");
    assert_eq!(fakes.clusters(), ["gameday-taken-abc123"]);
    fakes.kind(&["delete", "cluster", "--name", "gameday-taken-abc123"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn teardown_refuses_a_cluster_whose_marker_is_gone() {
    let fakes = Fakes::new();
    let s = kind_scenario(
        "unmarked",
        "    - fault: node-loss",
        "{ method: reconcile }",
    );
    let cx = fakes.context(RUN, "unmarked");
    let c = Cluster::create(&s, &cx, 0).await.expect("create");
    let api: Api<ConfigMap> = Api::namespaced(c.client(), MARKER_NAMESPACE);
    api.delete(MARKER_NAME, &DeleteParams::default())
        .await
        .expect("remove the marker");

    let e = c.destroy(&cx.cleanup).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("refusing to delete cluster gameday-unmarked-abc123"),
        "{e}"
    );
    assert!(e.to_string().contains("no ownership marker"), "{e}");
    assert_eq!(fakes.clusters(), ["gameday-unmarked-abc123"]);
    let out = cx.cleanup.run(false).await;
    assert_eq!(
        out.failed.len(),
        1,
        "the refusal is reported at cleanup too: {out:?}"
    );
    assert!(out.failed[0].contains("no ownership marker"), "{out:?}");
    assert_eq!(fakes.clusters(), ["gameday-unmarked-abc123"]);
    fakes.kind(&["delete", "cluster", "--name", "gameday-unmarked-abc123"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn podman_is_used_when_kind_is_told_to() {
    let fakes = Fakes::new()
        .with("FAKE_DOCKER_DOWN", "1")
        .with("KIND_EXPERIMENTAL_PROVIDER", "podman");
    let s = kind_scenario("podman", "    - fault: node-loss", "{ method: reconcile }");
    let cx = fakes.context(RUN, "podman");
    let c = Cluster::create(&s, &cx, 0)
        .await
        .expect("create with podman");
    c.lose_workers(1).await.expect("node-loss");
    let calls = fakes.take_transcript(RUN);
    assert!(calls.contains("\npodman info\n"), "{calls}");
    assert!(
        calls.contains("\npodman stop gameday-podman-<run>-worker2\n"),
        "{calls}"
    );
    assert!(!calls.contains("docker"), "{calls}");
    cx.cleanup.run(false).await;
    assert!(fakes.clusters().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_engine_is_reported_with_what_was_looked_for() {
    let fakes = Fakes::new().with("FAKE_DOCKER_DOWN", "1");
    let s = kind_scenario(
        "nodocker",
        "    - fault: node-loss",
        "{ method: reconcile }",
    );
    let cx = fakes.context(RUN, "nodocker");
    let e = Cluster::create(&s, &cx, 0).await.unwrap_err().to_string();
    assert!(e.contains("no container engine answers for kind"), "{e}");
    assert!(
        e.contains("`docker info`") && e.contains("Cannot connect to the Docker daemon"),
        "{e}"
    );
    assert!(e.contains("KIND_EXPERIMENTAL_PROVIDER"), "{e}");
    assert!(fakes.clusters().is_empty());
    let calls = fakes.take_transcript(RUN);
    assert!(
        !calls.contains("create cluster"),
        "nothing was created: {calls}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_kind_is_reported_with_what_was_looked_for() {
    let fakes = Fakes::new();
    let e = detect(&KindCli::new("gameday-test-no-such-kind", fakes.tools()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("kind is not installed: looked for `kind` on PATH"),
        "{e}"
    );
    assert!(e.contains("--provider sim"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_git_server_address_is_the_kind_network_gateway() {
    let fakes = Fakes::new().with("FAKE_DOCKER_GATEWAY", "127.0.0.1");
    let s = kind_scenario("gitaddr", "    - fault: node-loss", "{ method: reconcile }");
    let cx = fakes.context(RUN, "gitaddr");
    let c = Cluster::create(&s, &cx, 0).await.expect("create");
    let opts = c.git_serve_options().await.expect("serve options");
    assert_eq!(opts.bind.ip().to_string(), "127.0.0.1");
    assert_eq!(opts.advertise_host.as_deref(), Some("127.0.0.1"));
    assert!(
        fakes
            .take_transcript(RUN)
            .contains("\ndocker network inspect kind\n")
    );
    cx.cleanup.run(false).await;
}
