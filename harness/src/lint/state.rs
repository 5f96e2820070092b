//! Persistent volumes: Git holds their claims, never their data. A
//! rebuild from Git restores an empty volume; the finding asks the
//! recovery-point question.

use serde_json::Value;

use super::{Ctx, Finding, Rule, Severity};

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (unit, o) in ctx.tree.objects() {
        let claims: Vec<String> = match (o.group(), o.kind()) {
            ("", "PersistentVolumeClaim") => vec![o.name().to_owned()],
            ("apps", "StatefulSet") => o
                .manifest
                .pointer("/spec/volumeClaimTemplates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.pointer("/metadata/name")?.as_str())
                .map(|t| format!("{t}-{}-<ordinal>", o.name()))
                .collect(),
            _ => continue,
        };
        for claim in claims {
            let needle = if o.kind() == "StatefulSet" {
                "volumeClaimTemplates"
            } else {
                "kind: PersistentVolumeClaim"
            };
            out.push(ctx.finding(
                Rule::PersistentData,
                Severity::Warning,
                (unit, o),
                Some(needle),
                format!(
                    "{o} keeps data in the volume claim {claim}, which Git does not hold: a rebuild from Git brings back an empty volume. What is the recovery point (RPO) — how much of this data may be lost, and what brings it back?"
                ),
                "back the volume up outside the cluster (Velero, VolumeSnapshots, a database dump to object storage), restore it as a recovery step, and drill that restore".to_owned(),
            ));
        }
    }
}
