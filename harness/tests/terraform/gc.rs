//! `gameday gc` and Terraform: a run killed before its cleanup leaves a
//! working copy whose state still holds a cluster; gc destroys it with
//! `terraform destroy` before deleting the folder (and only says so with
//! `--dry-run`).

use gameday::cluster::Cluster;
use gameday::cluster::gc::{self, Action, GcOptions, Leftover};
use gameday::cluster::providers::kind::KindCli;
use gameday::process::Tools;

use super::env::{Env, alive, cluster_pid, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_destroys_what_a_killed_run_applied_then_deletes_its_folder() {
    let env = Env::new();
    let s = scenario(
        "tf-gc",
        r#"{ dir: ../terraform/sim-cluster, vars: { profile: instant, nodes: "1" } }"#,
        "    - fault: infra-loss",
    );
    let cx = env.context("5a5a5a", "tf-gc", env.tools());
    let cluster = Cluster::create(&s, &cx, 0).await.expect("terraform apply");
    let workdir = cluster.terraform().unwrap().dir().to_owned();
    let pid = cluster_pid(&workdir);
    // The run is killed: its cleanup never runs.
    drop(cluster);
    drop(cx);
    let run_dir = env.tmp().join("gameday-5a5a5a");
    let options = |dry_run| GcOptions {
        dry_run,
        work_dir: env.tmp(),
        kind: KindCli::new(env.root().join("no-kind-here"), Tools::default()),
    };

    let report = gc::gc(&options(true)).await;
    assert!(
        report.notes.iter().any(|n| n
            == &format!(
                "would run `terraform destroy` in {} first",
                workdir.display()
            )),
        "{:?}",
        report.notes
    );
    assert!(alive(pid), "a dry run destroys nothing");

    let report = gc::gc(&options(false)).await;
    let item = report
        .items
        .iter()
        .find(|i| i.leftover == Leftover::RunDir(run_dir.clone()))
        .expect("the run folder is a leftover");
    assert_eq!(item.action, Action::Deleted, "{report:?}");
    assert!(
        !alive(pid),
        "terraform destroy stopped the simulated cluster"
    );
    assert!(!run_dir.exists());
}
