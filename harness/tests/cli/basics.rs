//! `--help`, `--version`, usage errors, `validate`, `list` and `schema`.

use std::process::{Command, Output};

use crate::common::{fixtures, root};

fn gameday(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run gameday")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_and_version() {
    let o = gameday(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for cmd in ["validate", "list", "schema"] {
        assert!(text.contains(cmd), "{text}");
    }
    assert!(
        text.contains("Exit codes: 0 success, 1 an objective missed, 2 invalid input"),
        "{text}"
    );
    let o = gameday(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with(&format!("gameday {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_wrong_flag_is_a_usage_error_with_exit_2() {
    let o = gameday(&["validate", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unexpected argument '--no-such-flag'"),
        "{}",
        stderr(&o)
    );
    let o = gameday(&["explode"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn validate_good_files_exits_0() {
    let dir = fixtures().join("scenarios/valid");
    let o = gameday(&["validate", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("ok    ") && text.contains("minimal.yaml"),
        "{text}"
    );
    assert!(text.contains(" valid, 0 invalid"), "{text}");
}

#[test]
fn validate_reports_each_bad_file_and_exits_2() {
    let good = fixtures().join("scenarios/valid/minimal.yaml");
    let bad = fixtures().join("scenarios/invalid/phase-over-total.yaml");
    let o = gameday(&["validate", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    assert!(text.contains("ok    ") && text.contains("FAIL  "), "{text}");
    assert!(
        text.contains("spec.rto.phases.converge: budget 6m is larger than the total rto.total 5m"),
        "{text}"
    );
    assert!(text.contains("help: "), "{text}");
    assert!(text.contains("1 valid, 1 invalid"), "{text}");
}

#[test]
fn validate_a_missing_path_exits_2_with_an_error() {
    let o = gameday(&["validate", "no/such/place.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: no/such/place.yaml: no such file or folder"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn validate_defaults_to_the_catalogue() {
    let o = gameday(&["validate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("scenarios/cluster-loss.yaml"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn list_prints_a_table_of_the_catalogue() {
    let o = gameday(&["list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let header = text.lines().next().unwrap();
    for col in [
        "NAME",
        "PROVIDER",
        "DISASTER",
        "RECOVERY",
        "RTO",
        "DESCRIPTION",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let row = text
        .lines()
        .find(|l| l.starts_with("cluster-loss "))
        .expect("a cluster-loss row");
    assert!(
        row.contains("sim") && row.contains("rebuild") && row.contains("5m"),
        "{row}"
    );
}

#[test]
fn list_with_an_invalid_file_exits_2_and_says_so() {
    let bad = fixtures().join("scenarios/invalid/impossible-pair.yaml");
    let o = gameday(&["list", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("reconcile cannot recover from cluster-loss"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn schema_prints_the_committed_schema() {
    let o = gameday(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("scenarios/scenario.schema.json")).unwrap();
    assert_eq!(stdout(&o), committed);
    let parsed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(parsed["title"], "gameday Scenario (gameday/v1alpha1)");
}
