//! CI at scale, as a CI system runs it: partitions of a catalogue merged
//! into the report of one full run, baselines, and the GitHub workflow's
//! own shell steps run locally against the simulator (no network).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{fixtures, root};

/// Three quick catalogue scenarios in a folder of their own (fixture paths
/// made absolute); `controller-loss` with `edit` applied.
fn catalogue(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let cat = dir.join("catalogue");
    std::fs::create_dir_all(&cat).unwrap();
    for name in ["api-outage", "controller-loss", "infra-drift"] {
        let text = std::fs::read_to_string(root().join(format!("scenarios/{name}.yaml"))).unwrap();
        let text = text.replace("../fixtures", &fixtures().display().to_string());
        let text = if name == "controller-loss" {
            edit(text)
        } else {
            text
        };
        std::fs::write(cat.join(format!("{name}.yaml")), text).unwrap();
    }
    cat
}

fn gameday(args: &[&str], cwd: &Path, envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(cwd)
        .env("TMPDIR", cwd)
        .env_remove("GITHUB_ACTIONS")
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A report as JSON with what differs between two runs of the same drills
/// taken out: wall-clock fields, run ids (also inside operation texts and
/// cluster names) and the runs' temp folders.
fn simulated_only(report: &Path, ids: &[String], tmp: &Path) -> Value {
    fn walk(v: &mut Value, ids: &[String], tmp: &str) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| !matches!(k.as_str(), "wall_ms" | "observe_lag_ms"));
                m.values_mut().for_each(|v| walk(v, ids, tmp));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, ids, tmp)),
            Value::String(s) => {
                for id in ids {
                    *s = s.replace(id.as_str(), "<run>");
                }
                *s = s.replace(tmp, "<tmp>");
            }
            _ => {}
        }
    }
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    let mut v = v["scenarios"].take();
    walk(&mut v, ids, &tmp.display().to_string());
    for phase in v
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|s| s["repeats"].as_array_mut().unwrap())
        .flat_map(|r| r["phases"].as_array_mut().unwrap())
    {
        relative_times(phase);
    }
    v
}

/// A phase's times made relative to its start, and a preparation phase's
/// dropped. The simulator's preparation (bootstrap, steady state) was seen
/// to end 1 ms apart between two runs of one seed on a loaded machine,
/// which shifts every later offset by as much; the recovery phases'
/// durations, which the verdict and the baselines judge, are compared
/// exactly.
fn relative_times(phase: &mut Value) {
    let start = phase["start_ms"].as_u64().unwrap();
    let end = phase["end_ms"].as_u64();
    let p = phase.as_object_mut().unwrap();
    p.remove("start_ms");
    p.remove("end_ms");
    let preparation = p["group"] == "preparation";
    if !preparation {
        p.insert("duration_ms".into(), end.map(|e| e - start).into());
    }
    for op in p["operations"].as_array_mut().unwrap() {
        let at = op["at_ms"].as_u64().unwrap();
        op["at_ms"] = if preparation {
            Value::Null
        } else {
            (at - start).into()
        };
    }
}

/// The paths of the values that differ, with both values.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    let mut out = Vec::new();
    differences(a, b, path, &mut out);
    (!out.is_empty()).then(|| out.join("\n"))
}

fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            for (k, v) in x {
                differences(
                    v,
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} != {b}")),
    }
}

fn run_id(report: &Path) -> String {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    v["run_id"].as_str().unwrap().to_owned()
}

