//! A simulated cluster people can debug in with kubectl (issue 19):
//! `auth can-i` answers, `logs` tells what the simulated kubelet knows,
//! `exec`/`port-forward` say the simulator runs no processes, and one
//! Kubernetes version everywhere.

use std::time::Duration;

use crate::common::Fixture;

const POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - {name: app, image: nginx:1.27}
";

async fn running_pod(f: &Fixture) {
    let p = f.dir.path().join("pod.yaml");
    std::fs::write(&p, POD).unwrap();
    f.kubectl(&["apply", "-f", p.to_str().unwrap()]).await;
    f.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/web",
        "-n",
        "default",
        "--timeout=60s",
    ])
    .await;
}

#[tokio::test]
async fn auth_can_i_answers_yes_for_the_cluster_admin_token() {
    let f = Fixture::start().await;
    let out = f.kubectl(&["auth", "can-i", "delete", "nodes"]).await;
    assert_eq!(out.trim(), "yes");
    let out = f
        .kubectl(&["auth", "can-i", "create", "deployments", "-n", "default"])
        .await;
    assert_eq!(out.trim(), "yes");
    let list = f
        .kubectl(&["auth", "can-i", "--list", "-n", "default"])
        .await;
    assert!(list.contains("*.*") && list.contains("[*]"), "{list}");
}

#[tokio::test]
async fn kubectl_logs_tells_what_the_simulated_kubelet_knows() {
    let f = Fixture::start().await;
    running_pod(&f).await;
    let log = f.kubectl(&["logs", "web", "-n", "default"]).await;
    assert!(
        log.lines().all(|l| l.starts_with("[simulated]")),
        "every line marked: {log}"
    );
    assert!(log.contains("runs no process"), "{log}");
    assert!(log.contains(r#"image "nginx:1.27" pulled"#), "{log}");
    assert!(log.contains("container started"), "{log}");
    let prev = f
        .kubectl_unchecked(&["logs", "web", "-n", "default", "--previous"])
        .await;
    assert!(!prev.status.success());
    assert!(
        prev.stderr.contains("previous terminated container"),
        "{}",
        prev.stderr
    );
    let missing = f
        .kubectl_unchecked(&["logs", "nope", "-n", "default"])
        .await;
    assert!(
        missing.stderr.contains("NotFound") || missing.stderr.contains("not found"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn exec_and_port_forward_say_the_simulator_runs_no_processes() {
    let f = Fixture::start().await;
    running_pod(&f).await;
    let exec = tokio::time::timeout(
        Duration::from_secs(60),
        f.kubectl_unchecked(&["exec", "web", "-n", "default", "--", "ls"]),
    )
    .await
    .expect("exec answers within 60 s");
    assert!(!exec.status.success());
    assert!(exec.stderr.contains("runs no processes"), "{}", exec.stderr);
    assert!(!exec.stderr.contains("NotFound"), "{}", exec.stderr);
    let cp = tokio::time::timeout(
        Duration::from_secs(60),
        f.kubectl_unchecked(&["cp", "default/web:/etc/hostname", "/dev/null"]),
    )
    .await
    .expect("cp answers within 60 s");
    assert!(!cp.status.success());
    assert!(cp.stderr.contains("runs no processes"), "{}", cp.stderr);
    let (code, body) = f
        .raw(
            "POST",
            "/api/v1/namespaces/default/pods/web/portforward",
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("port-forward"),
        "{body}"
    );
}

#[tokio::test]
async fn one_kubernetes_version_everywhere() {
    let f = Fixture::start().await;
    let version: serde_json::Value =
        serde_json::from_str(&f.kubectl(&["version", "-o", "json"]).await).unwrap();
    let server = version["serverVersion"]["gitVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let kubelets = f
        .kubectl(&[
            "get",
            "nodes",
            "-o",
            "jsonpath={.items[*].status.nodeInfo.kubeletVersion}",
        ])
        .await;
    assert!(!kubelets.trim().is_empty());
    for k in kubelets.split_whitespace() {
        assert_eq!(k, server);
    }
}
