//! The spec of a `HelmRelease` as the emulated helm-controller reads it,
//! with helm-controller's defaults: release name `[<targetNamespace>-]<name>`
//! (a composed name over 53 characters becomes its first 40, `-` and 12
//! hex of its SHA-256), `timeout` 5m, `maxHistory` 5, release storage in
//! the target namespace.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::options::Options;
use crate::sim::flux::runner::Key;
use crate::sim::flux::spec::{SourceRef, depends_on, dur, s};

/// A `spec.valuesFrom` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesRef {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Its name (in the HelmRelease's namespace).
    pub name: String,
    /// The key holding the values (`values.yaml`).
    pub key: String,
    /// Where the key's value goes (`a.b.c`), or the whole document when
    /// empty.
    pub target_path: String,
    /// A missing object or key is skipped.
    pub optional: bool,
}

/// What the emulated helm-controller reads of a `HelmRelease`.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `spec.interval`.
    pub interval: Duration,
    /// `spec.timeout` (5m): Helm's hooks and the health checks.
    pub timeout: Duration,
    /// The Helm release name.
    pub release_name: String,
    /// `spec.targetNamespace`, else the HelmRelease's: the release's
    /// namespace and its storage namespace.
    pub namespace: String,
    /// `spec.chart.spec.chart`: the chart's path in the artifact (empty
    /// with `chartRef`).
    pub chart: String,
    /// `spec.chart.spec.sourceRef`, or `spec.chartRef`.
    pub source: SourceRef,
    /// `spec.chartRef` (an `OCIRepository` or `HelmChart`), instead of the
    /// `spec.chart` template.
    pub chart_ref: Option<SourceRef>,
    /// `spec.values` (an object; `{}` when absent).
    pub values: Value,
    /// `spec.valuesFrom`.
    pub values_from: Vec<ValuesRef>,
    /// `spec.dependsOn` (other HelmReleases).
    pub depends_on: Vec<Key>,
    /// `spec.install.createNamespace`.
    pub create_namespace: bool,
    /// `spec.maxHistory` (5; 0 keeps all).
    pub max_history: u32,
    /// How the actions run: CRDs, remediation, waits, tests, drift
    /// detection, timeouts.
    pub options: Options,
}

const MAX_RELEASE_NAME: usize = 53;

/// helm-controller's release name: `[<targetNamespace>-]<name>`, shortened
/// as `internal/release/name.go` does when over 53 characters.
pub fn release_name(target_namespace: Option<&str>, name: &str) -> String {
    let composed = match target_namespace {
        Some(ns) => format!("{ns}-{name}"),
        None => name.to_owned(),
    };
    if composed.len() <= MAX_RELEASE_NAME {
        return composed;
    }
    let digest = Sha256::digest(composed.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}", &composed[..40], &hex[..12])
}

