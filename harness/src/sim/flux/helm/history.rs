//! `status.history`: the snapshots of the releases a HelmRelease made,
//! newest first, as helm-controller keeps them (`api/v2/snapshot_types.go`):
//! each with the release's name, namespace, version, status, chart,
//! configuration digest and test hooks. The emulation reads the state of a
//! release from them (see [`super::state`]): Helm runs without `--wait`
//! here, so a release whose objects never became healthy is `deployed` in
//! Helm's storage and `failed` in its snapshot.

use serde_json::{Value, json};

use crate::sim::flux::status::Working;

/// The snapshots, newest first.
pub fn all(w: &Working) -> Vec<Value> {
    w.get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The newest snapshot.
pub fn latest(w: &Working) -> Option<Value> {
    all(w).into_iter().next()
}

/// Writes `history`.
pub fn set(w: &mut Working, history: Vec<Value>) {
    if history.is_empty() {
        w.unset("history");
    } else {
        w.set("history", Value::Array(history));
    }
}

/// A snapshot's string field.
pub fn field<'a>(snap: &'a Value, f: &str) -> &'a str {
    snap.get(f).and_then(Value::as_str).unwrap_or_default()
}

/// `<namespace>/<name>.v<version>`, as helm-controller's messages name a
/// release.
pub fn full_name(snap: &Value) -> String {
    format!(
        "{}/{}.v{}",
        field(snap, "namespace"),
        field(snap, "name"),
        snap["version"].as_u64().unwrap_or(0)
    )
}

/// `<chart>@<version>`.
pub fn chart_id(snap: &Value) -> String {
    format!(
        "{}@{}",
        field(snap, "chartName"),
        field(snap, "chartVersion")
    )
}

/// Whether the release's tests ran.
pub fn tested(snap: &Value) -> bool {
    snap.get("testHooks").is_some_and(Value::is_object)
}

/// Whether a test of the release failed.
pub fn test_failed(snap: &Value) -> bool {
    snap.get("testHooks")
        .and_then(Value::as_object)
        .is_some_and(|h| h.values().any(|t| t["phase"] == "Failed"))
}

fn successful(snap: &Value, ignore_tests: bool) -> bool {
    matches!(field(snap, "status"), "deployed" | "superseded")
        && (ignore_tests || !test_failed(snap))
}

/// The previous successful release (the rollback target).
pub fn previous(history: &[Value], ignore_tests: bool) -> Option<&Value> {
    history.iter().skip(1).find(|s| successful(s, ignore_tests))
}

/// Keeps the snapshots back to the previous successful release (five when
/// there is none), as helm-controller's `Truncate`.
pub fn truncate(history: &mut Vec<Value>, ignore_tests: bool) {
    let keep = history
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, s)| successful(s, ignore_tests))
        .map_or(5, |(i, _)| i + 1);
    history.truncate(keep);
}

/// Records a new release: the one before it, when it was deployed, is
/// now superseded (Helm's storage says so too).
pub fn push(w: &mut Working, snap: Value) {
    let mut h = all(w);
    if let Some(prev) = h.first_mut()
        && prev["status"] == "deployed"
    {
        prev["status"] = json!("superseded");
    }
    h.insert(0, snap);
    h.truncate(6);
    set(w, h);
}

/// Changes the newest snapshot.
pub fn update_latest(w: &mut Working, f: impl FnOnce(&mut Value)) {
    let mut h = all(w);
    if let Some(cur) = h.first_mut() {
        f(cur);
    }
    set(w, h);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(version: u64, status: &str) -> Value {
        json!({"name": "web", "namespace": "apps", "version": version, "status": status,
            "chartName": "hello", "chartVersion": "1.0.0"})
    }

    #[test]
    fn the_rollback_target_is_the_previous_successful_release() {
        let h = vec![snap(3, "failed"), snap(2, "failed"), snap(1, "superseded")];
        assert_eq!(previous(&h, false).unwrap()["version"], 1);
        let mut tested = snap(1, "superseded");
        tested["testHooks"] = json!({"t": {"phase": "Failed"}});
        let h = vec![snap(2, "failed"), tested];
        assert!(previous(&h, false).is_none());
        assert_eq!(previous(&h, true).unwrap()["version"], 1);
        assert_eq!(full_name(&h[0]), "apps/web.v2");
        assert_eq!(chart_id(&h[0]), "hello@1.0.0");
    }

    #[test]
    fn truncation_keeps_back_to_the_previous_success() {
        let mut h = vec![
            snap(4, "deployed"),
            snap(3, "superseded"),
            snap(2, "superseded"),
            snap(1, "superseded"),
        ];
        truncate(&mut h, false);
        assert_eq!(h.len(), 2);
        let mut failures: Vec<Value> = (1..=7).rev().map(|v| snap(v, "failed")).collect();
        truncate(&mut failures, false);
        assert_eq!(failures.len(), 5);
    }
}