#[test]
fn merging_partitions_equals_one_full_run_on_every_recovery_figure() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalogue(dir.path(), |t| t);
    let cat = cat.to_str().unwrap();
    let full = gameday(
        &["run", cat, "--out", "full", "--format", "json"],
        dir.path(),
        &[],
    );
    assert_eq!(full.status.code(), Some(0), "{}", text(&full));
    for k in 1..=2 {
        let p = format!("{k}/2");
        let out = format!("p{k}");
        let o = gameday(
            &[
                "run",
                cat,
                "--partition",
                &p,
                "--out",
                &out,
                "--format",
                "json",
            ],
            dir.path(),
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let merged = gameday(
        &["report", "merge", "p2", "p1", "--out", "merged"],
        dir.path(),
        &[],
    );
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged));
    for f in ["report.json", "junit.xml", "summary.md", "report.html"] {
        assert!(dir.path().join("merged").join(f).is_file(), "{f}");
    }
    let ids: Vec<String> = ["full", "p1", "p2"]
        .iter()
        .map(|d| run_id(&dir.path().join(d)))
        .collect();
    let a = simulated_only(&dir.path().join("full"), &ids, dir.path());
    let b = simulated_only(&dir.path().join("merged"), &ids, dir.path());
    assert_eq!(a.as_array().unwrap().len(), 3);
    assert_eq!(
        first_difference(&a, &b, "scenarios"),
        None,
        "merged partitions differ from the full run"
    );

    // The partitions are a baseline for each other's scenarios: identical.
    let c = gameday(&["compare", "full", "merged"], dir.path(), &[]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c));
    assert!(
        String::from_utf8_lossy(&c.stdout).contains("no regression"),
        "{}",
        text(&c)
    );

    // A partition missing is refused: its scenarios would vanish.
    let m = gameday(&["report", "merge", "p1", "--out", "half"], dir.path(), &[]);
    assert_eq!(m.status.code(), Some(2), "{}", text(&m));
    assert!(
        String::from_utf8_lossy(&m.stderr).contains("partition(s) 2 of 2 missing"),
        "{}",
        text(&m)
    );
}

