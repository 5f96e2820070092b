//! `report.json` round-trips and holds the fields the README documents.

use gameday::report::{Format, json, testing, write_all};
use serde_json::Value;

#[test]
fn round_trips_through_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let report = testing::run_report();
    let files = write_all(&report, tmp.path(), &[Format::Json]).unwrap();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(json::from_str(&text).unwrap(), report);
}

/// Every field named in the README's "report.json" section, by path.
#[test]
fn contains_the_documented_fields() {
    let v: Value = serde_json::from_str(&json::to_string(&testing::run_report()).unwrap()).unwrap();
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&v),
        [
            "format",
            "run_id",
            "gameday_version",
            "started_at",
            "wall_ms",
            "status",
            "scenarios"
        ]
    );
    assert_eq!(v["format"], "gameday.report/v1");
    let s = &v["scenarios"][1];
    assert_eq!(
        keys(s),
        [
            "name",
            "file",
            "description",
            "provider",
            "time_base",
            "disaster",
            "recovery",
            "objective",
            "repeats",
            "stats",
            "verdict",
            "status"
        ]
    );
    assert_eq!(s["time_base"], "simulated");
    assert_eq!(keys(&s["objective"]), ["total_ms", "phases_ms", "quantile"]);
    assert_eq!(s["objective"]["phases_ms"]["converge"], 180_000);
    assert_eq!(keys(&s["verdict"]), ["passed", "budgets", "failures"]);
    assert_eq!(s["verdict"]["failures"][0], "converge 3m40s > budget 3m");
    let check = &s["verdict"]["budgets"][2];
    assert_eq!(
        keys(check),
        ["phase", "budget_ms", "actual_ms", "margin_ms", "passed"]
    );
    assert_eq!(
        (check["phase"].as_str(), check["margin_ms"].as_i64()),
        (Some("converge"), Some(-40_000))
    );
    let r = &s["repeats"][0];
    assert_eq!(
        keys(r),
        [
            "index",
            "seed",
            "status",
            "phases",
            "recovery_ms",
            "verdict",
            "diff",
            "error",
            "coverage",
            "wall_ms"
        ]
    );
    // `reasons` is there only when the repeat stopped on an error; the
    // sample stopped on none, and has no coverage (it is made by hand).
    assert_eq!(r["coverage"], Value::Null);
    let p = &r["phases"][0];
    assert_eq!(
        keys(p),
        [
            "name",
            "group",
            "start_ms",
            "end_ms",
            "budget_ms",
            "status",
            "wall_ms",
            "observe_lag_ms",
            "operations",
            "message"
        ]
    );
    assert_eq!(keys(&p["operations"][0]), ["at_ms", "what"]);
    assert_eq!(keys(&r["diff"]), ["compared", "lost", "changed", "extra"]);
    let stats = &v["scenarios"][2]["stats"][0];
    assert_eq!(
        keys(stats),
        ["phase", "samples", "p50_ms", "p95_ms", "max_ms"]
    );
    let lost = &v["scenarios"][3]["repeats"][0]["diff"]["lost"][0];
    assert_eq!(keys(lost), ["object", "allowed", "fields"]);
}

/// Every key that occurs in a report.json is documented in the README's
/// "report.json" section, so the documentation cannot silently drift.
#[test]
fn every_field_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(crate::common::root().join("README.md")).unwrap();
    let start = readme
        .find("### report.json")
        .expect("README has a report.json section");
    let section = &readme[start..];
    let end = section[4..].find("\n### ").map_or(section.len(), |i| i + 4);
    let section = &section[..end];
    let mut keys = std::collections::BTreeSet::new();
    for report in [testing::run_report(), testing::aborted_run_report()] {
        collect(&serde_json::to_value(&report).unwrap(), &mut keys, false);
    }
    let undocumented: Vec<&String> = keys
        .iter()
        .filter(|k| !section.contains(&format!("`{k}`")) && !section.contains(&format!(".{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "fields missing from README's report.json section: {undocumented:?}"
    );
}

/// Object keys, recursively; the keys of `phases_ms` are phase names, not fields.
fn collect(v: &Value, keys: &mut std::collections::BTreeSet<String>, data: bool) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if !data {
                    keys.insert(k.clone());
                }
                collect(v, keys, k == "phases_ms");
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, keys, false)),
        _ => {}
    }
}
