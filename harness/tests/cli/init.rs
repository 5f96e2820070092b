//! `gameday init` and ad-hoc drills (`gameday run --fault`) as users run
//! them: the catalogue written for the fixture repositories validates and
//! passes on the simulator; nothing is overwritten without --force; an
//! ad-hoc drill is its printed scenario.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::fixtures;

fn gameday(args: &[&str], cwd: &Path) -> Output {
    let tmp = cwd.join(".tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .env("TMPDIR", &tmp)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo(name: &str) -> String {
    fixtures().join("repos").join(name).display().to_string()
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// `gameday init` for a fixture repository, then `gameday validate` and
/// `gameday run` of what it wrote: every drill passes.
fn init_then_run(name: &str, extra: &[&str], expected: &[&str]) -> Output {
    init_then_run_source(&repo(name), extra, expected).1
}

/// [`init_then_run`] for any `--source`; returns what init, then run,
/// printed.
fn init_then_run_source(source: &str, extra: &[&str], expected: &[&str]) -> (Output, Output) {
    let work = tempfile::tempdir().unwrap();
    let mut args = vec!["init", "--source", source];
    args.extend_from_slice(extra);
    let o = gameday(&args, work.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = work.path().join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut want: Vec<String> = expected.iter().map(|s| format!("{s}.yaml")).collect();
    want.push("scenario.schema.json".to_owned());
    want.sort();
    assert_eq!(files, want, "{}", text(&o));
    for f in expected {
        let body = std::fs::read_to_string(out.join(format!("{f}.yaml"))).unwrap();
        assert!(
            body.starts_with("# yaml-language-server: $schema=scenario.schema.json\n"),
            "{body}"
        );
        assert!(body.contains("# Why this drill:"), "{body}");
    }
    let v = gameday(&["validate", "scenarios"], work.path());
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    let r = gameday(&["run", "scenarios", "--out", "reports"], work.path());
    let rep = report(&work.path().join("reports"));
    for s in rep["scenarios"].as_array().unwrap() {
        assert_eq!(
            s["status"],
            "passed",
            "{}: {}\n{}",
            s["name"],
            serde_json::to_string_pretty(&s["repeats"][0]["verdict"]).unwrap(),
            text(&r)
        );
    }
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert_eq!(rep["scenarios"].as_array().unwrap().len(), expected.len());
    (o, r)
}

#[test]
fn init_on_podinfo_measures_budgets_that_the_catalogue_then_meets() {
    init_then_run(
        "podinfo",
        &["--measure"],
        &[
            "bad-commit",
            "cluster-loss",
            "controller-loss",
            "namespace-loss-podinfo",
            "resource-loss",
        ],
    );
}

#[test]
fn init_on_shop_writes_a_catalogue_that_passes() {
    let run = init_then_run(
        "shop",
        &[],
        &[
            "bad-commit",
            "cluster-loss",
            "controller-loss",
            "namespace-loss-shop",
            "namespace-loss-shop-data",
            "resource-loss",
        ],
    );
    // The lint's errors for the source come before the drills.
    let stderr = String::from_utf8_lossy(&run.stderr);
    let lint = stderr
        .find("lint: data/postgres.yaml:2: error[plain-secret]")
        .unwrap_or_else(|| panic!("{stderr}"));
    let first_drill = stderr.find("#1:").unwrap_or_else(|| panic!("{stderr}"));
    assert!(lint < first_drill, "{stderr}");
}

#[test]
fn lint_exits_1_on_errors_in_every_format() {
    let work = tempfile::tempdir().unwrap();
    let shop = repo("shop");
    for format in ["text", "json", "sarif"] {
        let o = gameday(
            &["lint", "--source", &shop, "--format", format],
            work.path(),
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        match format {
            "json" => {
                let v: Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["errors"], 3, "{out}");
                assert_eq!(v["findings"].as_array().unwrap().len(), 4, "{out}");
            }
            "sarif" => {
                let v: Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 4);
            }
            _ => assert!(
                out.ends_with(&format!("3 error(s), 1 warning(s) in {shop} (path .)\n")),
                "{out}"
            ),
        }
    }
    let clean = gameday(&["lint", "--source", &repo("podinfo")], work.path());
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let missing = gameday(&["lint", "--source", "no/such/dir"], work.path());
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
}

#[test]
fn init_on_infra_writes_a_catalogue_that_passes() {
    init_then_run(
        "infra",
        &[],
        &[
            "bad-commit",
            "cluster-loss",
            "controller-loss",
            "namespace-loss-shop",
            "resource-loss",
        ],
    );
}

#[test]
fn init_never_overwrites_without_force() {
    let work = tempfile::tempdir().unwrap();
    let podinfo = repo("podinfo");
    let first = gameday(&["init", "--source", &podinfo, "--out", "s"], work.path());
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let file = work.path().join("s/cluster-loss.yaml");
    std::fs::write(&file, "# mine\n").unwrap();
    let again = gameday(&["init", "--source", &podinfo, "--out", "s"], work.path());
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("never overwrites"),
        "{}",
        text(&again)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# mine\n");
    let forced = gameday(
        &["init", "--source", &podinfo, "--out", "s", "--force"],
        work.path(),
    );
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("fault: cluster-loss")
    );
}

fn recovery(report: &Value) -> Vec<(String, u64)> {
    report["scenarios"][0]["repeats"][0]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["group"] == "recovery")
        .map(|p| {
            let d = p["end_ms"].as_u64().unwrap() - p["start_ms"].as_u64().unwrap();
            (p["name"].as_str().unwrap().to_owned(), d)
        })
        .collect()
}

