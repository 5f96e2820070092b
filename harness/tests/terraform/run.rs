//! `gameday run` with provider terraform: the catalogue's `infra-loss`
//! drill and its `cluster-loss` drill through the `sim-cluster` module,
//! with their infra and cluster-ready phases timed; Ctrl-C (SIGINT to the
//! running binary) while `terraform apply` runs destroys what it created.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use super::env::{Env, sim_processes};

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json parses")
}

fn names(phases: &[&Value]) -> Vec<String> {
    phases
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

fn group<'a>(repeat: &'a Value, group: &str) -> Vec<&'a Value> {
    repeat["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["group"] == group)
        .collect()
}

fn duration(p: &Value) -> u64 {
    p["end_ms"].as_u64().expect("ended") - p["start_ms"].as_u64().unwrap()
}

/// Runs a scenario through terraform and checks what every such drill
/// must satisfy; returns its (only) repeat.
fn drill(env: &Env, args: &[&str]) -> Value {
    let out_dir = env.root().join("report");
    let out = env
        .gameday_run(&["--format", "json", "--out"])
        .arg(&out_dir)
        .args(args)
        .output()
        .expect("gameday run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = report(&out_dir);
    let s = &r["scenarios"][0];
    assert_eq!(s["provider"], "terraform");
    assert_eq!(
        s["time_base"], "wall",
        "the simulated clusters run out of process, on wall time"
    );
    let repeat = s["repeats"][0].clone();
    assert_eq!(repeat["status"], "passed", "{repeat}");
    let prep = group(&repeat, "preparation");
    assert_eq!(
        names(&prep)[..4],
        ["infra", "cluster-ready", "bootstrap", "steady-state"]
    );
    let rec = group(&repeat, "recovery");
    assert_eq!(
        names(&rec),
        ["infra", "cluster-ready", "bootstrap", "converge", "healthy"]
    );
    for p in prep.iter().take(2).chain(rec.iter().take(2)) {
        assert!(duration(p) > 0, "{} took time: {p}", p["name"]);
    }
    // Contiguous phases add up to the recovery time (to the millisecond:
    // wall-clock offsets are rounded one by one).
    let total: u64 = rec.iter().map(|p| duration(p)).sum();
    let recovery = repeat["recovery_ms"].as_u64().unwrap();
    assert!(recovery.abs_diff(total) <= 1, "{recovery} vs {total}");
    let run_id = r["run_id"].as_str().unwrap();
    assert!(
        sim_processes(run_id).is_empty(),
        "every simulated cluster of the run was destroyed"
    );
    assert!(env.run_dirs().is_empty(), "{:?}", env.run_dirs());
    repeat
}

#[test]
fn infra_loss_is_rebuilt_by_applying_the_module_again() {
    let env = Env::new();
    let repeat = drill(&env, &["scenarios/infra-loss.yaml"]);
    let disaster = group(&repeat, "disaster");
    let what = disaster[0]["operations"][0]["what"].as_str().unwrap();
    assert!(
        what.starts_with("terraform destroy of ") && what.contains("2 resource(s) destroyed"),
        "{what}"
    );
    let infra = &group(&repeat, "recovery")[0];
    let applied = infra["operations"][0]["what"].as_str().unwrap();
    assert!(applied.starts_with("terraform apply of "), "{applied}");
    let budgets: Vec<&str> = repeat["verdict"]["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        budgets,
        ["infra", "cluster-ready", "bootstrap", "converge", "total"]
    );
}

#[test]
fn the_catalogue_cluster_loss_runs_through_terraform() {
    let env = Env::new();
    let repeat = drill(
        &env,
        &["--provider", "terraform", "scenarios/cluster-loss.yaml"],
    );
    // The scenario's provision budget judges infra + cluster-ready.
    let rec = group(&repeat, "recovery");
    let provision = repeat["verdict"]["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["phase"] == "provision")
        .expect("the provision budget is judged");
    assert_eq!(
        provision["actual_ms"].as_u64(),
        Some(duration(rec[0]) + duration(rec[1]))
    );
}

#[test]
fn ctrl_c_during_terraform_apply_destroys_what_it_created() {
    let env = Env::new();
    // The catalogue's drill, with an apply that keeps going after the
    // cluster serves (as a cloud's "wait until active" does).
    let fixtures = super::common::fixtures();
    let text = std::fs::read_to_string(super::common::root().join("scenarios/infra-loss.yaml"))
        .unwrap()
        .replace("name: infra-loss", "name: tf-ctrl-c")
        .replace(
            r#"vars: { profile: kind, speed: "20" }"#,
            r#"vars: { profile: instant, create_seconds: "120" }"#,
        )
        .replace("../fixtures", &fixtures.display().to_string());
    assert!(text.contains("create_seconds"));
    let file = env.root().join("tf-ctrl-c.yaml");
    std::fs::write(&file, text).unwrap();
    let out_dir = env.root().join("report");
    let mut child = env
        .gameday_run(&["--format", "json", "--out"])
        .arg(&out_dir)
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gameday run");
    // The apply has started the cluster and is still running.
    let mut waited = Duration::ZERO;
    while sim_processes("gameday-tf-ctrl-c-").is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "gameday ended early");
        assert!(
            waited < Duration::from_secs(120),
            "the cluster never started"
        );
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGINT).expect("SIGINT");
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        sim_processes("gameday-tf-ctrl-c-").is_empty(),
        "terraform destroy stopped the simulated cluster"
    );
    assert!(!stderr.contains("could not delete"), "{stderr}");
    assert!(
        env.run_dirs().is_empty(),
        "state and run folder gone: {:?}",
        env.run_dirs()
    );
    let r = report(&out_dir);
    assert_eq!(r["status"], "aborted");
    let phases = r["scenarios"][0]["repeats"][0]["phases"]
        .as_array()
        .unwrap();
    assert_eq!(
        phases.last().unwrap()["name"],
        "infra",
        "interrupted during the apply"
    );
}

