//! A HelmRelease's `spec.chart` template, as helm-controller handles it
//! (`internal/reconcile/helmchart_template.go`): a `HelmChart` named
//! `<hr-namespace>-<hr-name>` in the source's namespace, server-side
//! applied by `helm-controller`, labelled with the HelmRelease's name and
//! namespace, recorded as `status.helmChart`; deleted with the
//! HelmRelease. The chart the release installs is that HelmChart's
//! artifact, once it is Ready at its generation.

use serde_json::{Map, Value, json};

use super::HelmController;
use super::release::Chart;
use crate::sim::flux::reconcile::Failure;
use crate::sim::flux::runner::{Key, Requeue};
use crate::sim::flux::status::{reasons, types};
use crate::sim::storage::store::{DeleteOptions, ObjectRef, Store, conditions};

/// Label of a templated HelmChart: its HelmRelease's name.
pub const NAME_LABEL: &str = "helm.toolkit.fluxcd.io/name";
/// Label of a templated HelmChart: its HelmRelease's namespace.
pub const NAMESPACE_LABEL: &str = "helm.toolkit.fluxcd.io/namespace";

fn text<'a>(o: &'a Value, p: &str) -> Option<&'a str> {
    o.pointer(p)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The HelmChart of `hr`: (namespace, name).
pub fn chart_key(hr: &Value) -> Key {
    let ns = text(hr, "/metadata/namespace").unwrap_or("default");
    let name = text(hr, "/metadata/name").unwrap_or_default();
    let chart_ns = text(hr, "/spec/chart/spec/sourceRef/namespace").unwrap_or(ns);
    (chart_ns.to_owned(), format!("{ns}-{name}"))
}

/// The HelmChart `hr`'s template describes.
fn desired(hr: &Value) -> Value {
    let (ns, name) = chart_key(hr);
    let t = hr.pointer("/spec/chart").cloned().unwrap_or(Value::Null);
    let mut labels = t
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.insert(
        NAME_LABEL.into(),
        json!(text(hr, "/metadata/name").unwrap_or_default()),
    );
    labels.insert(
        NAMESPACE_LABEL.into(),
        json!(text(hr, "/metadata/namespace").unwrap_or("default")),
    );
    let mut metadata = json!({"name": name, "namespace": ns, "labels": labels});
    if let Some(a) = t.pointer("/metadata/annotations").filter(|a| a.is_object()) {
        metadata["annotations"] = a.clone();
    }
    let mut spec = Map::new();
    spec.insert(
        "chart".into(),
        json!(text(&t, "/spec/chart").unwrap_or_default()),
    );
    spec.insert(
        "version".into(),
        json!(text(&t, "/spec/version").unwrap_or("*")),
    );
    spec.insert(
        "sourceRef".into(),
        json!({"kind": text(&t, "/spec/sourceRef/kind").unwrap_or_default(),
            "name": text(&t, "/spec/sourceRef/name").unwrap_or_default()}),
    );
    let interval = text(&t, "/spec/interval")
        .or_else(|| text(hr, "/spec/interval"))
        .unwrap_or("10m");
    spec.insert("interval".into(), json!(interval));
    spec.insert(
        "reconcileStrategy".into(),
        json!(text(&t, "/spec/reconcileStrategy").unwrap_or("ChartVersion")),
    );
    for f in ["valuesFiles", "ignoreMissingValuesFiles", "verify"] {
        if let Some(v) = t.pointer(&format!("/spec/{f}")).filter(|v| !v.is_null()) {
            spec.insert(f.into(), v.clone());
        }
    }
    json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
        "metadata": metadata, "spec": spec})
}

/// Applies the template and returns the chart once its HelmChart is
/// Ready at its generation with an artifact.
///
/// # Errors
/// `ArtifactFailed` "could not get Source object: …" when the HelmChart
/// cannot be written; `SourceNotReady` "HelmChart '<ns>/<n>' is not
/// ready: …" (retried after the dependency requeue, and at once when the
/// HelmChart changes); `ArtifactFailed` "Could not load chart: …".
pub fn chart(ctl: &HelmController, store: &Store, hr: &Value) -> Result<Chart, Failure> {
    let (ns, name) = chart_key(hr);
    let r = ObjectRef::namespaced(super::super::helm_chart::gvr(), &ns, &name);
    let written = store
        .apply(&r, desired(hr), "helm-controller", true)
        .map_err(|e| {
            let msg = format!(
                "could not get Source object: failed to apply HelmChart '{ns}/{name}': {e}"
            );
            Failure::new(reasons::ARTIFACT_FAILED, msg, Requeue::Backoff)
        })?;
    let retry = Requeue::After(ctl.dependency_requeue);
    let not_ready = |why: &str| {
        let msg = format!("HelmChart '{ns}/{name}' is not ready: {why}");
        Failure::new(super::reconcile::helm_reasons::SOURCE_NOT_READY, msg, retry)
    };
    source_ready(&written).map_err(|why| not_ready(&why))?;
    let tree = text(&written, "/status/artifact/path")
        .and_then(|p| ctl.artifacts.tree(p))
        .filter(|t| t.is_dir())
        .ok_or_else(|| not_ready("does not have an artifact"))?;
    Chart::load(&tree, ".").map_err(|e| {
        Failure::new(
            reasons::ARTIFACT_FAILED,
            format!("Could not load chart: {e}"),
            Requeue::Backoff,
        )
    })
}