#[test]
fn an_ad_hoc_drill_runs_as_its_printed_scenario() {
    let work = tempfile::tempdir().unwrap();
    let podinfo = repo("podinfo");
    let flags = [
        "--source",
        &podinfo,
        "--path",
        "clusters/staging",
        "--fault",
        "namespace-loss",
        "--rto",
        "15m",
    ];
    let mut print = vec!["run"];
    print.extend_from_slice(&flags);
    print.push("--print-scenario");
    let p = gameday(&print, work.path());
    assert_eq!(p.status.code(), Some(0), "{}", text(&p));
    let printed = String::from_utf8(p.stdout.clone()).unwrap();
    assert!(printed.contains("fault: namespace-loss"), "{printed}");
    assert!(printed.contains("namespace: podinfo"), "{printed}");
    assert!(printed.contains("total: 15m"), "{printed}");
    std::fs::write(work.path().join("printed.yaml"), &printed).unwrap();

    let mut adhoc = vec!["run"];
    adhoc.extend_from_slice(&flags);
    adhoc.extend_from_slice(&["--seed", "11", "--out", "adhoc"]);
    let a = gameday(&adhoc, work.path());
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    let f = gameday(
        &["run", "printed.yaml", "--seed", "11", "--out", "file"],
        work.path(),
    );
    assert_eq!(f.status.code(), Some(0), "{}", text(&f));
    let (ra, rf) = (
        report(&work.path().join("adhoc")),
        report(&work.path().join("file")),
    );
    assert_eq!(ra["scenarios"][0]["name"], rf["scenarios"][0]["name"]);
    let (pa, pf) = (recovery(&ra), recovery(&rf));
    assert!(!pa.is_empty());
    assert_eq!(pa.len(), pf.len());
    for ((name, x), (other, y)) in pa.iter().zip(&pf) {
        assert_eq!(name, other);
        let (x, y) = (*x as f64, *y as f64);
        // The simulator's clock is seeded; a loaded machine may shift an
        // observation by a tick (as the drill tests allow).
        assert!(
            (x - y).abs() <= 0.02 * x.max(y),
            "{name}: {x} ms ad hoc vs {y} ms from the file, same seed"
        );
    }
}

#[test]
fn an_unknown_fault_is_invalid_input() {
    let work = tempfile::tempdir().unwrap();
    let o = gameday(
        &["run", "--source", &repo("podinfo"), "--fault", "meteor"],
        work.path(),
    );
    assert_invalid(&o, "unknown fault \"meteor\"");
}

/// Exit 2 (invalid input), saying `says`.
fn assert_invalid(o: &Output, says: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", text(o));
    assert!(text(o).contains(says), "{}", text(o));
}

/// `--mirror` of the fixture registry the OCI fixtures come from.
fn registry_mirror() -> String {
    let registry = fixtures().join("mirrors/ghcr.io/gameday-example");
    format!("oci://ghcr.io/gameday-example={}", registry.display())
}

#[test]
fn init_on_an_oci_artifact_writes_a_catalogue_that_passes() {
    // A fleet published as an OCI artifact, read through a mirror of its
    // registry (the mirror goes into every scenario written).
    let mirror = registry_mirror();
    let (init, _) = init_then_run_source(
        "oci://ghcr.io/gameday-example/fleet:1.1.0",
        &["--mirror", &mirror],
        &[
            "cluster-loss",
            "controller-loss",
            "namespace-loss-platform",
            "resource-loss",
        ],
    );
    let said = text(&init);
    assert!(
        said.contains("left out: bad-commit: the source is an OCI artifact"),
        "{said}"
    );
}

#[test]
fn an_oci_source_is_parsed_and_cannot_take_a_bad_commit() {
    let work = tempfile::tempdir().unwrap();
    let mirror = registry_mirror();
    let printed = gameday(
        &[
            "run",
            "--source",
            "oci://ghcr.io/gameday-example/fleet:1.1.0",
            "--mirror",
            &mirror,
            "--fault",
            "controller-loss",
            "--print-scenario",
        ],
        work.path(),
    );
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed));
    let scenario = String::from_utf8_lossy(&printed.stdout);
    assert!(
        scenario.contains("  source:\n    oci:\n      url: oci://ghcr.io/gameday-example/fleet\n      tag: 1.1.0\n    path: clusters/production\n  mirrors:\n    - url: oci://ghcr.io/gameday-example\n"),
        "{scenario}"
    );
    let refused = gameday(
        &[
            "run",
            "--source",
            "oci://ghcr.io/gameday-example/fleet:1.1.0",
            "--mirror",
            &mirror,
            "--fault",
            "bad-commit",
        ],
        work.path(),
    );
    assert_invalid(
        &refused,
        "--fault bad-commit: the source is an OCI artifact",
    );
    let bad = gameday(&["init", "--source", "oci://ghcr.io"], work.path());
    assert_invalid(
        &bad,
        "--source oci://ghcr.io: URL 'oci://ghcr.io' must name a host and a repository",
    );
}
