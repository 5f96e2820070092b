//! The parts of a `Terraform` object's spec (`infra.contrib.fluxcd.io/v1alpha2`)
//! the emulation reads, with the real controller's defaults. Also what the
//! `infra-drift` fault reads to run the object's module by hand.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::sim::flux::spec::{SourceRef, depends_on, dur, s};

/// `spec.writeOutputsToSecret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutputs {
    /// The Secret's name.
    pub name: String,
    /// The outputs to write (empty: all).
    pub outputs: Vec<String>,
    /// Labels of the Secret.
    pub labels: BTreeMap<String, String>,
    /// Annotations of the Secret.
    pub annotations: BTreeMap<String, String>,
}

/// What a reconcile needs from `spec`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// `sourceRef`.
    pub source: SourceRef,
    /// `path` (the module in the artifact; empty for the root).
    pub path: String,
    /// `interval`.
    pub interval: Duration,
    /// `retryInterval` (default 15 s).
    pub retry_interval: Duration,
    /// `approvePlan`: `auto`, a plan id (or its prefix), `disable` or empty.
    pub approve_plan: String,
    /// `force`.
    pub force: bool,
    /// `vars` (`value` only) by name.
    pub vars: BTreeMap<String, Value>,
    /// `writeOutputsToSecret`.
    pub write_outputs: Option<WriteOutputs>,
    /// `dependsOn` (other Terraform objects) as (namespace, name).
    pub depends_on: Vec<(String, String)>,
    /// `workspace` (`default`).
    pub workspace: String,
    /// `backendConfig.secretSuffix` (default: the object's name).
    pub secret_suffix: String,
    /// `disableDriftDetection`.
    pub disable_drift_detection: bool,
    /// `destroyResourcesOnDeletion`.
    pub destroy_on_deletion: bool,
}

fn flag(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

fn strings(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl Spec {
    /// Reads the spec of a `Terraform` object.
    ///
    /// # Errors
    /// A message naming the field: a malformed duration, a missing
    /// `sourceRef`, or a variable source the emulation does not support
    /// (`valueFrom`, `varsFrom`).
    pub fn read(obj: &Value) -> Result<Spec, String> {
        let own_name = s(obj, "/metadata/name").unwrap_or_default();
        let interval = dur(obj, "/spec/interval")?.ok_or("spec.interval: Required value")?;
        let source = SourceRef::read(obj)?;
        let mut vars = BTreeMap::new();
        let list = obj
            .pointer("/spec/vars")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, v) in list.iter().enumerate() {
            let name = s(v, "/name").ok_or(format!("spec.vars[{i}].name: Required value"))?;
            if v.get("valueFrom").is_some() {
                return Err(format!(
                    "spec.vars[{i}].valueFrom: not supported by gameday's emulated Terraform controller; give `value`"
                ));
            }
            vars.insert(
                name.to_owned(),
                v.get("value").cloned().unwrap_or(Value::Null),
            );
        }
        if obj
            .pointer("/spec/varsFrom")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Err("spec.varsFrom: not supported by gameday's emulated Terraform controller; give `vars`".into());
        }
        let write_outputs = obj
            .pointer("/spec/writeOutputsToSecret")
            .map(|w| WriteOutputs {
                name: s(w, "/name").unwrap_or_default().to_owned(),
                outputs: w
                    .get("outputs")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                labels: strings(w.get("labels")),
                annotations: strings(w.get("annotations")),
            });
        if write_outputs.as_ref().is_some_and(|w| w.name.is_empty()) {
            return Err("spec.writeOutputsToSecret.name: Required value".into());
        }
        Ok(Spec {
            source,
            path: s(obj, "/spec/path").unwrap_or("").to_owned(),
            interval,
            retry_interval: dur(obj, "/spec/retryInterval")?.unwrap_or(Duration::from_secs(15)),
            approve_plan: s(obj, "/spec/approvePlan").unwrap_or("").to_owned(),
            force: flag(obj, "/spec/force"),
            vars,
            write_outputs,
            depends_on: depends_on(obj),
            workspace: s(obj, "/spec/workspace").unwrap_or("default").to_owned(),
            secret_suffix: s(obj, "/spec/backendConfig/secretSuffix")
                .unwrap_or(own_name)
                .to_owned(),
            disable_drift_detection: flag(obj, "/spec/disableDriftDetection"),
            destroy_on_deletion: flag(obj, "/spec/destroyResourcesOnDeletion"),
        })
    }

    /// `approvePlan: auto` or `force`: every plan is applied.
    pub fn auto_apply(&self) -> bool {
        self.force || self.approve_plan == "auto"
    }

    /// The module's folder relative to the artifact's root.
    pub fn module_path(&self) -> &str {
        self.path.trim_start_matches("./").trim_start_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_the_controller() {
        let t = json!({"metadata": {"name": "network", "namespace": "flux-system"},
            "spec": {"interval": "1m", "approvePlan": "auto", "path": "./terraform/network",
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                "vars": [{"name": "cidr", "value": "10.0.0.0/16"}, {"name": "n", "value": 3}],
                "writeOutputsToSecret": {"name": "network-outputs", "outputs": ["cidr"]}}});
        let s = Spec::read(&t).unwrap();
        assert_eq!(s.interval, Duration::from_secs(60));
        assert_eq!(s.retry_interval, Duration::from_secs(15));
        assert!(s.auto_apply());
        assert_eq!(s.module_path(), "terraform/network");
        assert_eq!(s.vars["n"], json!(3));
        assert_eq!(s.workspace, "default");
        assert_eq!(s.secret_suffix, "network");
        assert_eq!(s.source.namespace, "flux-system");
        assert_eq!(s.write_outputs.unwrap().outputs, ["cidr"]);
    }

    #[test]
    fn unsupported_variable_sources_are_named() {
        let t = json!({"metadata": {"name": "x", "namespace": "ns"},
            "spec": {"interval": "1m", "sourceRef": {"name": "s"},
                "vars": [{"name": "a", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}});
        assert!(
            Spec::read(&t)
                .unwrap_err()
                .starts_with("spec.vars[0].valueFrom: not supported")
        );
        let t = json!({"metadata": {"name": "x"}, "spec": {"sourceRef": {"name": "s"}}});
        assert_eq!(Spec::read(&t).unwrap_err(), "spec.interval: Required value");
    }
}
