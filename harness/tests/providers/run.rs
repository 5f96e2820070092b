//! `gameday run` on kind through the fakes: the catalogue end to end, and
//! Ctrl-C (SIGINT to the running binary) while a cluster is being created
//! and while it recovers — no cluster may be left in the fake kind's state.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use super::common;
use super::fakes::Fakes;

fn gameday_run(fakes: &Fakes, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gameday"));
    cmd.arg("run")
        .args(args)
        .current_dir(common::root())
        .env_remove("KIND_EXPERIMENTAL_PROVIDER");
    for (k, v) in fakes.env() {
        cmd.env(k, v);
    }
    cmd.env("FAKE_FLUX_LOG", fakes.log());
    cmd
}

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json parses")
}

/// Run folders left in the fakes' `$TMPDIR`.
fn run_dirs(fakes: &Fakes) -> Vec<String> {
    std::fs::read_dir(fakes.tmp())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("gameday-"))
        .collect()
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.starts_with(needle)).count()
}

#[test]
fn the_catalogue_runs_end_to_end_on_kind_through_the_fakes() {
    let fakes = Fakes::new().with("FAKE_KIND_SIM_SPEED", "50");
    let out_dir = fakes.root().join("report");
    let out = gameday_run(
        &fakes,
        &[
            "--provider",
            "kind",
            "--parallel",
            "4",
            "--format",
            "json",
            "--out",
        ],
    )
    .arg(&out_dir)
    .arg("scenarios")
    .output()
    .expect("gameday run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let r = report(&out_dir);
    let scenarios = r["scenarios"].as_array().expect("scenarios");
    // Every catalogue drill kind can carry out (infra-loss, a drill of
    // Terraform, is skipped).
    let catalogue = gameday::scenario::discover(&[common::root().join("scenarios")])
        .unwrap()
        .iter()
        .map(|f| gameday::scenario::load_one(f).unwrap())
        .filter(|s| {
            gameday::scenario::capabilities::first_impossible(
                s,
                gameday::scenario::model::Provider::Kind,
            )
            .is_none()
        })
        .count();
    assert_eq!(scenarios.len(), catalogue);
    assert!(
        stderr
            .contains("skipped scenarios/infra-loss.yaml: provider kind cannot inject infra-loss"),
        "{stderr}"
    );
    for s in scenarios {
        assert_eq!(s["provider"], "kind", "{}", s["name"]);
        assert_eq!(s["status"], "passed", "{}: {}", s["name"], s["repeats"]);
        assert_eq!(s["time_base"], "wall", "{}", s["name"]);
    }

    let calls = fakes.take_transcript("");
    let creates = count(&calls, "kind create cluster");
    assert!(
        creates > catalogue,
        "one cluster per scenario, more for rebuilds: {creates}"
    );
    assert_eq!(
        count(&calls, "kind delete cluster"),
        creates,
        "every cluster deleted:\n{calls}"
    );
    assert!(
        count(&calls, "docker stop ") >= 1,
        "node-loss stops a worker container:\n{calls}"
    );
    assert_eq!(
        count(&calls, "docker pause "),
        count(&calls, "docker unpause "),
        "{calls}"
    );
    assert!(
        count(&calls, "docker pause ") >= 1,
        "api-outage pauses the control plane:\n{calls}"
    );
    assert!(
        count(&calls, "flux install ") >= catalogue,
        "Flux installed with its CLI:\n{calls}"
    );
    assert!(
        fakes.clusters().is_empty(),
        "no cluster left: {:?}",
        fakes.clusters()
    );
    assert!(
        run_dirs(&fakes).is_empty(),
        "no run folder left: {:?}",
        run_dirs(&fakes)
    );
}

/// `gameday run --provider kind` of one scenario, in the background.
fn spawn_run(fakes: &Fakes, out_dir: &Path, scenario: &str) -> Child {
    gameday_run(fakes, &["--provider", "kind", "--format", "json", "--out"])
        .arg(out_dir)
        .arg(scenario)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gameday run")
}

/// Sends SIGINT once `ready` holds, and returns the exit code.
fn interrupt_when(mut child: Child, ready: impl Fn() -> bool) -> Option<i32> {
    let mut waited = Duration::ZERO;
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("gameday ended before the interruption point ({status}):\n{err}");
        }
        assert!(
            waited < Duration::from_secs(120),
            "never reached the interruption point"
        );
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGINT).expect("SIGINT");
    let output = child.wait_with_output().expect("wait");
    output.status.code()
}

/// Exit 130, no cluster in the fake kind's state, no run folder, and the
/// partial report marked aborted.
fn assert_interrupted_and_clean(fakes: &Fakes, code: Option<i32>, out_dir: &Path) {
    assert_eq!(code, Some(130));
    assert!(
        fakes.clusters().is_empty(),
        "no cluster left: {:?}",
        fakes.clusters()
    );
    assert!(run_dirs(fakes).is_empty(), "{:?}", run_dirs(fakes));
    assert_eq!(report(out_dir)["status"], "aborted");
}

#[test]
fn ctrl_c_while_the_cluster_is_created_leaves_no_cluster() {
    let fakes = Fakes::new().with("FAKE_KIND_CREATE_DELAY", "120");
    let out_dir = fakes.root().join("report");
    let child = spawn_run(&fakes, &out_dir, "scenarios/node-loss.yaml");
    let code = interrupt_when(child, || {
        fakes.clusters().len() == 1 && fakes.sim_ready(&fakes.clusters()[0])
    });
    assert_interrupted_and_clean(&fakes, code, &out_dir);
}

#[test]
fn ctrl_c_during_recovery_leaves_no_cluster() {
    // At real speed a lost node's pods are evicted after minutes, so the
    // interruption lands in the recovery.
    let fakes = Fakes::new().with("FAKE_KIND_SIM_SPEED", "1");
    let out_dir = fakes.root().join("report");
    let child = spawn_run(&fakes, &out_dir, "scenarios/node-loss.yaml");
    let log = fakes.log();
    let code = interrupt_when(child, || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("docker stop "))
    });
    assert_interrupted_and_clean(&fakes, code, &out_dir);
    let calls = fakes.take_transcript("");
    assert!(
        calls.contains("\nkind delete cluster --name gameday-node-loss-"),
        "{calls}"
    );
}
