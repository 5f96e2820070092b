//! The steps of a HelmRelease reconcile, in helm-controller's order (the
//! order decides which reason a failure reports), after the skeleton's
//! deletion (`helm uninstall`), finalizer and suspension
//! ([`crate::sim::flux::reconcile`]):
//!
//! 1. an unusable spec stalls (`InvalidSpec`);
//! 2. `Reconciling` `Progressing` "Fulfilling prerequisites";
//! 3. `dependsOn` (other HelmReleases) not existing, not reconciled at
//!    their generation or not Ready → `DependencyNotReady` (30 s);
//! 4. the source: the `HelmChart` of the `spec.chart` template
//!    ([`super::chart_template`]), applied, recorded as `status.helmChart`
//!    — or the `OCIRepository`/`HelmChart` of `spec.chartRef`
//!    ([`super::chart_ref`]);
//!    not Ready at its generation, or without artifact → `SourceNotReady`
//!    "HelmChart '<ns>/<name>' is not ready: …"; an artifact without a
//!    usable `Chart.yaml` → `ArtifactFailed` "Could not load chart: …";
//! 5. `values` and `valuesFrom` ([`super::values`]) → `ValuesError`;
//! 6. `lastAttemptedRevision` (the chart version),
//!    `lastAttemptedConfigDigest`, `lastAttemptedGeneration`,
//!    `storageNamespace`; a new chart version or new values reset the
//!    failure counters (`failures`, `installFailures`, `upgradeFailures`);
//! 7. the atomic release ([`super::atomic`]): install, upgrade, test,
//!    remediation (rollback or uninstall) and drift correction as the
//!    state of the release asks, and `Ready` summarized from `Remediated`,
//!    `TestSuccess` and `Released`.
//!
//! Success requeues at `interval`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::actions::Req;
use super::release::{self, Chart};
use super::spec::Spec;
use super::{HelmController, atomic, gvr, values};
use crate::sim::flux::reconcile::{Failure, Pass, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::status::{reasons, types};
use crate::sim::storage::store::{ObjectRef, Store, conditions};

/// helm-controller's own reasons and condition types.
pub use super::reasons as helm_reasons;
use helm_reasons as hr;

/// The steps (see the module docs).
pub async fn reconcile(ctl: &HelmController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let spec = Spec::read(&obj).map_err(|e| Failure::stalled("InvalidSpec", e))?;
    pass.w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        "Fulfilling prerequisites",
    );
    pass.write();
    dependencies(ctl, pass.store(), &spec)?;
    let chart = chart(ctl, pass, &spec)?;
    let values = values::compose(pass.store(), pass.namespace(), &spec).map_err(|e| {
        let retry = Requeue::After(spec.interval);
        Failure::new(hr::VALUES_ERROR, e, retry)
    })?;
    let digest = config_digest(&values);
    let changed = pass.w.get("lastAttemptedRevision").and_then(Value::as_str)
        != Some(chart.version.as_str())
        || pass
            .w
            .get("lastAttemptedConfigDigest")
            .and_then(Value::as_str)
            != Some(digest.as_str());
    if changed {
        for counter in ["failures", "installFailures", "upgradeFailures"] {
            pass.w.unset(counter);
        }
    }
    pass.w.set("lastAttemptedRevision", json!(chart.version));
    pass.w.set("lastAttemptedConfigDigest", json!(digest));
    pass.w
        .set("lastAttemptedGeneration", json!(pass.w.generation));
    pass.w.set("storageNamespace", json!(spec.namespace));
    let helm = release::helm(ctl)
        .map_err(|e| Failure::new(reasons::ARTIFACT_FAILED, e, Requeue::Backoff))?;
    let req = Req {
        spec: &spec,
        chart: &chart,
        values: &values,
        digest: &digest,
        helm: &helm,
    };
    atomic::release(pass, &req).await
}

/// `dependsOn`: every HelmRelease named exists, was reconciled at its
/// generation and is Ready.
fn dependencies(ctl: &HelmController, store: &Store, spec: &Spec) -> Result<(), Failure> {
    for (ns, name) in &spec.depends_on {
        let ready = store
            .get(&ObjectRef::namespaced(gvr(), ns, name))
            .ok()
            .is_some_and(|d| {
                conditions::condition_status(&d, types::READY) == Some("True")
                    && d.pointer("/metadata/generation") == d.pointer("/status/observedGeneration")
            });
        if !ready {
            let msg = format!("dependency '{ns}/{name}' is not ready");
            let requeue = Requeue::After(ctl.dependency_requeue);
            return Err(Failure::new(reasons::DEPENDENCY_NOT_READY, msg, requeue));
        }
    }
    Ok(())
}

/// The chart: the artifact of the HelmChart the `spec.chart` template
/// makes ([`super::chart_template`]), recorded as `status.helmChart`, or
/// of the source `spec.chartRef` names ([`super::chart_ref`]).
fn chart(ctl: &HelmController, pass: &mut Pass<'_>, spec: &Spec) -> Result<Chart, Failure> {
    let obj = pass.obj.clone();
    if let Some(r) = &spec.chart_ref {
        pass.w.unset("helmChart");
        return super::chart_ref::chart(ctl, pass.store(), &obj, r);
    }
    let (ns, name) = super::chart_template::chart_key(&obj);
    pass.w.set("helmChart", json!(format!("{ns}/{name}")));
    super::chart_template::chart(ctl, pass.store(), &obj)
}

/// `sha256:` of the values as key-sorted YAML (helm-controller's config
/// digest).
fn config_digest(values: &Value) -> String {
    // serde_json's maps are sorted (no `preserve_order`), and so is their YAML.
    let yaml = serde_yaml::to_string(values).unwrap_or_default();
    let hex: String = Sha256::digest(yaml.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}
