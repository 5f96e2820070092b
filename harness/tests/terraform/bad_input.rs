//! Bad modules: each fails with an error naming the module and showing
//! Terraform's last lines, and leaves nothing behind (no simulated
//! cluster running, nothing in the state).

use gameday::cluster::Cluster;

use super::env::{Env, alive, chain, cluster_pid, scenario, state_list};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_that_does_not_parse_fails_init_and_creates_nothing() {
    let env = Env::new();
    let s = scenario(
        "tf-syntax",
        "{ dir: ../terraform/bad/syntax }",
        "    - fault: infra-loss",
    );
    let cx = env.context("111111", "tf-syntax", env.tools());
    let err = chain(&Cluster::create(&s, &cx, 0).await.unwrap_err());
    assert!(err.contains("terraform init failed for module"), "{err}");
    assert!(err.contains("fixtures/terraform/bad/syntax"), "{err}");
    assert!(
        err.contains("Invalid multi-line string"),
        "Terraform's own lines: {err}"
    );
    assert!(
        cx.cleanup.is_empty(),
        "nothing was applied, so nothing is registered for cleanup"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_kubeconfig_output_is_named_and_the_cluster_destroyed() {
    let env = Env::new();
    let s = scenario(
        "tf-no-output",
        r#"{ dir: ../terraform/sim-cluster, kubeconfigOutput: cluster_kubeconfig, vars: { profile: instant, nodes: "1" } }"#,
        "    - fault: infra-loss",
    );
    let cx = env.context("222222", "tf-no-output", env.tools());
    let err = chain(&Cluster::create(&s, &cx, 0).await.unwrap_err());
    assert!(
        err.contains(
            r#"has no output "cluster_kubeconfig" (its outputs: flux_manifests, kubeconfig)"#
        ),
        "{err}"
    );
    assert!(
        err.contains("spec.cluster.terraform.kubeconfigOutput"),
        "{err}"
    );
    let workdir = cx.dir.join("gameday-tf-no-output-222222.terraform");
    let pid = cluster_pid(&workdir);
    assert!(alive(pid), "the apply itself succeeded");
    let out = cx.cleanup.run(false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert!(!alive(pid));
    assert!(state_list(&env, &workdir).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_terraform_binary_is_named() {
    let env = Env::new();
    let s = scenario(
        "tf-missing",
        "{ dir: ../terraform/sim-cluster }",
        "    - fault: infra-loss",
    );
    let empty = env.root().join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let cx = env.context("333333", "tf-missing", env.tools().env("PATH", &empty));
    let err = chain(&Cluster::create(&s, &cx, 0).await.unwrap_err());
    assert!(
        err.contains("terraform is not installed: looked for `terraform` on PATH"),
        "{err}"
    );
    assert!(cx.cleanup.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_failing_halfway_is_named_and_what_it_created_destroyed() {
    let env = Env::new();
    let s = scenario(
        "tf-halfway",
        "{ dir: ../terraform/bad/fails-halfway }",
        "    - fault: infra-loss",
    );
    let cx = env.context("444444", "tf-halfway", env.tools());
    let err = chain(&Cluster::create(&s, &cx, 0).await.unwrap_err());
    assert!(err.contains("terraform apply failed for module"), "{err}");
    assert!(
        err.contains("fixtures/terraform/bad/fails-halfway"),
        "{err}"
    );
    assert!(
        err.contains("QuotaExceeded"),
        "Terraform's own lines: {err}"
    );
    // The module calls ../../sim-cluster: the copy keeps the layout.
    let workdir = cx
        .dir
        .join("gameday-tf-halfway-444444.terraform/bad/fails-halfway");
    let pid = cluster_pid(&workdir);
    assert!(alive(pid), "the cluster was created before the failure");
    assert!(!state_list(&env, &workdir).await.is_empty());
    let out = cx.cleanup.run(false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert!(!alive(pid), "the simulated cluster was stopped");
    assert!(
        state_list(&env, &workdir).await.is_empty(),
        "the state was destroyed"
    );
}
