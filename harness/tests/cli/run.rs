//! `gameday run` as users run it: exit codes, the four reports, Ctrl-C.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{fixtures, root};

/// A catalogue scenario copied into `dir` (paths made absolute), with
/// `edit` applied to its text.
pub(crate) fn scenario_copy(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text =
        std::fs::read_to_string(root().join("scenarios").join(format!("{name}.yaml"))).unwrap();
    let text = text.replace("../fixtures", &fixtures().display().to_string());
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, edit(text)).unwrap();
    file
}

pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) tmp: tempfile::TempDir,
}

/// Runs `gameday run` with a private TMPDIR (to check what is left in it).
pub(crate) fn gameday_run(args: &[&str], out: &Path) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("run")
        .args(args)
        .arg("--out")
        .arg(out)
        .env("TMPDIR", tmp.path())
        .current_dir(root())
        .output()
        .unwrap();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        tmp,
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub(crate) fn left_in(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn a_passing_drill_exits_0_and_writes_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let r = gameday_run(&["scenarios/controller-loss.yaml"], &out);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("controller-loss  passed"), "{}", r.stdout);
    for f in ["report.json", "junit.xml", "summary.md", "report.html"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(json["status"], "passed");
    assert_eq!(json["scenarios"][0]["time_base"], "simulated");
    let junit = quick_junit::Report::deserialize_from_str(&read(&out.join("junit.xml"))).unwrap();
    assert_eq!(junit.test_suites.len(), 1);
    assert_eq!(junit.test_suites[0].test_cases.len(), 1);
    let html = scraper::Html::parse_document(&read(&out.join("report.html")));
    let timelines = scraper::Selector::parse("svg.timeline").unwrap();
    assert_eq!(html.select(&timelines).count(), 1, "one timeline per run");
    assert!(
        left_in(r.tmp.path()).is_empty(),
        "left behind: {:?}",
        left_in(r.tmp.path())
    );
}

#[test]
fn a_budget_too_tight_exits_1_and_every_report_names_the_phase() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_copy(dir.path(), "cluster-loss", |t| {
        t.replace(
            "phases: { provision: 1m, bootstrap: 2m, converge: 3m }",
            "phases: { provision: 1m, bootstrap: 2m, converge: 1s }",
        )
    });
    let out = dir.path().join("report");
    let r = gameday_run(&[file.to_str().unwrap(), "--format", "json,junit,md"], &out);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    let needle = regex_like_converge(&read(&out.join("junit.xml")));
    assert!(
        needle,
        "junit.xml names the converge budget:\n{}",
        read(&out.join("junit.xml"))
    );
    let json = read(&out.join("report.json"));
    assert!(
        json.contains("\"converge ") && json.contains("> budget 1s"),
        "{json}"
    );
    let md = read(&out.join("summary.md"));
    assert!(md.contains("converge") && md.contains("budget 1s"), "{md}");
    assert!(
        !out.join("report.html").exists(),
        "--format limits the reports"
    );
}

