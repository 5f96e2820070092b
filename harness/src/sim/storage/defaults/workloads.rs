//! The API server's defaults of the workload kinds (`apps/v1`, `batch/v1`,
//! `autoscaling/v2`): Deployment strategy (RollingUpdate, 25% surge and
//! unavailable), StatefulSet update strategy (RollingUpdate, partition 0)
//! and pod management, DaemonSet update strategy, Job and CronJob
//! policies, HPA `minReplicas` and its CPU metric, and their pod templates.

use serde_json::{Map, Value, json};

use super::pods;

fn set(m: &mut Map<String, Value>, key: &str, value: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_owned(), value);
    }
}

fn spec_of(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    obj.get_mut("spec").and_then(Value::as_object_mut)
}

/// An update strategy: `type` defaulted, and `rollingUpdate` filled with
/// `rolling` when the type is RollingUpdate.
fn strategy(m: &mut Map<String, Value>, key: &str, rolling: Value) {
    let s = m.entry(key.to_owned()).or_insert_with(|| json!({}));
    let Some(s) = s.as_object_mut() else { return };
    set(s, "type", json!("RollingUpdate"));
    if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let r = s
            .entry("rollingUpdate".to_owned())
            .or_insert_with(|| json!({}));
        if let (Some(r), Some(defaults)) = (r.as_object_mut(), rolling.as_object()) {
            for (k, v) in defaults {
                set(r, k, v.clone());
            }
        }
    }
}

pub(super) fn deployment(obj: &mut Value) {
    if let Some(m) = spec_of(obj) {
        strategy(
            m,
            "strategy",
            json!({"maxUnavailable": "25%", "maxSurge": "25%"}),
        );
        set(m, "revisionHistoryLimit", json!(10));
        set(m, "progressDeadlineSeconds", json!(600));
    }
    pods::template(obj);
}

pub(super) fn statefulset(obj: &mut Value) {
    if let Some(m) = spec_of(obj) {
        strategy(m, "updateStrategy", json!({"partition": 0}));
        set(m, "podManagementPolicy", json!("OrderedReady"));
        set(m, "revisionHistoryLimit", json!(10));
        set(
            m,
            "persistentVolumeClaimRetentionPolicy",
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
        );
    }
    pods::template(obj);
}

pub(super) fn daemonset(obj: &mut Value) {
    if let Some(m) = spec_of(obj) {
        strategy(
            m,
            "updateStrategy",
            json!({"maxUnavailable": 1, "maxSurge": 0}),
        );
        set(m, "revisionHistoryLimit", json!(10));
    }
    pods::template(obj);
}

pub(super) fn job(obj: &mut Value) {
    if let Some(m) = spec_of(obj) {
        job_spec(m);
    }
    pods::template(obj);
}

fn job_spec(m: &mut Map<String, Value>) {
    let unset = |m: &Map<String, Value>, k: &str| m.get(k).is_none_or(Value::is_null);
    if unset(m, "completions") && unset(m, "parallelism") {
        m.insert("completions".into(), json!(1));
    }
    set(m, "parallelism", json!(1));
    set(m, "backoffLimit", json!(6));
    set(m, "completionMode", json!("NonIndexed"));
    set(m, "suspend", json!(false));
    set(m, "manualSelector", json!(false));
    set(m, "podReplacementPolicy", json!("TerminatingOrFailed"));
}

pub(super) fn cronjob(obj: &mut Value) {
    if let Some(m) = spec_of(obj) {
        set(m, "concurrencyPolicy", json!("Allow"));
        set(m, "suspend", json!(false));
        set(m, "successfulJobsHistoryLimit", json!(3));
        set(m, "failedJobsHistoryLimit", json!(1));
        if let Some(js) = m
            .get_mut("jobTemplate")
            .and_then(|t| t.get_mut("spec"))
            .and_then(Value::as_object_mut)
        {
            job_spec(js);
            if let Some(s) = js.get_mut("template").and_then(|t| t.get_mut("spec")) {
                pods::spec(s);
            }
        }
    }
}

pub(super) fn hpa(obj: &mut Value) {
    if let Some(m) = spec_of(obj) {
        set(m, "minReplicas", json!(1));
        if m.get("metrics")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            m.insert(
                "metrics".into(),
                json!([{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80}}}]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_default_as_the_api_server_does() {
        let mut s = json!({"spec": {"template": {"spec": {"containers": []}}}});
        statefulset(&mut s);
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        let mut d = json!({"spec": {"strategy": {"type": "Recreate"}}});
        deployment(&mut d);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
        let mut d = json!({"spec": {}});
        deployment(&mut d);
        assert_eq!(
            d["spec"]["strategy"]["rollingUpdate"],
            json!({"maxUnavailable": "25%", "maxSurge": "25%"})
        );
        let mut h = json!({"spec": {"maxReplicas": 3}});
        hpa(&mut h);
        assert_eq!(h["spec"]["minReplicas"], 1);
        assert_eq!(
            h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
    }
}
