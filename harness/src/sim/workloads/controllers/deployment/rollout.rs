//! Rollout arithmetic of the Deployment controller, as upstream computes
//! it: surge and unavailability fenceposts, the new ReplicaSet's size, and
//! how far old ReplicaSets may be scaled down.

use serde_json::Value;

use super::super::pods;

/// A ReplicaSet's sizes as the rollout sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RsSize {
    /// `ns/name`.
    pub(crate) key: String,
    /// `spec.replicas`.
    pub(crate) spec: i64,
    /// `status.availableReplicas`.
    pub(crate) available: i64,
}

impl RsSize {
    pub(crate) fn of(rs: &Value) -> RsSize {
        RsSize {
            key: pods::key_of(rs),
            spec: pods::int_at(rs, "/spec/replicas").unwrap_or(1),
            available: pods::int_at(rs, "/status/availableReplicas").unwrap_or(0),
        }
    }
}

/// An int-or-percent value scaled against `total` (percentages round up
/// when `round_up`, down otherwise).
pub(crate) fn scaled(v: Option<&Value>, total: i64, round_up: bool, default: &str) -> i64 {
    let text = match v {
        Some(Value::Number(n)) => return n.as_i64().unwrap_or(0).max(0),
        Some(Value::String(s)) => s.as_str(),
        _ => default,
    };
    match text.strip_suffix('%').map(str::parse::<i64>) {
        Some(Ok(pct)) => {
            let x = pct.max(0) * total;
            if round_up { (x + 99) / 100 } else { x / 100 }
        }
        _ => text.parse::<i64>().unwrap_or(0).max(0),
    }
}

/// `(maxSurge, maxUnavailable)` of a rolling update of `desired` replicas;
/// never both zero.
pub(crate) fn fenceposts(d: &Value, desired: i64) -> (i64, i64) {
    let ru = d.pointer("/spec/strategy/rollingUpdate");
    let surge = scaled(ru.and_then(|r| r.get("maxSurge")), desired, true, "25%");
    let unavailable = scaled(
        ru.and_then(|r| r.get("maxUnavailable")),
        desired,
        false,
        "25%",
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// True for the Recreate strategy.
pub(crate) fn is_recreate(d: &Value) -> bool {
    pods::str_at(d, "/spec/strategy/type") == "Recreate"
}

/// The `maxUnavailable` the `Available` condition allows.
pub(crate) fn max_unavailable(d: &Value, desired: i64) -> i64 {
    if is_recreate(d) || desired == 0 {
        return 0;
    }
    fenceposts(d, desired).1.min(desired)
}

/// The size the new ReplicaSet may have now (rolling update).
pub(crate) fn new_rs_replicas(d: &Value, desired: i64, new_spec: i64, all_spec: i64) -> i64 {
    if is_recreate(d) {
        return desired;
    }
    let (surge, _) = fenceposts(d, desired);
    let max_total = desired + surge;
    if all_spec >= max_total {
        return new_spec;
    }
    new_spec + (max_total - all_spec).min(desired - new_spec).max(0)
}

/// The scale-downs of old ReplicaSets (oldest first) a rolling update may
/// do now: first their unavailable pods, then available ones down to the
/// minimum availability. Returns `(key, new size)` for each change.
pub(crate) fn scale_down_old(
    d: &Value,
    desired: i64,
    new: Option<&RsSize>,
    old: &[RsSize],
) -> Vec<(String, i64)> {
    let (_, max_unavailable) = fenceposts(d, desired);
    let min_available = desired - max_unavailable;
    let mut sizes: Vec<RsSize> = old.to_vec();
    let all_spec =
        |sizes: &[RsSize]| sizes.iter().map(|s| s.spec).sum::<i64>() + new.map_or(0, |n| n.spec);
    let new_unavailable = new.map_or(0, |n| (n.spec - n.available).max(0));
    let max_scaled_down = all_spec(&sizes) - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    // Unhealthy replicas first.
    let mut budget = max_scaled_down;
    for s in sizes.iter_mut() {
        if budget <= 0 {
            break;
        }
        if s.spec == 0 {
            continue;
        }
        let unhealthy = (s.spec - s.available).max(0);
        let cut = unhealthy.min(budget);
        s.spec -= cut;
        s.available = s.available.min(s.spec);
        budget -= cut;
    }
    // Then available ones, keeping the minimum availability.
    let available: i64 =
        sizes.iter().map(|s| s.available).sum::<i64>() + new.map_or(0, |n| n.available);
    let mut left = available - min_available;
    for s in sizes.iter_mut() {
        if left <= 0 {
            break;
        }
        let cut = s.spec.min(left);
        s.spec -= cut;
        left -= cut;
    }
    sizes
        .into_iter()
        .zip(old)
        .filter(|(n, o)| n.spec != o.spec)
        .map(|(n, _)| (n.key, n.spec))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn size(key: &str, spec: i64, available: i64) -> RsSize {
        RsSize {
            key: key.into(),
            spec,
            available,
        }
    }

    #[test]
    fn fenceposts_default_to_25_percent() {
        let d = json!({"spec": {}});
        assert_eq!(fenceposts(&d, 3), (1, 0));
        assert_eq!(fenceposts(&d, 4), (1, 1));
        assert_eq!(fenceposts(&d, 10), (3, 2));
        let zero = json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}}});
        assert_eq!(fenceposts(&zero, 5), (0, 1));
        assert_eq!(
            max_unavailable(&json!({"spec": {"strategy": {"type": "Recreate"}}}), 5),
            0
        );
    }

    #[test]
    fn new_rs_grows_within_the_surge() {
        let d = json!({"spec": {}});
        // Fresh rollout of 3 with the old RS at 3: surge 1 allows one new pod.
        assert_eq!(new_rs_replicas(&d, 3, 0, 3), 1);
        // No old RS: all at once.
        assert_eq!(new_rs_replicas(&d, 3, 0, 0), 3);
        assert_eq!(new_rs_replicas(&d, 3, 1, 4), 1);
    }

    #[test]
    fn broken_old_pods_are_cleaned_before_healthy_ones() {
        let d = json!({"spec": {}});
        // Old RS of 3 never available (missing image); new RS 1 available.
        let new = size("new", 1, 1);
        let cuts = scale_down_old(&d, 3, Some(&new), &[size("old", 3, 0)]);
        assert_eq!(cuts, vec![("old".to_owned(), 2)]);
        // Healthy old RS: keep minimum availability (3 - 0).
        let new = size("new", 1, 0);
        assert!(scale_down_old(&d, 3, Some(&new), &[size("old", 3, 3)]).is_empty());
        let new = size("new", 1, 1);
        assert_eq!(
            scale_down_old(&d, 3, Some(&new), &[size("old", 3, 3)]),
            vec![("old".to_owned(), 2)]
        );
    }
}
