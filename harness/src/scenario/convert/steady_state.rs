//! `spec.steadyState` → [`SteadyState`]: the timeout, and the checks, which
//! default to what the bootstrap method can report (every Kustomization
//! Ready with Flux, every workload ready in any case).

use std::time::Duration;

use super::names::namespaced_name;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file;
use crate::scenario::model::{Bootstrap, BootstrapMethod, Check, ObjectRef, SteadyState};

pub(super) fn steady_state(
    c: &mut Collector,
    s: Option<&file::SteadyStateSpec>,
    b: &Bootstrap,
) -> SteadyState {
    let timeout = s
        .and_then(|s| s.timeout)
        .map_or(Duration::from_secs(600), |d| d.0);
    let flux = matches!(b.method, BootstrapMethod::Flux(_));
    let checks: Vec<Check> = match s.map(|s| s.checks.as_slice()).unwrap_or_default() {
        [] if flux => vec![Check::Kustomizations(None), Check::Workloads(None)],
        [] => vec![Check::Workloads(None)],
        checks => checks
            .iter()
            .enumerate()
            .map(|(i, spec)| check(c, i, spec, flux))
            .collect(),
    };
    SteadyState { timeout, checks }
}

/// Check `i`; Kustomizations can only be checked when Flux bootstraps.
fn check(c: &mut Collector, i: usize, spec: &file::CheckSpec, flux: bool) -> Check {
    match spec {
        file::CheckSpec::Kustomizations(sel) => {
            if !flux {
                c.field_help(
                    format!("spec.steadyState.checks[{i}].kustomizations"),
                    "checks Flux Kustomizations, but the bootstrap method is direct",
                    "use a `workloads` or `object` check, or `bootstrap.method: flux`",
                );
            }
            Check::Kustomizations(match sel {
                file::Selection::All => None,
                file::Selection::Names(names) => {
                    Some(names.iter().map(|n| namespaced_name(n)).collect())
                }
            })
        }
        file::CheckSpec::Workloads(w) => Check::Workloads(w.namespaces.clone()),
        file::CheckSpec::Object(o) => Check::Object {
            object: ObjectRef {
                api_version: Some(o.api_version.clone()),
                kind: o.kind.clone(),
                namespace: o.namespace.clone(),
                name: o.name.clone(),
            },
            condition: o.condition.clone(),
        },
    }
}
