//! `gameday run --retain` on the simulator: the retained cluster lives in
//! the gameday process, so it keeps serving after the drill (reports
//! written first) until Ctrl-C, then everything stops.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::root;
use crate::run::left_in;

fn kubectl(kubeconfig: &str, cache: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("kubectl")
        .args(args)
        .arg("--request-timeout=10s")
        .arg("--cache-dir")
        .arg(cache)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .unwrap()
}

#[test]
fn a_retained_simulated_cluster_serves_kubectl_until_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["run", "scenarios/controller-loss.yaml", "--retain", "--out"])
        .arg(&out)
        .env("TMPDIR", tmp.path())
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let kubeconfig = loop {
        let line = lines.next().expect("gameday exited").unwrap();
        if let Some(rest) = line.trim().strip_prefix("export KUBECONFIG=") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no KUBECONFIG line"
        );
    };
    // The reports are written before it serves.
    assert!(out.join("report.json").is_file());
    // Reachable, and still reconciled: the drill's namespaces and Flux's
    // Kustomizations are there, Ready.
    let cache = dir.path().join("cache");
    std::thread::sleep(Duration::from_millis(500));
    let ns = kubectl(&kubeconfig, &cache, &["get", "ns", "-o", "name"]);
    assert!(
        ns.status.success(),
        "{}",
        String::from_utf8_lossy(&ns.stderr)
    );
    let ns = String::from_utf8_lossy(&ns.stdout).into_owned();
    assert!(
        ns.contains("namespace/podinfo") && ns.contains("namespace/flux-system"),
        "{ns}"
    );
    let ready = kubectl(
        &kubeconfig,
        &cache,
        &[
            "wait",
            "--for=condition=Ready",
            "kustomization",
            "--all",
            "-A",
            "--timeout=5s",
        ],
    );
    assert!(
        ready.status.success(),
        "{}",
        String::from_utf8_lossy(&ready.stderr)
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    // The run's exit code (the drill passed), not 130.
    assert_eq!(status.code(), Some(0));
    let gone = kubectl(&kubeconfig, &cache, &["get", "ns"]);
    assert!(!gone.status.success(), "the cluster still answers");
    assert!(
        !std::path::Path::new(&kubeconfig).exists(),
        "kubeconfig left"
    );
    assert!(
        left_in(tmp.path()).is_empty(),
        "left behind: {:?}",
        left_in(tmp.path())
    );
}