impl Spec {
    /// Reads the spec of `obj`.
    ///
    /// # Errors
    /// The field and what is wrong with it (`spec.chart.spec.chart:
    /// Required value`).
    pub fn read(obj: &Value) -> Result<Spec, String> {
        let own_ns = s(obj, "/metadata/namespace").unwrap_or("default");
        let name = s(obj, "/metadata/name").unwrap_or_default();
        let target = s(obj, "/spec/targetNamespace");
        let release_name = match s(obj, "/spec/releaseName") {
            Some(r) => r.to_owned(),
            None => release_name(target, name),
        };
        if release_name.len() > MAX_RELEASE_NAME {
            return Err(format!(
                "spec.releaseName: Too long: may not be more than {MAX_RELEASE_NAME} characters"
            ));
        }
        let values = match obj.pointer("/spec/values") {
            None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err("spec.values: Invalid value: must be an object".into()),
        };
        let timeout = dur(obj, "/spec/timeout")?.unwrap_or(Duration::from_secs(300));
        let set = |p: &str| obj.pointer(p).is_some_and(|v| !v.is_null());
        let chart_ref = match (set("/spec/chart"), set("/spec/chartRef")) {
            (true, true) | (false, false) => {
                return Err("spec: Invalid value: either chart or chartRef must be set".into());
            }
            (false, true) => Some(SourceRef::read_at(obj, "/spec/chartRef")?),
            (true, false) => None,
        };
        Ok(Spec {
            options: Options::read(obj, timeout)?,
            interval: dur(obj, "/spec/interval")?.ok_or("spec.interval: Required value")?,
            timeout,
            release_name,
            namespace: target.unwrap_or(own_ns).to_owned(),
            chart: match chart_ref {
                Some(_) => String::new(),
                None => s(obj, "/spec/chart/spec/chart")
                    .ok_or("spec.chart.spec.chart: Required value")?
                    .to_owned(),
            },
            source: match &chart_ref {
                Some(r) => r.clone(),
                None => SourceRef::read_at(obj, "/spec/chart/spec/sourceRef")?,
            },
            chart_ref,
            values,
            values_from: values_from(obj)?,
            depends_on: depends_on(obj),
            create_namespace: obj
                .pointer("/spec/install/createNamespace")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            max_history: obj
                .pointer("/spec/maxHistory")
                .and_then(Value::as_u64)
                .map_or(5, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }
}

fn values_from(obj: &Value) -> Result<Vec<ValuesRef>, String> {
    let entries = obj
        .pointer("/spec/valuesFrom")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = |f: &str| format!("spec.valuesFrom[{i}].{f}");
            let kind = s(e, "/kind").ok_or_else(|| format!("{}: Required value", field("kind")))?;
            if kind != "ConfigMap" && kind != "Secret" {
                return Err(format!(
                    "{}: Unsupported value: \"{kind}\": supported values: \"ConfigMap\", \"Secret\"",
                    field("kind")
                ));
            }
            Ok(ValuesRef {
                kind: kind.to_owned(),
                name: s(e, "/name")
                    .ok_or_else(|| format!("{}: Required value", field("name")))?
                    .to_owned(),
                key: s(e, "/valuesKey").unwrap_or("values.yaml").to_owned(),
                target_path: s(e, "/targetPath").unwrap_or_default().to_owned(),
                optional: e.get("optional").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn release_names_follow_helm_controller() {
        assert_eq!(release_name(None, "web"), "web");
        assert_eq!(release_name(Some("apps"), "web"), "apps-web");
        let long = release_name(
            Some("a-very-long-target-namespace-name"),
            "and-a-much-longer-release-name",
        );
        assert_eq!(long.len(), 53);
        assert!(long.starts_with("a-very-long-target-namespace-name-and-a-"));
    }

    #[test]
    fn defaults_and_required_fields() {
        let hr = json!({"metadata": {"name": "web", "namespace": "flux-system"},
            "spec": {"interval": "10m", "targetNamespace": "apps",
                "chart": {"spec": {"chart": "./charts/hello", "sourceRef": {"kind": "GitRepository", "name": "repo"}}},
                "valuesFrom": [{"kind": "ConfigMap", "name": "v", "targetPath": "a.b"}]}});
        let spec = Spec::read(&hr).unwrap();
        assert_eq!(spec.release_name, "apps-web");
        assert_eq!(spec.namespace, "apps");
        assert_eq!(spec.timeout, Duration::from_secs(300));
        assert_eq!(spec.source.namespace, "flux-system");
        assert_eq!(spec.values_from[0].key, "values.yaml");
        assert_eq!(spec.values, json!({}));
        let mut bad = hr.clone();
        bad["spec"]["valuesFrom"][0]["kind"] = json!("Bucket");
        assert!(
            Spec::read(&bad)
                .unwrap_err()
                .starts_with("spec.valuesFrom[0].kind: Unsupported value")
        );
        bad["spec"]["chart"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("chart");
        assert_eq!(
            Spec::read(&bad).unwrap_err(),
            "spec.chart.spec.chart: Required value"
        );
        let mut by_ref = hr.clone();
        by_ref["spec"]["chartRef"] = json!({"kind": "OCIRepository", "name": "podinfo"});
        assert_eq!(
            Spec::read(&by_ref).unwrap_err(),
            "spec: Invalid value: either chart or chartRef must be set"
        );
        by_ref["spec"].as_object_mut().unwrap().remove("chart");
        let spec = Spec::read(&by_ref).unwrap();
        let r = spec.chart_ref.unwrap();
        assert_eq!(
            (r.kind.as_str(), r.name.as_str(), r.namespace.as_str()),
            ("OCIRepository", "podinfo", "flux-system")
        );
    }
}
