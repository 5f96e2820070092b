//! The terraform provider with the `sim-cluster` module: a working cluster
//! that kube-rs reaches, and after destroy no process and no state.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use gameday::cluster::Cluster;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};

use super::env::{Env, alive, cluster_pid, scenario, sim_processes, state_list};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_cluster_module_provisions_and_destroys_a_working_cluster() {
    let env = Env::new();
    let s = scenario(
        "tf-provision",
        r#"{ dir: ../terraform/sim-cluster, vars: { profile: instant, nodes: "2" } }"#,
        "    - fault: infra-loss",
    );
    let cx = env.context("a1b2c3", "tf-provision", env.tools());
    let cluster = Cluster::create(&s, &cx, 0).await.expect("terraform apply");
    assert_eq!(cluster.provider(), "terraform");
    assert_eq!(cluster.name(), "gameday-tf-provision-a1b2c3");
    let tf = cluster.terraform().expect("a terraform cluster");
    let workdir = tf.dir().to_owned();
    assert!(
        workdir.starts_with(&cx.dir),
        "the state lives in the run folder: {}",
        workdir.display()
    );
    assert!(tf.flux_manifests().is_some_and(|m| m.is_file()));

    // kube-rs reaches it; the module named the cluster after gameday's
    // name (TF_VAR_gameday_cluster_name).
    cluster.wait_api(Duration::from_secs(60)).await.unwrap();
    let nodes: Api<Node> = Api::all(cluster.client());
    let names: Vec<String> = nodes
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(
        names,
        [
            "gameday-tf-provision-a1b2c3-control-plane",
            "gameday-tf-provision-a1b2c3-worker"
        ]
    );
    let pid = cluster_pid(&workdir);
    assert!(alive(pid));
    assert_eq!(
        state_list(&env, &workdir).await,
        ["terraform_data.cluster", "terraform_data.ready"]
    );

    // The cleanup destroys it: no process, no state.
    let out = cx.cleanup.run(false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.deleted.len(), 1, "{:?}", out.deleted);
    assert!(!alive(pid), "the simulated cluster was stopped");
    assert!(sim_processes("gameday-tf-provision-a1b2c3").is_empty());
    assert!(state_list(&env, &workdir).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_output_holding_the_content_is_written_mode_0600() {
    let env = Env::new();
    let s = scenario(
        "tf-inline",
        "{ dir: ../terraform/inline-kubeconfig }",
        "    - fault: infra-loss",
    );
    let cx = env.context("d4e5f6", "tf-inline", env.tools());
    let cluster = Cluster::create(&s, &cx, 0).await.expect("terraform apply");
    assert_eq!(
        cluster.kubeconfig(),
        cx.dir.join("gameday-tf-inline-d4e5f6.kubeconfig")
    );
    let mode = std::fs::metadata(cluster.kubeconfig())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    cluster.wait_api(Duration::from_secs(60)).await.unwrap();
    let nodes: Api<Node> = Api::all(cluster.client());
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let pid = cluster_pid(cluster.terraform().unwrap().dir());
    let out = cx.cleanup.run(false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert!(!alive(pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infra_loss_destroys_and_a_reapply_brings_a_new_cluster() {
    let env = Env::new();
    let s = scenario(
        "tf-reapply",
        r#"{ dir: ../terraform/sim-cluster, vars: { profile: instant, nodes: "1" } }"#,
        "    - fault: infra-loss\n      targets: [terraform_data.cluster]",
    );
    let cx = env.context("0a0b0c", "tf-reapply", env.tools());
    let mut cluster = Cluster::create(&s, &cx, 0).await.expect("terraform apply");
    let workdir = cluster.terraform().unwrap().dir().to_owned();
    let first = cluster_pid(&workdir);
    let destroyed = cluster
        .terraform()
        .unwrap()
        .destroy_infra(&["terraform_data.cluster".to_owned()])
        .await
        .unwrap();
    // -target takes what depends on the target along.
    assert_eq!(
        destroyed,
        ["terraform_data.cluster", "terraform_data.ready"]
    );
    assert!(!alive(first));
    assert!(state_list(&env, &workdir).await.is_empty());

    cluster
        .reapply(&cx.dir)
        .await
        .expect("terraform apply again");
    let second = cluster_pid(&workdir);
    assert_ne!(first, second);
    assert!(alive(second));
    cluster.wait_api(Duration::from_secs(60)).await.unwrap();
    let out = cx.cleanup.run(false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert!(!alive(second));
}