#[test]
fn a_source_that_never_reaches_a_steady_state_exits_1_as_unrecoverable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let r = gameday_run(&["fixtures/truthful/orphan-cr.yaml"], &out);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("orphan-cr "))
        .unwrap_or_else(|| panic!("no row:\n{}", r.stdout));
    assert!(row.contains("unrecoverable"), "{row}");
    assert!(row.contains("BackupPolicy/default/nightly"), "{row}");
    let note = row.split_once("  0  ").map_or("", |(_, n)| n.trim());
    assert!(!note.is_empty() && note.chars().count() <= 120, "{note:?}");
    for text in [&r.stdout, &r.stderr] {
        assert!(
            !text.contains("Status {") && !text.contains("Some("),
            "{text}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(json["status"], "unrecoverable");
    let repeat = &json["scenarios"][0]["repeats"][0];
    assert_eq!(repeat["status"], "unrecoverable");
    assert!(
        repeat["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("BackupPolicy/default/nightly")),
        "{repeat}"
    );
}

fn regex_like_converge(xml: &str) -> bool {
    xml.lines()
        .any(|l| l.contains("<failure") && l.contains("converge ") && l.contains("&gt; budget 1s"))
}

#[test]
fn a_wrong_flag_or_provider_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = gameday_run(&["--provider", "vmware"], dir.path());
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("unknown provider \"vmware\""),
        "{}",
        r.stderr
    );
    let r = gameday_run(
        &["--provider", "existing", "scenarios/cluster-loss.yaml"],
        dir.path(),
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr
            .contains("provider existing cannot inject cluster-loss"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_out_that_cannot_be_written_is_exit_2_before_any_drill() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let r = gameday_run(&["scenarios/controller-loss.yaml"], &file);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("a-file") && r.stderr.contains("give another --out; nothing was run"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stdout.contains("controller-loss"),
        "a drill ran: {}",
        r.stdout
    );
    assert_eq!(read(&file), "not a folder");
}

/// `controller-loss` re-installs Flux right after deleting its namespace:
/// a controller that put a finalizer back, or an install racing the
/// namespace's finalization, failed about 1 repeat in 16.
#[test]
fn controller_loss_passes_fifty_repeats_in_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let r = gameday_run(
        &["scenarios/controller-loss.yaml", "--repeat", "50"],
        dir.path(),
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("report.json"))).unwrap();
    let repeats = report["scenarios"][0]["repeats"].as_array().unwrap();
    assert_eq!(repeats.len(), 50);
    let failed: Vec<String> = repeats
        .iter()
        .enumerate()
        .filter(|(_, r)| r["status"] != "passed")
        .map(|(i, r)| format!("#{}: {} {}", i + 1, r["status"], r["error"]))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn ctrl_c_mid_drill_cleans_up_and_writes_the_partial_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["run", "scenarios/node-loss.yaml", "--out"])
        .arg(&out)
        .env("TMPDIR", tmp.path())
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the drill is recovering, then interrupt it.
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    loop {
        let line = lines
            .next()
            .expect("the run ended before recovery")
            .unwrap();
        if line.contains("healthy started") || line.contains("converge started") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no recovery phase started"
        );
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{}", rest.join("\n"));
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(json["status"], "aborted");
    let repeat = &json["scenarios"][0]["repeats"][0];
    assert_eq!(repeat["status"], "aborted");
    assert!(
        repeat["phases"].as_array().unwrap().len() >= 5,
        "the partial timeline is kept"
    );
    assert!(
        left_in(tmp.path()).is_empty(),
        "left behind: {:?}",
        left_in(tmp.path())
    );
}

/// `spec.disasters`: one file, one drill per alternative, each with its own
/// verdict — one alternative's missed RTO fails it alone; `list` and
/// `validate` count the drills.
#[test]
fn each_alternative_of_a_fault_matrix_is_a_drill_with_its_own_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&fixtures().join("scenarios/valid/fault-matrix.yaml"))
        .replace(
            "../../repos",
            &fixtures().join("repos").display().to_string(),
        )
        // podinfo's namespace comes back in ~10 minutes: a 1-minute RTO
        // is missed, by that drill only.
        .replace("rto: { total: 15m }", "rto: { total: 1m }");
    let file = dir.path().join("fault-matrix.yaml");
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();

    let list = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["list", f])
        .output()
        .unwrap();
    let rows = String::from_utf8_lossy(&list.stdout).into_owned();
    for name in [
        "fault-matrix-cluster-loss",
        "fault-matrix-podinfo-lost",
        "fault-matrix-flux-lost",
    ] {
        assert!(rows.contains(name), "{rows}");
    }
    let validate = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["validate", f])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&validate.stdout).contains("(3 drills)"),
        "{}",
        String::from_utf8_lossy(&validate.stdout)
    );

    let out = dir.path().join("report");
    let r = gameday_run(&[f, "--format", "json"], &out);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    let verdicts: Vec<(String, String)> = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(verdicts.len(), 3, "{verdicts:?}");
    let of = |name: &str| {
        verdicts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("{name} in {verdicts:?}"))
    };
    assert_eq!(of("fault-matrix-cluster-loss"), "passed");
    assert_eq!(of("fault-matrix-flux-lost"), "passed");
    assert_ne!(of("fault-matrix-podinfo-lost"), "passed");
    assert!(left_in(r.tmp.path()).is_empty());
}

/// Two drills of one run with the same name (here an alternative and a
/// file) would be mixed up in reports, baselines and partitions: `run`
/// refuses before any cluster exists and `validate` reports the clash.
#[test]
fn drills_sharing_a_name_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let matrix = read(&fixtures().join("scenarios/valid/fault-matrix.yaml")).replace(
        "../../repos",
        &fixtures().join("repos").display().to_string(),
    );
    std::fs::write(dir.path().join("matrix.yaml"), matrix).unwrap();
    scenario_copy(dir.path(), "controller-loss", |t| {
        t.replace("name: controller-loss", "name: fault-matrix-flux-lost")
    });
    let d = dir.path().to_str().unwrap();
    let r = gameday_run(&[d], &dir.path().join("report"));
    assert_eq!(r.code, Some(2), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("2 drills are named fault-matrix-flux-lost (")
            && r.stderr.contains("nothing was run"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("report").exists());
    let v = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["validate", d])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("1 name clash"),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}