#[test]
fn infra_drift_is_applied_away_by_the_terraform_controller() {
    let env = Env::new();
    let out_dir = env.root().join("report");
    let out = env
        .gameday_run(&["--format", "json", "--out"])
        .arg(&out_dir)
        .arg("scenarios/infra-drift.yaml")
        .output()
        .expect("gameday run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = report(&out_dir);
    let s = &r["scenarios"][0];
    assert_eq!(s["provider"], "sim");
    assert_eq!(s["time_base"], "simulated");
    let repeat = &s["repeats"][0];
    assert_eq!(repeat["status"], "passed", "{repeat}");
    let disaster = group(repeat, "disaster");
    let what = disaster[0]["operations"][0]["what"].as_str().unwrap();
    assert!(
        what.starts_with("terraform apply by hand of Terraform flux-system/network")
            && what.contains("cidr=10.99.0.0/16"),
        "{what}"
    );
    let rec = group(repeat, "recovery");
    assert_eq!(names(&rec), ["converge", "healthy"]);
    // Drift is found at the Terraform object's next interval (1m).
    let converge = duration(rec[0]);
    assert!(converge > 0 && converge <= 60_000, "{converge}");
    assert_eq!(
        repeat["recovery_ms"].as_u64(),
        Some(rec.iter().map(|p| duration(p)).sum())
    );
    // Git is the backup: the state moved on, nothing was lost.
    assert_eq!(repeat["diff"]["lost"], serde_json::json!([]));
    let changed: Vec<&str> = repeat["diff"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["object"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["Secret/flux-system/tfstate-default-network"]);
    assert!(env.run_dirs().is_empty(), "{:?}", env.run_dirs());
}

/// A drill's verification waits for what the cluster still does at the
/// instant recovery was observed. The Terraform controller marks its
/// object Ready after the apply and then runs `terraform output` and
/// writes the `network-outputs` Secret; here `terraform output` takes two
/// seconds of wall time (and, as all Terraform work, no simulated time).
/// The steady state passes in between, and a snapshot taken then would
/// call the Secret lost — true of no moment of the simulated cluster.
#[test]
fn verification_waits_for_a_terraform_controller_still_writing_outputs() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let real = gameday::process::Lookup::default()
        .find("terraform")
        .expect("terraform on PATH");
    let bin = env.root().join("slow-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let slow = bin.join("terraform");
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = output ] && sleep 2; done\nexec '{}' \"$@\"\n",
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    let scenario = env.root().join("controller-loss.yaml");
    let fixture = super::common::root().join("fixtures/repos/infra");
    std::fs::write(
        &scenario,
        format!(
            "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: tf-controller-loss\nspec:\n  source:\n    fixture: {}\n    path: clusters/staging\n  steadyState:\n    checks:\n      - kustomizations: all\n      - workloads: {{ namespaces: [shop] }}\n  disaster:\n    - fault: controller-loss\n  recovery: {{ method: rebuild }}\n  rto: {{ total: 15m }}\n",
            fixture.display()
        ),
    )
    .unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    let out_dir = env.root().join("report");
    let out = env
        .gameday_run(&["--format", "json", "--out"])
        .arg(&out_dir)
        .arg(&scenario)
        .env("PATH", format!("{}:{path}", bin.display()))
        .output()
        .expect("gameday run");
    let r = report(&out_dir);
    let repeat = &r["scenarios"][0]["repeats"][0];
    assert_eq!(
        repeat["status"],
        "passed",
        "{repeat}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repeat["diff"]["lost"], serde_json::json!([]), "{repeat}");
    assert!(repeat["diff"]["compared"].as_u64().unwrap() > 0, "{repeat}");
}
