//! A Flux object's status as a reconcile builds it: conditions with
//! reasons, the negative polarity ones present only while True,
//! `observedGeneration` and `lastHandledReconcileAt` updated as Flux's
//! `finalizeStatus` does. The vocabulary (types, reasons, annotations) is
//! [`crate::flux::status`].

use serde_json::{Value, json};

pub use crate::flux::status::*;
use crate::sim::storage::store::conditions;

/// A working copy of an object whose status a reconcile builds up.
#[derive(Debug, Clone)]
pub struct Working {
    /// The object (status changes accumulate here).
    pub obj: Value,
    /// `metadata.generation`.
    pub generation: i64,
    /// The time conditions are stamped with (RFC 3339).
    pub now: String,
}

impl Working {
    /// A working copy of `obj` at `now`.
    pub fn new(obj: &Value, now: String) -> Working {
        Working {
            generation: obj
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1),
            obj: obj.clone(),
            now,
        }
    }

    /// Sets a condition (stamped with the generation).
    pub fn mark(&mut self, type_: &str, status: &str, reason: &str, message: &str) {
        conditions::set_condition(
            &mut self.obj,
            type_,
            status,
            reason,
            message,
            &self.now,
            Some(self.generation),
        );
    }

    /// Removes a condition.
    pub fn clear(&mut self, type_: &str) {
        conditions::remove_condition(&mut self.obj, type_);
    }

    /// The status of a condition.
    pub fn condition(&self, type_: &str) -> Option<&str> {
        conditions::condition_status(&self.obj, type_)
    }

    /// `Ready=False` with `reason` (and `Reconciling` kept, to be turned
    /// into `ProgressingWithRetry` by [`Working::finalize`]).
    pub fn fail(&mut self, reason: &str, message: &str) {
        self.mark(types::READY, "False", reason, message);
    }

    /// Sets a status field.
    pub fn set(&mut self, field: &str, value: Value) {
        if !self.obj.get("status").is_some_and(Value::is_object)
            && let Some(root) = self.obj.as_object_mut()
        {
            root.insert("status".into(), json!({}));
        }
        if let Some(status) = self.obj.get_mut("status").and_then(Value::as_object_mut) {
            status.insert(field.to_owned(), value);
        }
    }

    /// Removes a status field.
    pub fn unset(&mut self, field: &str) {
        if let Some(status) = self.obj.get_mut("status").and_then(Value::as_object_mut) {
            status.remove(field);
        }
    }

    /// A status field.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.obj.get("status")?.get(field)
    }

    /// What Flux's `finalizeStatus` does at the end of every reconcile:
    /// record the handled `requestedAt`; when Ready, drop `Reconciling` and
    /// record the observed generation; when not Ready, turn `Reconciling`
    /// into `ProgressingWithRetry`.
    pub fn finalize(&mut self) {
        if let Some(at) = requested_at(&self.obj) {
            self.set("lastHandledReconcileAt", json!(at));
        }
        match self.condition(types::READY) {
            Some("True") => {
                self.clear(types::RECONCILING);
                let generation = self.generation;
                self.set("observedGeneration", json!(generation));
            }
            Some("False") => {
                if let Some(list) = self
                    .obj
                    .pointer_mut("/status/conditions")
                    .and_then(Value::as_array_mut)
                    && let Some(c) = list
                        .iter_mut()
                        .find(|c| c.get("type").and_then(Value::as_str) == Some(types::RECONCILING))
                {
                    c["reason"] = json!(reasons::PROGRESSING_WITH_RETRY);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finalize_follows_flux() {
        let obj = json!({"metadata": {"generation": 3, "annotations": {REQUESTED_AT: "2026-08-01T10:00:00.1Z"}}});
        let mut ok = Working::new(&obj, "t".into());
        ok.mark(types::RECONCILING, "True", reasons::PROGRESSING, "x");
        ok.mark(
            types::READY,
            "True",
            reasons::RECONCILIATION_SUCCEEDED,
            "Applied revision: r",
        );
        ok.finalize();
        assert_eq!(ok.get("observedGeneration"), Some(&json!(3)));
        assert_eq!(ok.condition(types::RECONCILING), None);
        assert_eq!(
            ok.get("lastHandledReconcileAt"),
            Some(&json!("2026-08-01T10:00:00.1Z"))
        );
        let mut bad = Working::new(&obj, "t".into());
        bad.mark(types::RECONCILING, "True", reasons::PROGRESSING, "x");
        bad.fail(reasons::BUILD_FAILED, "boom");
        bad.finalize();
        assert_eq!(bad.get("observedGeneration"), None);
        assert_eq!(
            bad.obj["status"]["conditions"][0]["reason"],
            reasons::PROGRESSING_WITH_RETRY
        );
        assert_eq!(bad.obj["status"]["conditions"][1]["observedGeneration"], 3);
    }
}
