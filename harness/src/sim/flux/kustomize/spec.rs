//! The parts of a Kustomization's spec the emulation reads, with Flux's
//! defaults.

use std::time::Duration;

use serde_json::Value;

use crate::flux::health_exprs::HealthCheckExpr;
use crate::gitops::render::fluxbuild::BuildSpec;
pub use crate::sim::flux::spec::SourceRef;
use crate::sim::flux::spec::{depends_on, dur, s};

/// A `spec.healthChecks` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `apiVersion` (may be empty).
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (may be empty).
    pub namespace: String,
}

/// A `spec.postBuild.substituteFrom` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstituteRef {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Name, in the Kustomization's namespace.
    pub name: String,
    /// `optional`: a missing object is skipped.
    pub optional: bool,
}

/// `spec.postBuild`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostBuild {
    /// `substitute`, inline variables (they win over `substituteFrom`).
    pub substitute: Vec<(String, String)>,
    /// `substituteFrom`, in order (later entries win).
    pub substitute_from: Vec<SubstituteRef>,
}

/// `spec.decryption`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decryption {
    /// `provider` (`sops`).
    pub provider: String,
    /// `secretRef.name`, in the Kustomization's namespace.
    pub secret: Option<String>,
}

/// What a reconcile needs from `spec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// `sourceRef`.
    pub source: SourceRef,
    /// `path` (`./clusters/x`; empty for the root).
    pub path: String,
    /// `interval`.
    pub interval: Duration,
    /// `retryInterval` (default: `interval`).
    pub retry_interval: Duration,
    /// `timeout` (default: `interval`).
    pub timeout: Duration,
    /// `prune`.
    pub prune: bool,
    /// `wait`.
    pub wait: bool,
    /// `healthChecks`.
    pub health_checks: Vec<HealthCheck>,
    /// `dependsOn` as (namespace, name).
    pub depends_on: Vec<(String, String)>,
    /// What shapes the build: `targetNamespace`, `patches`, `images`,
    /// `components`, `namePrefix`/`nameSuffix`, `commonMetadata`.
    pub build: BuildSpec,
    /// `healthCheckExprs`, as written (compiled by the reconcile).
    pub health_check_exprs: Vec<HealthCheckExpr>,
    /// `deletionPolicy` (`MirrorPrune` by default).
    pub deletion_policy: String,
    /// `postBuild`, when set.
    pub post_build: Option<PostBuild>,
    /// `decryption`, when set.
    pub decryption: Option<Decryption>,
}

impl Spec {
    /// Reads the spec of a Kustomization.
    ///
    /// # Errors
    /// A message naming the field when a duration is malformed or
    /// `sourceRef` is missing.
    pub fn read(obj: &Value) -> Result<Spec, String> {
        let interval = dur(obj, "/spec/interval")?.unwrap_or(Duration::from_secs(600));
        let source = SourceRef::read(obj)?;
        let list = |ptr: &str| {
            obj.pointer(ptr)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        Ok(Spec {
            source,
            path: s(obj, "/spec/path").unwrap_or("").to_owned(),
            interval,
            retry_interval: dur(obj, "/spec/retryInterval")?.unwrap_or(interval),
            timeout: dur(obj, "/spec/timeout")?.unwrap_or(interval),
            prune: obj
                .pointer("/spec/prune")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            wait: obj
                .pointer("/spec/wait")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            health_checks: list("/spec/healthChecks")
                .iter()
                .map(|h| HealthCheck {
                    api_version: s(h, "/apiVersion").unwrap_or("").to_owned(),
                    kind: s(h, "/kind").unwrap_or("").to_owned(),
                    name: s(h, "/name").unwrap_or("").to_owned(),
                    namespace: s(h, "/namespace").unwrap_or("").to_owned(),
                })
                .collect(),
            depends_on: depends_on(obj),
            build: BuildSpec::from_kustomization(obj)?,
            health_check_exprs: health_check_exprs(obj)?,
            deletion_policy: s(obj, "/spec/deletionPolicy")
                .unwrap_or("MirrorPrune")
                .to_owned(),
            post_build: post_build(obj)?,
            decryption: obj.pointer("/spec/decryption").map(|d| Decryption {
                provider: s(d, "/provider").unwrap_or("").to_owned(),
                secret: s(d, "/secretRef/name").map(str::to_owned),
            }),
        })
    }

    /// Whether deleting the Kustomization deletes what it applied.
    pub fn deletes_on_finalize(&self) -> bool {
        match self.deletion_policy.as_str() {
            "Delete" | "WaitForTermination" => true,
            "Orphan" => false,
            _ => self.prune,
        }
    }
}

/// `spec.healthCheckExprs`, each entry checked for its shape.
fn health_check_exprs(obj: &Value) -> Result<Vec<HealthCheckExpr>, String> {
    let Some(list) = obj.pointer("/spec/healthCheckExprs") else {
        return Ok(Vec::new());
    };
    serde_path_to_error::deserialize::<_, Vec<HealthCheckExpr>>(list.clone()).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        format!("spec.healthCheckExprs{path}: {}", e.inner())
    })
}

fn post_build(obj: &Value) -> Result<Option<PostBuild>, String> {
    let Some(pb) = obj.pointer("/spec/postBuild") else {
        return Ok(None);
    };
    let mut out = PostBuild::default();
    if let Some(m) = pb.get("substitute").and_then(Value::as_object) {
        for (k, v) in m {
            let v = v.as_str().ok_or_else(|| {
                format!("spec.postBuild.substitute.{k}: Invalid value: must be a string")
            })?;
            out.substitute.push((k.clone(), v.to_owned()));
        }
    }
    let refs = pb.get("substituteFrom").and_then(Value::as_array);
    for (i, r) in refs.into_iter().flatten().enumerate() {
        let kind = s(r, "/kind").unwrap_or("");
        if kind != "ConfigMap" && kind != "Secret" {
            return Err(format!(
                "spec.postBuild.substituteFrom[{i}].kind: Unsupported value: \"{kind}\": supported values: \"Secret\", \"ConfigMap\""
            ));
        }
        out.substitute_from.push(SubstituteRef {
            kind: kind.to_owned(),
            name: s(r, "/name")
                .ok_or_else(|| format!("spec.postBuild.substituteFrom[{i}].name: Required value"))?
                .to_owned(),
            optional: r.get("optional").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_flux() {
        let k = json!({"metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"interval": "10m", "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                "path": "./apps", "prune": true, "dependsOn": [{"name": "infrastructure"}]}});
        let s = Spec::read(&k).unwrap();
        assert_eq!(s.interval, Duration::from_secs(600));
        assert_eq!(s.retry_interval, s.interval);
        assert_eq!(s.timeout, s.interval);
        assert_eq!(s.source.namespace, "flux-system");
        assert_eq!(
            s.depends_on,
            vec![("flux-system".to_owned(), "infrastructure".to_owned())]
        );
        assert!(s.deletes_on_finalize());
        let bad = json!({"metadata": {"namespace": "x"}, "spec": {"interval": "10", "sourceRef": {"name": "s"}}});
        assert!(
            Spec::read(&bad)
                .unwrap_err()
                .starts_with("spec.interval: time: missing unit")
        );
    }
}
