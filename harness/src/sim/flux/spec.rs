//! Spec fields every emulated Flux object kind reads the same way
//! (Kustomization, Terraform): `sourceRef`, `dependsOn`, Go durations.

use std::time::Duration;

use serde_json::Value;

use super::runner::Key;
use crate::flux::duration;

/// `spec.sourceRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// `GitRepository` (others are not emulated).
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (the object's when omitted).
    pub namespace: String,
}

impl SourceRef {
    /// `spec.sourceRef` of a Flux object.
    ///
    /// # Errors
    /// `spec.sourceRef.name: Required value` when it names nothing.
    pub fn read(obj: &Value) -> Result<SourceRef, String> {
        SourceRef::read_at(obj, "/spec/sourceRef")
    }

    /// The source reference at `ptr` of a Flux object (a HelmRelease's
    /// `/spec/chart/spec/sourceRef`).
    ///
    /// # Errors
    /// `<field>.name: Required value` when it names nothing.
    pub fn read_at(obj: &Value, ptr: &str) -> Result<SourceRef, String> {
        let field = |f: &str| format!("{ptr}/{f}");
        Ok(SourceRef {
            kind: s(obj, &field("kind")).unwrap_or("GitRepository").to_owned(),
            name: s(obj, &field("name"))
                .ok_or_else(|| {
                    format!(
                        "{}.name: Required value",
                        ptr.trim_start_matches('/').replace('/', ".")
                    )
                })?
                .to_owned(),
            namespace: s(obj, &field("namespace"))
                .unwrap_or_else(|| own_namespace(obj))
                .to_owned(),
        })
    }

    /// The source a Flux object follows: `spec.sourceRef`, or a
    /// HelmRelease's `spec.chart.spec.sourceRef` or `spec.chartRef`.
    pub fn of(obj: &Value) -> Option<SourceRef> {
        SourceRef::read(obj)
            .or_else(|_| SourceRef::read_at(obj, "/spec/chart/spec/sourceRef"))
            .or_else(|_| SourceRef::read_at(obj, "/spec/chartRef"))
            .ok()
    }
}

/// `spec.dependsOn` as (namespace, name), the object's namespace when an
/// entry names none; entries without a name are skipped.
pub fn depends_on(obj: &Value) -> Vec<Key> {
    obj.pointer("/spec/dependsOn")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| {
            Some((
                s(d, "/namespace")
                    .unwrap_or_else(|| own_namespace(obj))
                    .to_owned(),
                s(d, "/name")?.to_owned(),
            ))
        })
        .collect()
}

fn own_namespace(obj: &Value) -> &str {
    s(obj, "/metadata/namespace").unwrap_or("default")
}

/// A non-empty string at `ptr`.
pub(super) fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty())
}

/// A Go duration at `ptr` (None when absent); the error names the field.
pub(super) fn dur(obj: &Value, ptr: &str) -> Result<Option<Duration>, String> {
    match s(obj, ptr) {
        None => Ok(None),
        Some(text) => duration::parse(text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", ptr.trim_start_matches('/').replace('/', "."))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_default_to_the_objects_namespace() {
        let o = json!({"metadata": {"namespace": "flux-system"},
            "spec": {"sourceRef": {"name": "repo"},
                "dependsOn": [{"name": "infra"}, {"name": "db", "namespace": "data"}, {"namespace": "x"}]}});
        assert_eq!(
            SourceRef::read(&o).unwrap(),
            SourceRef {
                kind: "GitRepository".into(),
                name: "repo".into(),
                namespace: "flux-system".into()
            }
        );
        assert_eq!(
            depends_on(&o),
            [
                ("flux-system".to_owned(), "infra".to_owned()),
                ("data".to_owned(), "db".to_owned())
            ]
        );
        let nameless = json!({"metadata": {"namespace": "a"}, "spec": {"sourceRef": {"kind": "GitRepository"}}});
        assert_eq!(
            SourceRef::read(&nameless).unwrap_err(),
            "spec.sourceRef.name: Required value"
        );
        assert_eq!(
            dur(&json!({"spec": {"interval": "10"}}), "/spec/interval")
                .unwrap_err()
                .split(':')
                .next(),
            Some("spec.interval")
        );
    }
}
