//! Flux objects that make a rebuild unverified or different: a
//! Kustomization that does not prune keeps what Git removed, one that
//! neither waits nor health-checks is Ready before its workloads are, and
//! a HelmRelease without install remediation stays failed after a failed
//! install.

use serde_json::Value;

use super::{Ctx, Finding, Rule, Severity, is_flux};

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (unit, o) in ctx.tree.objects() {
        let spec = o.manifest.get("spec").cloned().unwrap_or(Value::Null);
        if is_flux(o, "kustomize") && o.kind() == "Kustomization" {
            if spec.get("prune").and_then(Value::as_bool) != Some(true) {
                out.push(ctx.finding(
                    Rule::NoPrune,
                    Severity::Warning,
                    (unit, o),
                    Some("prune:"),
                    format!(
                        "{o} does not prune: what was removed from Git stays in the running cluster, so a cluster rebuilt from Git differs from the one it replaces"
                    ),
                    "set `spec.prune: true`".to_owned(),
                ));
            }
            let waits = spec.get("wait").and_then(Value::as_bool) == Some(true);
            let non_empty = |k: &str| {
                spec.get(k)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            };
            if !waits && !non_empty("healthChecks") && !non_empty("healthCheckExprs") {
                out.push(ctx.finding(
                    Rule::NoHealthCheck,
                    Severity::Warning,
                    (unit, o),
                    Some("kind: Kustomization"),
                    format!(
                        "{o} neither waits nor health-checks: it is Ready as soon as its objects are applied, so a rebuild is not verified and dependents start before it works"
                    ),
                    "set `spec.wait: true` (or list `spec.healthChecks`) and a `spec.timeout`".to_owned(),
                ));
            }
        }
        if is_flux(o, "helm") && o.kind() == "HelmRelease" {
            let retries = spec
                .pointer("/install/remediation/retries")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if retries == 0 {
                out.push(ctx.finding(
                    Rule::NoInstallRemediation,
                    Severity::Warning,
                    (unit, o),
                    Some("kind: HelmRelease"),
                    format!(
                        "{o} has no install remediation: on a rebuild, one failed install (a slow image pull, a webhook not ready yet) leaves the release failed until someone acts"
                    ),
                    "set `spec.install.remediation.retries` (e.g. 3), and `spec.upgrade.remediation` likewise".to_owned(),
                ));
            }
        }
    }
}