/// Whether a chart source (HelmChart, OCIRepository) is Ready at its
/// generation, as helm-controller judges it; else why not.
///
/// # Errors
/// "latest generation of object has not been reconciled", or the Ready
/// condition's message.
pub fn source_ready(source: &Value) -> Result<(), String> {
    if source.pointer("/metadata/generation") != source.pointer("/status/observedGeneration") {
        return Err("latest generation of object has not been reconciled".to_owned());
    }
    if conditions::condition_status(source, types::READY) == Some("True") {
        return Ok(());
    }
    Err(source
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == types::READY))
        .and_then(|c| c["message"].as_str())
        .unwrap_or("does not have an artifact")
        .to_owned())
}

/// True when a chart source's update wakes the HelmReleases that use it:
/// its artifact moved, or it became ready as [`source_ready`] judges it.
/// Ready is written before the reconcile skeleton records
/// `observedGeneration`, so a release that read the source in between was
/// refused ("latest generation of object has not been reconciled") and
/// must be woken by the later write, not left to its next interval.
pub fn source_moved(new: &Value, old: Option<&Value>) -> bool {
    let digest = |o: &Value| o.pointer("/status/artifact/digest").cloned();
    old.is_some_and(|old| {
        digest(old) != digest(new) || (source_ready(new).is_ok() && source_ready(old).is_err())
    })
}

/// The templated HelmChart of `hr`, deleted (with the HelmRelease).
pub fn delete(store: &Store, hr: &Value) {
    let (ns, name) = chart_key(hr);
    let r = ObjectRef::namespaced(super::super::helm_chart::gvr(), &ns, &name);
    let _ = store.delete(&r, &DeleteOptions::default());
}

/// The HelmRelease a HelmChart event concerns, when the chart became
/// ready or its artifact moved.
pub fn release_of(ev: &crate::sim::storage::store::Event) -> Option<Key> {
    if ev.resource != super::super::helm_chart::gvr().group_resource() {
        return None;
    }
    let o = &ev.object;
    if !source_moved(o, ev.old.as_deref()) {
        return None;
    }
    let label = |l: &str| {
        o.pointer(&format!("/metadata/labels/{}", l.replace('/', "~1")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Some((label(NAMESPACE_LABEL)?, label(NAME_LABEL)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_moves_for_its_users_when_it_is_ready_at_its_generation() {
        let chart = |ready: &str, observed: i64, digest: &str| {
            json!({"metadata": {"generation": 2}, "status": {"observedGeneration": observed,
                "artifact": {"digest": digest},
                "conditions": [{"type": "Ready", "status": ready}]}})
        };
        // Ready is written before observedGeneration: a release that read
        // the chart in between was refused, and is woken by the second
        // write.
        let ready_early = chart("True", 1, "sha256:a");
        let observed = chart("True", 2, "sha256:a");
        assert!(source_moved(&observed, Some(&ready_early)));
        assert!(!source_moved(
            &ready_early,
            Some(&chart("Unknown", 1, "sha256:a"))
        ));
        assert!(source_moved(&chart("True", 2, "sha256:b"), Some(&observed)));
        assert!(!source_moved(&observed, Some(&observed)));
        assert!(!source_moved(&observed, None));
    }

    #[test]
    fn the_template_makes_flux_s_helm_chart() {
        let hr = json!({"metadata": {"name": "web", "namespace": "apps"},
            "spec": {"interval": "5m", "chart": {
                "metadata": {"labels": {"team": "a"}},
                "spec": {"chart": "podinfo", "version": "6.x",
                    "sourceRef": {"kind": "HelmRepository", "name": "charts", "namespace": "flux-system"}}}}});
        assert_eq!(chart_key(&hr), ("flux-system".into(), "apps-web".into()));
        let c = desired(&hr);
        assert_eq!(c["metadata"]["labels"]["team"], "a");
        assert_eq!(c["metadata"]["labels"][NAME_LABEL], "web");
        assert_eq!(c["metadata"]["labels"][NAMESPACE_LABEL], "apps");
        assert_eq!(
            c["spec"],
            json!({"chart": "podinfo", "version": "6.x",
                "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                "interval": "5m", "reconcileStrategy": "ChartVersion"})
        );
    }
}
