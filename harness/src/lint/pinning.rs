//! What a rebuild pulls must be what ran: an image without a tag or on
//! `latest`, or a chart without a version, may bring back other software
//! than the cluster that was lost ran.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Ctx, Finding, Rule, Severity, is_flux};

/// Why an image reference is mutable (`None` when it names a tag other
/// than `latest`, or a digest).
pub(crate) fn mutable(image: &str) -> Option<&'static str> {
    if image.contains('@') {
        return None;
    }
    // The tag follows the last `:` after the last `/` (a registry port is
    // before it).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag (it means `latest`)"),
        Some((_, "latest")) => Some("is on the tag `latest`"),
        Some(_) => None,
    }
}

fn images(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if matches!(
                    k.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) {
                    for c in child.as_array().into_iter().flatten() {
                        if let Some(i) = c.get("image").and_then(Value::as_str) {
                            out.insert(i.to_owned());
                        }
                    }
                }
                images(child, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| images(x, out)),
        _ => {}
    }
}

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (unit, o) in ctx.tree.objects() {
        let mut found = BTreeSet::new();
        images(&o.manifest, &mut found);
        for image in found.iter().filter(|i| !i.is_empty()) {
            if let Some(why) = mutable(image) {
                out.push(ctx.finding(
                    Rule::MutableImage,
                    Severity::Warning,
                    (unit, o),
                    Some(image),
                    format!(
                        "{o}: image {image} {why}: a rebuild pulls whatever the tag points to then, which may not be the software that ran"
                    ),
                    format!("pin {image} to a version tag or a digest (`image@sha256:…`)"),
                ));
            }
        }
        if is_flux(o, "helm") && o.kind() == "HelmRelease" {
            let chart = o.manifest.pointer("/spec/chart/spec");
            let version = chart
                .and_then(|c| c.get("version"))
                .and_then(Value::as_str)
                .map(str::trim);
            if chart.is_some() && matches!(version, None | Some("" | "*")) {
                let name = chart
                    .and_then(|c| c.get("chart"))
                    .and_then(Value::as_str)
                    .unwrap_or("its chart");
                out.push(ctx.finding(
                    Rule::ChartWithoutVersion,
                    Severity::Warning,
                    (unit, o),
                    Some("chart:"),
                    format!(
                        "{o}: chart {name} has no version: a rebuild installs the newest chart published then, not the one that ran"
                    ),
                    "set `spec.chart.spec.version` to a version or a bounded range (`1.4.x`, `>=1.4.0 <1.5.0`)".to_owned(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mutable;

    #[test]
    fn tags_digests_and_ports() {
        assert!(mutable("nginx").is_some());
        assert!(mutable("nginx:latest").is_some());
        assert!(mutable("registry:5000/team/app").is_some());
        assert!(mutable("registry:5000/team/app:1.2").is_none());
        assert!(mutable("ghcr.io/app@sha256:abc").is_none());
        assert!(mutable("ghcr.io/app:6.7.1").is_none());
    }
}
