//! No vacuous steady state: before the disaster, the steady state must
//! cover the source. Every object the source renders has been applied, and
//! the pre-disaster snapshot — what recovery is checked against — holds
//! them. A source that renders nothing, a tooling that applied nothing, or
//! a snapshot that misses applied objects makes the repeat
//! `unrecoverable` with a message that says so.
//!
//! The three counts ([`Coverage`]) are in every report:
//! - *rendered*: the source path rendered as the direct method plans it
//!   ([`plan`]): Flux Kustomizations of the same source followed. With
//!   Flux, those Kustomizations count too (Flux applies them).
//! - *applied*: the direct applier's inventory, or the union of the
//!   Kustomizations' `status.inventory` (Flux's own record of what it
//!   applied; a Kustomization Ready at the revision applied all it
//!   rendered).
//! - *covered*: applied objects the pre-disaster snapshot holds (volatile
//!   kinds such as Pods and Events, which no snapshot compares, excepted).

use std::collections::BTreeSet;

use super::error::{Error, Result};
use super::probe::checks::Entry;
use super::snapshot::{ObjectKey, Snapshot, is_volatile};
use crate::gitops::bootstrap::direct::plan;
use crate::gitops::render::RenderOptions;
use crate::report::tree::Coverage;

/// Most objects named in a message (the report's `reasons` list them all).
const NAMED: usize = 5;

/// How many objects the source at `path` of the checkout `root` renders
/// (see the module docs); `flux` counts the followed Kustomizations.
///
/// # Errors
/// [`Error::NotCovered`] when the path does not render.
pub(super) async fn rendered(root: &std::path::Path, path: &str, flux: bool) -> Result<u32> {
    let units = plan::plan(root, path, &RenderOptions::default())
        .await
        .map_err(|why| Error::NotCovered {
            message: format!("the source path does not render: {why}"),
            reasons: vec![why],
        })?;
    let mut n = plan::object_count(&units);
    if flux {
        n += units.iter().map(|u| u.followed).sum::<usize>();
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The snapshot's key of an applied object.
pub(super) fn key(e: &Entry) -> ObjectKey {
    ObjectKey {
        group: e.kind.group.clone(),
        kind: e.kind.kind.clone(),
        namespace: e.namespace.clone(),
        name: e.name.clone(),
    }
}

/// The cluster-scoped objects among `applied` (the snapshot lists them by
/// name, see [`super::snapshot::collect_with`]).
pub(super) fn cluster_scoped(applied: &BTreeSet<Entry>) -> BTreeSet<ObjectKey> {
    applied
        .iter()
        .filter(|e| e.namespace.is_empty())
        .map(key)
        .filter(|k| !(k.group.is_empty() && k.kind == "Namespace"))
        .collect()
}

/// Counts and judges the coverage of a steady state (see the module
/// docs): the counts, and [`Error::NotCovered`] with every object
/// concerned when the steady state does not cover the source.
pub(super) fn judge(
    rendered: u32,
    applied: &BTreeSet<Entry>,
    before: &Snapshot,
    source: &str,
) -> (Coverage, Result<()>) {
    let missing: Vec<String> = applied
        .iter()
        .map(key)
        .filter(|k| !is_volatile(k) && !before.objects.contains_key(k))
        .map(|k| format!("{k}: applied, but not in the pre-disaster snapshot"))
        .collect();
    let covered = applied
        .iter()
        .filter(|e| before.objects.contains_key(&key(e)))
        .count();
    let coverage = Coverage {
        rendered,
        applied: u32::try_from(applied.len()).unwrap_or(u32::MAX),
        covered: u32::try_from(covered).unwrap_or(u32::MAX),
    };
    let fail = |message: String, reasons: Vec<String>| {
        let e = Error::NotCovered {
            message: format!("{message} ({})", coverage.describe()),
            reasons,
        };
        (coverage, Err(e))
    };
    if rendered == 0 {
        return fail(
            format!(
                "{source} renders no objects; point spec.source.path at the folder that holds the manifests"
            ),
            Vec::new(),
        );
    }
    if applied.is_empty() {
        return fail(
            format!("nothing of {source} was applied, so no check could cover it"),
            Vec::new(),
        );
    }
    if !missing.is_empty() {
        let named: Vec<&str> = missing
            .iter()
            .take(NAMED)
            .map(|m| m.split(':').next().unwrap_or_default())
            .collect();
        let more = missing.len().saturating_sub(NAMED);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        return fail(
            format!(
                "{} applied object(s) are not in the pre-disaster snapshot, so recovery could not be checked for them: {}{more}",
                missing.len(),
                named.join(", ")
            ),
            missing,
        );
    }
    if covered == 0 {
        return fail(
            "the steady state covers none of the source's objects".to_owned(),
            Vec::new(),
        );
    }
    (coverage, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::probe::observer::GroupKind;
    use serde_json::json;

    fn entry(group: &str, kind: &str, ns: &str, name: &str) -> Entry {
        Entry {
            kind: GroupKind::new(group, kind),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_source_that_renders_nothing_is_not_a_steady_state() {
        let e = judge(0, &BTreeSet::new(), &Snapshot::default(), "`./empty`")
            .1
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`./empty` renders no objects"), "{text}");
        assert!(text.contains("0 rendered, 0 applied, 0 covered"), "{text}");
    }

    #[test]
    fn every_applied_object_must_be_in_the_snapshot() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}});
        let before = Snapshot::from_objects([&cm]);
        let applied: BTreeSet<Entry> = [
            entry("", "ConfigMap", "default", "a"),
            entry("rbac.authorization.k8s.io", "ClusterRole", "", "reader"),
            entry("", "Pod", "default", "bare"),
        ]
        .into();
        let (counted, judged) = judge(3, &applied, &before, "`./`");
        assert_eq!((counted.applied, counted.covered), (3, 1));
        let Err(Error::NotCovered { message, reasons }) = judged else {
            panic!("expected NotCovered");
        };
        assert!(message.contains("ClusterRole/reader"), "{message}");
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        let ok: BTreeSet<Entry> = [entry("", "ConfigMap", "default", "a")].into();
        let (counted, judged) = judge(1, &ok, &before, "`./`");
        assert!(judged.is_ok());
        assert_eq!(
            counted,
            Coverage {
                rendered: 1,
                applied: 1,
                covered: 1
            }
        );
        assert_eq!(
            cluster_scoped(&applied),
            [key(&entry(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                "",
                "reader"
            ))]
            .into()
        );
    }
}
