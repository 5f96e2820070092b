//! `spec.dependsOn`: a Kustomization is applied only once every dependency
//! exists, has been reconciled at its current generation, is Ready and —
//! when it follows the same source — has applied the source's current
//! revision.

use serde_json::Value;

use super::gvr;
use super::spec::{SourceRef, Spec};
use crate::sim::storage::store::{ObjectRef, Store, conditions};

/// Checks the dependencies of a Kustomization whose source is at
/// `revision`.
///
/// # Errors
/// Flux's message for the first dependency that is not ready
/// (`dependency 'flux-system/infrastructure' is not ready`).
pub fn check(store: &Store, spec: &Spec, revision: &str) -> Result<(), String> {
    for (ns, name) in &spec.depends_on {
        let id = format!("{ns}/{name}");
        let dep = store
            .get(&ObjectRef::namespaced(gvr(), ns, name))
            .map_err(|e| format!("dependency '{id}' not found: {}", e.message))?;
        let generation = dep.pointer("/metadata/generation").and_then(Value::as_i64);
        let observed = dep
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64);
        let has_conditions = dep
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty());
        if !has_conditions || generation != observed {
            return Err(format!("dependency '{id}' is not ready"));
        }
        if conditions::condition_status(&dep, "Ready") != Some("True") {
            return Err(format!("dependency '{id}' is not ready"));
        }
        if let Ok(dep_spec) = Spec::read(&dep)
            && same_source(&dep_spec.source, &spec.source)
            && dep
                .pointer("/status/lastAppliedRevision")
                .and_then(Value::as_str)
                != Some(revision)
        {
            return Err(format!("dependency '{id}' revision is not up to date"));
        }
    }
    Ok(())
}

fn same_source(a: &SourceRef, b: &SourceRef) -> bool {
    a.kind == b.kind && a.name == b.name && a.namespace == b.namespace
}
