//! The drill's condition for infrastructure a Flux `Terraform` object
//! manages: after `infra-drift`, it is restored when the controller has
//! detected the drift and applied Git's values again — the object's
//! `status.lastAppliedByDriftDetectionAt` moved past what it was before
//! the drift, and the object is `Ready`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::observer::{Condition, GroupKind, Judgement, World};
use crate::kstatus;
use crate::scenario::model::NamespacedName;

/// Flux `Terraform` objects.
pub fn terraform_kind() -> GroupKind {
    GroupKind::new("infra.contrib.fluxcd.io", "Terraform")
}

/// A `Terraform` object whose infrastructure a fault changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drifted {
    /// The object.
    pub object: NamespacedName,
    /// Its `status.lastAppliedByDriftDetectionAt` before the drift.
    pub before: Option<String>,
}

/// The field the real controller sets when it applied because of a drift.
pub const APPLIED_BY_DRIFT: &str = "/status/lastAppliedByDriftDetectionAt";

/// Every drifted object applied again from Git since its drift.
#[derive(Debug, Clone)]
pub struct InfraRestored(pub Vec<Drifted>);

impl Condition for InfraRestored {
    fn needs(&self, _: &World) -> BTreeSet<GroupKind> {
        BTreeSet::from([terraform_kind()])
    }

    fn judge(&mut self, world: &World) -> Judgement {
        for d in &self.0 {
            let o = &d.object;
            let Some(t) = world.get(&terraform_kind(), &o.namespace, &o.name) else {
                return Judgement::Pending(format!("Terraform {o} missing"));
            };
            let applied = t.pointer(APPLIED_BY_DRIFT).and_then(Value::as_str);
            let ready = kstatus::condition_status(t, "Ready");
            if applied.is_none() || applied == d.before.as_deref() {
                return Judgement::Pending(format!(
                    "Terraform {o}: drift not applied away yet (Ready={}: {})",
                    ready.unwrap_or("?"),
                    reason(t)
                ));
            }
            if ready != Some("True") {
                return Judgement::Pending(format!(
                    "Terraform {o}: Ready={} ({})",
                    ready.unwrap_or("?"),
                    reason(t)
                ));
            }
        }
        Judgement::Met
    }
}

fn reason(t: &Value) -> String {
    t.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        })
        .and_then(|c| c.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or("no status yet")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tf(applied: Option<&str>, ready: &str) -> Value {
        let mut status = json!({"conditions": [{"type": "Ready", "status": ready, "reason": "R"}]});
        if let Some(a) = applied {
            status["lastAppliedByDriftDetectionAt"] = json!(a);
        }
        json!({"apiVersion": "infra.contrib.fluxcd.io/v1alpha2", "kind": "Terraform",
            "metadata": {"namespace": "flux-system", "name": "network"}, "status": status})
    }

    fn judge(obj: Value, before: Option<&str>) -> Judgement {
        let world = World::from_objects([obj], [terraform_kind()]);
        InfraRestored(vec![Drifted {
            object: NamespacedName {
                namespace: "flux-system".into(),
                name: "network".into(),
            },
            before: before.map(str::to_owned),
        }])
        .judge(&world)
    }

    #[test]
    fn restored_only_after_a_new_drift_apply_and_ready() {
        assert!(matches!(
            judge(tf(None, "True"), None),
            Judgement::Pending(_)
        ));
        assert!(matches!(
            judge(tf(Some("t1"), "True"), Some("t1")),
            Judgement::Pending(_)
        ));
        assert!(matches!(
            judge(tf(Some("t2"), "Unknown"), Some("t1")),
            Judgement::Pending(_)
        ));
        assert_eq!(judge(tf(Some("t2"), "True"), Some("t1")), Judgement::Met);
    }
}