#[test]
fn run_with_a_baseline_exits_1_on_a_regression_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalogue(dir.path(), |t| t);
    let one = format!("{}/controller-loss.yaml", cat.display());
    let base = gameday(
        &["run", &one, "--out", "base", "--format", "json"],
        dir.path(),
        &[],
    );
    assert_eq!(base.status.code(), Some(0), "{}", text(&base));
    // Same seed, same simulated times: a baseline on the simulator is exact,
    // so a 0 % tolerance passes.
    let same = gameday(
        &[
            "run",
            &one,
            "--out",
            "same",
            "--format",
            "json,md",
            "--baseline",
            "base",
            "--tolerance",
            "0%",
        ],
        dir.path(),
        &[],
    );
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let md = std::fs::read_to_string(dir.path().join("same/summary.md")).unwrap();
    assert!(
        md.contains("| vs baseline |") && md.contains("total ±0 %"),
        "{md}"
    );
    // Make the baseline faster than reality: the new run is a regression.
    let path = dir.path().join("base/report.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let repeat = &mut v["scenarios"][0]["repeats"][0];
    let ms = repeat["recovery_ms"].as_u64().unwrap();
    repeat["recovery_ms"] = Value::from(ms / 2);
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    let slow = gameday(
        &[
            "run",
            &one,
            "--out",
            "slow",
            "--format",
            "json",
            "--baseline",
            "base",
        ],
        dir.path(),
        &[],
    );
    assert_eq!(slow.status.code(), Some(1), "{}", text(&slow));
    assert!(
        String::from_utf8_lossy(&slow.stderr).contains("REGRESSION (tolerance 20%)"),
        "{}",
        text(&slow)
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("slow/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["status"], "passed", "the drill itself passed");
    assert_eq!(report["scenarios"][0]["baseline"]["regressed"], true);
    // A baseline that cannot be read stops the run before any drill.
    let bad = gameday(
        &["run", &one, "--out", "x", "--baseline", "nope"],
        dir.path(),
        &[],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(!dir.path().join("x/report.json").exists());
}

/// The `run:` steps of a workflow job that call harness/scripts/, with the
/// step's env, `${{ matrix.partition }}` and `${{ env.X }}` substituted.
fn script_steps(
    job: &serde_yaml::Value,
    partition: Option<u64>,
    env: &serde_yaml::Mapping,
) -> Vec<(String, Vec<(String, String)>)> {
    let subst = |s: &str| {
        let mut s = s.to_owned();
        if let Some(k) = partition {
            s = s.replace("${{ matrix.partition }}", &k.to_string());
        }
        for (k, v) in env {
            let (k, v) = (k.as_str().unwrap(), serde_yaml::to_string(v).unwrap());
            s = s.replace(&format!("${{{{ env.{k} }}}}"), v.trim());
        }
        assert!(!s.contains("${{"), "unsubstituted expression in {s}");
        s
    };
    job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|step| {
            let run = step["run"].as_str()?;
            run.starts_with("harness/scripts/").then(|| {
                let envs = step["env"]
                    .as_mapping()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                let v = serde_yaml::to_string(v).unwrap();
                                (k.as_str().unwrap().to_owned(), subst(v.trim()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (subst(run), envs)
            })
        })
        .collect()
}

fn bash(script: &str, cwd: &Path, envs: &[(String, String)], common: &[(&str, String)]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env("TMPDIR", cwd)
        .envs(common.iter().map(|(k, v)| (*k, v.as_str())))
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap()
}

#[test]
fn the_workflow_steps_run_locally_partition_merge_summary_and_annotations() {
    let wf: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join(".github/workflows/gameday.yml")).unwrap(),
    )
    .unwrap();
    assert!(wf["on"]["pull_request"].is_null() || wf["on"]["pull_request"].is_mapping());
    assert!(wf["on"].as_mapping().unwrap().contains_key("pull_request"));
    assert!(
        wf["on"]
            .as_mapping()
            .unwrap()
            .contains_key("workflow_dispatch")
    );
    let env = wf["env"].as_mapping().unwrap().clone();
    let jobs = &wf["jobs"];
    let matrix: Vec<u64> = jobs["drills"]["strategy"]["matrix"]["partition"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let total = env
        .get("PARTITIONS")
        .and_then(serde_yaml::Value::as_u64)
        .unwrap();
    assert_eq!(
        matrix,
        (1..=total).collect::<Vec<_>>(),
        "the matrix is every partition of PARTITIONS"
    );
    assert!(
        jobs["test"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|s| s["run"].as_str() == Some("make test"))
    );
    assert!(
        jobs["kind"]["if"]
            .as_str()
            .unwrap()
            .contains("workflow_dispatch")
    );

    let dir = tempfile::tempdir().unwrap();
    // controller-loss misses its budget: the merge fails and annotates it.
    let cat = catalogue(dir.path(), |t| {
        t.replace("bootstrap: 2m,", "bootstrap: 1s,")
    });
    // Scripts are run from the repository's copy, in a work folder of
    // their own (the runner's checkout).
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(root().join("harness"), work.join("harness")).unwrap();
    let summary = dir.path().join("step-summary.md");
    let common = [
        ("GAMEDAY", env!("CARGO_BIN_EXE_gameday").to_owned()),
        ("SCENARIOS", cat.display().to_string()),
        ("GITHUB_ACTIONS", "true".to_owned()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ];
    for k in &matrix {
        let steps = script_steps(&jobs["drills"], Some(*k), &env);
        assert_eq!(steps.len(), 1, "one script step per drills job");
        for (run, envs) in steps {
            let o = bash(&run, &work, &envs, &common);
            assert_eq!(
                o.status.code(),
                Some(0),
                "partition {k}: a missed objective does not fail the step\n{}",
                text(&o)
            );
            assert!(
                !String::from_utf8_lossy(&o.stdout).contains("::error"),
                "annotations come from the merge only"
            );
        }
    }
    // download-artifact with `pattern:` puts each artifact in reports/<name>/.
    for k in &matrix {
        let from = work.join(format!("reports/partition-{k}"));
        assert!(
            from.join("report.json").is_file(),
            "partition {k} wrote its report"
        );
        std::fs::rename(&from, work.join(format!("reports/report-partition-{k}"))).unwrap();
    }
    let steps = script_steps(&jobs["report"], None, &env);
    assert_eq!(steps.len(), 1);
    let (run, envs) = &steps[0];
    let o = bash(run, &work, envs, &common);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "controller-loss failed: {out}");
    let merged: Value = serde_json::from_str(
        &std::fs::read_to_string(work.join("gameday-report/report.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = merged["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["api-outage", "controller-loss", "infra-drift"],
        "the catalogue's order"
    );
    for f in ["junit.xml", "summary.md", "report.html", "metrics.txt"] {
        assert!(work.join("gameday-report").join(f).is_file(), "{f}");
    }
    let step_summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        step_summary.contains("gameday") && step_summary.contains("controller-loss"),
        "{step_summary}"
    );
    let file = cat.join("controller-loss.yaml");
    let line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .position(|l| l.contains("bootstrap: 1s"))
        .unwrap()
        + 1;
    let annotation = format!(
        "::error file={},line={line},title=gameday%3A controller-loss failed::bootstrap ",
        file.display()
    );
    assert!(out.contains(&annotation), "expected {annotation}\n{out}");
    assert_eq!(out.matches("::error ").count(), 1, "{out}");
}
