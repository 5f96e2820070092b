//! Helpers for `status.conditions` as Kubernetes controllers write them.

use serde_json::{Value, json};

/// Sets condition `type_` in `obj.status.conditions`, keeping
/// `lastTransitionTime` unless `status` flips. `now` is an RFC 3339 time
/// (see [`super::Store::now_rfc3339`]). `observed_generation`, when given,
/// is written on the condition. Returns true when anything changed.
pub fn set_condition(
    obj: &mut Value,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    observed_generation: Option<i64>,
) -> bool {
    if !obj.get("status").is_some_and(Value::is_object) {
        obj["status"] = json!({});
    }
    let conds = &mut obj["status"]["conditions"];
    if !conds.is_array() {
        *conds = json!([]);
    }
    let Some(list) = conds.as_array_mut() else {
        return false;
    };
    let mut cond = json!({"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": now});
    if let Some(g) = observed_generation {
        cond["observedGeneration"] = json!(g);
    }
    match list
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
    {
        Some(existing) => {
            if existing.get("status").and_then(Value::as_str) == Some(status)
                && let Some(t) = existing.get("lastTransitionTime")
            {
                cond["lastTransitionTime"] = t.clone();
            }
            if *existing == cond {
                return false;
            }
            *existing = cond;
        }
        None => list.push(cond),
    }
    true
}

/// Removes condition `type_`; true when it was present.
pub fn remove_condition(obj: &mut Value, type_: &str) -> bool {
    let Some(list) = obj
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    else {
        return false;
    };
    let before = list.len();
    list.retain(|c| c.get("type").and_then(Value::as_str) != Some(type_));
    before != list.len()
}

/// The status of condition `type_`, if present.
pub fn condition_status<'a>(obj: &'a Value, type_: &str) -> Option<&'a str> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))?
        .get("status")?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_changes_only_on_flip() {
        let mut o = json!({});
        assert!(set_condition(
            &mut o,
            "Ready",
            "False",
            "A",
            "",
            "t1",
            Some(1)
        ));
        assert!(set_condition(
            &mut o,
            "Ready",
            "False",
            "B",
            "",
            "t2",
            Some(2)
        ));
        assert_eq!(o["status"]["conditions"][0]["lastTransitionTime"], "t1");
        assert!(set_condition(
            &mut o,
            "Ready",
            "True",
            "B",
            "",
            "t3",
            Some(2)
        ));
        assert_eq!(o["status"]["conditions"][0]["lastTransitionTime"], "t3");
        assert!(!set_condition(
            &mut o,
            "Ready",
            "True",
            "B",
            "",
            "t4",
            Some(2)
        ));
        assert_eq!(condition_status(&o, "Ready"), Some("True"));
    }
}
