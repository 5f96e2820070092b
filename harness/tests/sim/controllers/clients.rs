//! `kubectl` and kube-rs see rollouts as on a real cluster: `rollout
//! status` and `wait` succeed once pods are Ready and report an exceeded
//! progress deadline; `await_condition(is_deployment_completed)` resolves.
//! The clock runs 200 times faster than wall time, so the kind profile's
//! latencies take milliseconds.

use std::time::Duration;

use gameday::clock::Clock;
use gameday::sim::Profile;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;

use super::*;

const SPEED: f64 = 200.0;

async fn fixture_with_app(profile: Profile) -> crate::common::Fixture {
    let f = fixture(profile, 3, Clock::scaled(SPEED)).await;
    namespace(f.cluster.store(), "app");
    f
}

fn write_manifest(f: &crate::common::Fixture, name: &str, body: &serde_json::Value) -> String {
    let path = f.dir.path().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(body).unwrap()).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn kubectl_rollout_status_and_wait_succeed_once_pods_are_ready() {
    let f = fixture_with_app(Profile::kind()).await;
    let mut d = deployment("web", 3, "nginx:1.27");
    d["metadata"]["namespace"] = json!("app");
    let file = write_manifest(&f, "web.json", &d);
    let out = f.kubectl(&["apply", "-f", &file]).await;
    assert_eq!(out.trim(), "deployment.apps/web created");
    let out = f
        .kubectl(&[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            "app",
            "--timeout=60s",
        ])
        .await;
    assert!(
        out.trim_end()
            .ends_with("deployment \"web\" successfully rolled out"),
        "{out}"
    );
    let out = f
        .kubectl(&[
            "wait",
            "--for=condition=Available",
            "deploy/web",
            "-n",
            "app",
            "--timeout=60s",
        ])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web condition met");
    let ready = f
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-n",
            "app",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ])
        .await;
    assert_eq!(ready.trim(), "3");
    let nodes = f
        .kubectl(&[
            "get",
            "nodes",
            "-o",
            "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}",
        ])
        .await;
    assert_eq!(nodes.trim(), "True True True");
}

#[tokio::test]
async fn kubectl_rollout_status_reports_an_exceeded_progress_deadline() {
    let f = fixture_with_app(Profile::kind()).await;
    let mut d = deployment("web", 2, "ghcr.io/acme/web:broken");
    d["metadata"]["namespace"] = json!("app");
    d["spec"]["progressDeadlineSeconds"] = json!(30);
    let file = write_manifest(&f, "web.json", &d);
    f.kubectl(&["apply", "-f", &file]).await;
    let out = f
        .kubectl_unchecked(&[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            "app",
            "--timeout=60s",
        ])
        .await;
    assert!(!out.status.success(), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("deployment \"web\" exceeded its progress deadline"),
        "{}",
        out.stderr
    );
    let reason = f
        .kubectl(&[
            "get",
            "pods",
            "-n",
            "app",
            "-o",
            "jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason}",
        ])
        .await;
    assert!(
        ["ErrImagePull", "ImagePullBackOff"].contains(&reason.trim()),
        "{reason}"
    );
}

#[tokio::test]
async fn kube_rs_await_condition_sees_the_deployment_complete() {
    let f = fixture_with_app(Profile::kind()).await;
    let client = f.client().await;
    let api: Api<Deployment> = Api::namespaced(client, "app");
    let d: Deployment = serde_json::from_value(deployment("web", 2, "nginx:1.27")).unwrap();
    api.create(&Default::default(), &d).await.unwrap();
    let done = tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(api.clone(), "web", conditions::is_deployment_completed()),
    )
    .await
    .expect("rollout completes within 30 s of wall time")
    .unwrap()
    .unwrap();
    let status = done.status.unwrap();
    assert_eq!(status.available_replicas, Some(2));
    assert_eq!(status.observed_generation, done.metadata.generation);
}

#[tokio::test]
async fn sim_serve_runs_the_chosen_profile_nodes_and_speed() {
    use gameday::process::Cmd;
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args([
            "sim",
            "serve",
            "--name",
            "t",
            "--profile",
            "kind",
            "--nodes",
            "3",
        ])
        .args(["--seed", "5", "--speed", "100", "--kubeconfig"])
        .arg(&kc)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(ready.starts_with("ready: "), "{ready}");
    let kubectl = |args: &[&str]| {
        Cmd::new("kubectl")
            .args(args)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .env("KUBECONFIG", &kc)
            .timeout(Duration::from_secs(60))
    };
    // kind's node readiness (10–25 s) at 100x: a fraction of a second.
    kubectl(&[
        "wait",
        "--for=condition=Ready",
        "node",
        "--all",
        "--timeout=30s",
    ])
    .output()
    .await
    .unwrap();
    let names = kubectl(&["get", "nodes", "-o", "name"])
        .output()
        .await
        .unwrap()
        .stdout;
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        vec!["node/t-control-plane", "node/t-worker", "node/t-worker2"]
    );
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sim_serve_rejects_an_unknown_profile() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["sim", "serve", "--profile", "gke"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown profile \"gke\"") && stderr.contains("instant, kind, eks"),
        "{stderr}"
    );
}
